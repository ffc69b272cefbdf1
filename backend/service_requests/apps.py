from django.apps import AppConfig


class ServiceRequestsConfig(AppConfig):
    name = "backend.service_requests"
    label = "service_requests"
    verbose_name = "Service requests"
