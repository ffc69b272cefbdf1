"""The residents' pages: report, track, and the JSON the scripts use."""

from django.urls import path

from backend.web import edit, installable, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("report", views.report, name="report"),
    path("report/nearby", views.nearby, name="nearby"),
    path("track", views.track_lookup, name="track-lookup"),
    path("track/<str:public_id>", views.track, name="track"),
    path("track/<str:public_id>/live", views.track_json, name="track-live"),
    path("track/<str:public_id>/edit", edit.track_edit, name="track-edit"),
    # The installable app: served from the root (the worker's scope is where its script is).
    path("manifest.webmanifest", installable.manifest, name="manifest"),
    path("sw.js", installable.service_worker, name="service-worker"),
    path("offline", installable.offline, name="offline"),
]
