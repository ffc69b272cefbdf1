"""The staff analytics API, under /api/v1/analytics/."""

from django.urls import path

from analytics.api import views

app_name = "analytics_api"

# (route, view, name): one read each.
ROUTES: tuple[tuple[str, type[views.AnalyticsView], str], ...] = (
    ("scorecard", views.ScorecardView, "scorecard"),
    ("departments/<slug:code>", views.DepartmentView, "department"),
    ("departments/<slug:code>/overdue", views.DepartmentOverdueView, "department-overdue"),
    ("metrics", views.MetricsView, "metrics"),
    ("backlog", views.BacklogView, "backlog"),
    ("equity", views.EquityView, "equity"),
    ("hotspots", views.HotspotsView, "hotspots"),
    ("satisfaction", views.SatisfactionView, "satisfaction"),
    ("teams/<int:pk>", views.TeamView, "team"),
    ("live", views.LiveView, "live"),
)
urlpatterns = [path(route, view.as_view(), name=name) for route, view, name in ROUTES]
