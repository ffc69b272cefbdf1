"""Staff analytics pages and the public open-data downloads."""

from django.urls import include, path, re_path

from analytics.web import views

app_name = "analytics"

urlpatterns = [
    path(
        "staff/analytics/",
        include(
            [
                path("", views.scorecard_page, name="scorecard"),
                path("departments/<slug:code>", views.department_view, name="department"),
                path("teams/<int:pk>", views.team_page, name="team"),
                path("hotspots", views.hotspots_page, name="hotspots"),
            ]
        ),
    ),
    # The public downloads: /open-data/<what>.<format>.
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
