"""The residents' pages: report, track, and the JSON the scripts use."""

from django.urls import path

from backend.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("report", views.report, name="report"),
    path("report/nearby", views.nearby, name="nearby"),
    path("track", views.track_lookup, name="track-lookup"),
    path("track/<str:public_id>", views.track, name="track"),
    path("track/<str:public_id>/live", views.track_json, name="track-live"),
]
