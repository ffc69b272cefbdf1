from django.urls import path

from mobile_api import views

app_name = "mobile_api"

urlpatterns = [
    path("services", views.ServiceListView.as_view(), name="services"),
    path("accounts/signup", views.SignupView.as_view(), name="signup"),
    path("accounts/login", views.LoginView.as_view(), name="login"),
    path("devices", views.DeviceRegisterView.as_view(), name="devices"),
    path("push/vapid-public-key", views.VapidPublicKeyView.as_view(), name="push-vapid-public-key"),
    path("push/subscriptions", views.WebPushSubscriptionView.as_view(), name="push-subscriptions"),
    path("me/requests", views.MyRequestListView.as_view(), name="my-requests"),
    path("requests", views.RequestCreateView.as_view(), name="requests"),
    # Before requests/<public_id>: "nearby" is not a request id.
    path("requests/nearby", views.RequestNearbyView.as_view(), name="requests-nearby"),
    path("requests/<str:public_id>", views.RequestDetailView.as_view(), name="request-detail"),
    path(
        "requests/<str:public_id>/timeline",
        views.RequestTimelineView.as_view(),
        name="request-timeline",
    ),
    path(
        "requests/<str:public_id>/follow", views.RequestFollowView.as_view(), name="request-follow"
    ),
    path(
        "requests/<str:public_id>/feedback",
        views.RequestFeedbackView.as_view(),
        name="request-feedback",
    ),
    path("crew/workorders", views.CrewWorkOrderListView.as_view(), name="crew-workorders"),
    path(
        "crew/workorders/<str:pk>",
        views.CrewWorkOrderDetailView.as_view(),
        name="crew-workorder-detail",
    ),
    path("crew/workorders/<str:pk>/start", views.CrewStartView.as_view(), name="crew-start"),
    path("crew/workorders/<str:pk>/hold", views.CrewHoldView.as_view(), name="crew-hold"),
    path(
        "crew/workorders/<str:pk>/complete", views.CrewCompleteView.as_view(), name="crew-complete"
    ),
    path("crew/workorders/<str:pk>/resume", views.CrewResumeView.as_view(), name="crew-resume"),
    path("crew/workorders/<str:pk>/note", views.CrewNoteView.as_view(), name="crew-note"),
]
