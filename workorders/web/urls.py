"""Server-rendered pages: the supervisor console (/staff/workorders/) and resident feedback."""

from django.urls import path

from workorders.web import feedback, moderation, views

app_name = "workorders"

urlpatterns = [
    path("staff/workorders/", views.console_queue, name="console-queue"),
    path("staff/workorders/review", views.console_review, name="console-review"),
    path("staff/workorders/map.json", views.console_map_json, name="console-map"),
    path("staff/workorders/imported", views.console_imported, name="console-imported"),
    path(
        "staff/workorders/imported/<str:public_id>/adopt",
        views.console_adopt,
        name="console-adopt",
    ),
    path("staff/workorders/<int:pk>", views.console_detail, name="console-detail"),
    path("staff/workorders/<int:pk>/<slug:action>", views.console_action, name="console-action"),
    path(
        "staff/workorders/<int:pk>/moderation/<slug:action>",
        moderation.console_moderate,
        name="console-moderate",
    ),
    path("feedback/<str:token>", feedback.feedback_page, name="feedback"),
]
