from django.apps import AppConfig


class CrewAppConfig(AppConfig):
    name = "workorders.crewapp"
    label = "crewapp"
    verbose_name = "Crew app"
