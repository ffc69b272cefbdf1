from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        # The live counters hear of every request event (the request domain's hook).
        from analytics.live import analytics_event_recorded
        from backend.service_requests import hooks

        hooks.event_recorded_register(analytics_event_recorded)
