"""Staff analytics pages and the public open-data downloads."""

from django.urls import path, re_path

from analytics.web import views

app_name = "analytics"

urlpatterns = [
    path("staff/analytics/", views.scorecard_page, name="scorecard"),
    path("staff/analytics/departments/<slug:code>", views.department_view, name="department"),
    path("staff/analytics/teams/<int:pk>", views.team_page, name="team"),
    path("staff/analytics/hotspots", views.hotspots_page, name="hotspots"),
    re_path(
        r"^open-data/requests\.(?P<fmt>csv|geojson)$",
        views.open_data_requests,
        name="open-data-requests",
    ),
    re_path(
        r"^open-data/services\.(?P<fmt>csv|json)$",
        views.open_data_services,
        name="open-data-services",
    ),
]
