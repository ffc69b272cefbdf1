"""city311 backend: the Django project (settings, urls, asgi) and the core domain —
the service catalog, service requests and their photos, and the one intake pipeline."""

from backend.celery import app as celery_app

__all__ = ("celery_app",)
