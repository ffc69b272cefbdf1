"""The crew app (/crew/): the page, its manifest, its service worker (served from /crew/ so
that its scope is /crew/) and a fresh CSRF token for sending queued actions."""

from django.urls import path

from workorders.crewapp import views

app_name = "crewapp"

urlpatterns = [
    path("", views.app, name="app"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("csrf", views.csrf, name="csrf"),
]
