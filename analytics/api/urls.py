"""The staff analytics API, under /api/v1/analytics/."""

from django.urls import path

from analytics.api import views

app_name = "analytics_api"

urlpatterns = [
    path("scorecard", views.ScorecardView.as_view(), name="scorecard"),
    path("departments/<slug:code>", views.DepartmentView.as_view(), name="department"),
    path(
        "departments/<slug:code>/overdue",
        views.DepartmentOverdueView.as_view(),
        name="department-overdue",
    ),
    path("metrics", views.MetricsView.as_view(), name="metrics"),
    path("backlog", views.BacklogView.as_view(), name="backlog"),
    path("equity", views.EquityView.as_view(), name="equity"),
    path("hotspots", views.HotspotsView.as_view(), name="hotspots"),
    path("satisfaction", views.SatisfactionView.as_view(), name="satisfaction"),
    path("teams/<int:pk>", views.TeamView.as_view(), name="team"),
    path("live", views.LiveView.as_view(), name="live"),
]
