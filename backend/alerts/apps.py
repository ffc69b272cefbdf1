from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "backend.alerts"
    label = "alerts"
    verbose_name = "Area alerts"

    def ready(self) -> None:
        # New requests and their public updates are matched after the change commits; the
        # retention run deletes what alerts keep of an erased account and stale sign-ups.
        from backend.alerts import services
        from backend.service_requests import hooks

        hooks.event_recorded_register(services.alerts_event_recorded)
        hooks.account_erase_register(services.alerts_account_erase)
        hooks.retention_sweep_register(services.alerts_unconfirmed_purge)
