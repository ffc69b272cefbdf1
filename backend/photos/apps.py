from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "backend.photos"
    label = "photos"
    verbose_name = "Photos"
