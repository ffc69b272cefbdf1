"""The alerts' pages and the public feeds."""

from django.urls import path

from backend.alerts import feeds, views

app_name = "alerts"

urlpatterns = [
    path("alerts/subscribe", views.subscribe, name="subscribe"),
    path("alerts/confirm/<str:token>", views.confirm, name="confirm"),
    path("alerts/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("alerts/manage/<str:token>", views.manage, name="manage"),
    path("me/alerts/<int:subscription_id>/delete", views.me_delete, name="me-delete"),
    path("me/alerts/<int:subscription_id>/frequency", views.me_frequency, name="me-frequency"),
    path("feeds/requests.atom", feeds.requests_feed, name="feed"),
]
