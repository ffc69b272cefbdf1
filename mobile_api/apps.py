from django.apps import AppConfig


class MobileApiConfig(AppConfig):
    name = "mobile_api"
    verbose_name = "Mobile API"

    def ready(self) -> None:
        # Status messages reach the residents' phones and browsers (the request domain's hook).
        from backend.service_requests import hooks
        from mobile_api.status_pushes import status_pushes

        hooks.status_pushes_register(status_pushes)
        # The retention run erases what the app keeps of a reporter and of an account.
        from mobile_api import retention

        hooks.contact_erase_register(retention.retention_contact_erase)
        hooks.accounts_active_register(retention.retention_accounts_active)
        hooks.account_erase_register(retention.retention_account_erase)
        # Area alerts reach a signed-in resident's phones and browsers (the alerts' hook).
        from backend.alerts import hooks as alert_hooks
        from mobile_api.alert_pushes import alert_pushes

        alert_hooks.alert_pushes_register(alert_pushes)
