from django.apps import AppConfig


class MobileApiConfig(AppConfig):
    name = "mobile_api"
    verbose_name = "Mobile API"

    def ready(self) -> None:
        # Status messages reach the residents' phones and browsers (the request domain's hook).
        from backend.service_requests import hooks
        from mobile_api.status_pushes import status_pushes

        hooks.status_pushes_register(status_pushes)
