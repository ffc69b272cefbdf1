"""Django's admin app with city311's admin site (``admin_site.City311AdminSite``: the log-in
throttled). Apart from ``admin_site`` because INSTALLED_APPS imports it before the models."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "backend.accounts.admin_site.City311AdminSite"
