from django.urls import path

from backend.routes import action_paths
from mobile_api import views

app_name = "mobile_api"

urlpatterns = [
    path("services", views.ServiceListView.as_view(), name="services"),
    path("banner", views.SiteBannerView.as_view(), name="banner"),
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
    *action_paths(
        "requests/<str:public_id>",
        {
            "timeline": views.RequestTimelineView,
            "follow": views.RequestFollowView,
            "support": views.RequestSupportView,
            "photos": views.RequestPhotosAddView,
            "feedback": views.RequestFeedbackView,
        },
        name="request-{}",
    ),
    path("crew/workorders", views.CrewWorkOrderListView.as_view(), name="crew-workorders"),
    path(
        "crew/workorders/<str:pk>",
        views.CrewWorkOrderDetailView.as_view(),
        name="crew-workorder-detail",
    ),
    *action_paths(
        "crew/workorders/<str:pk>",
        {
            "start": views.CrewStartView,
            "hold": views.CrewHoldView,
            "complete": views.CrewCompleteView,
            "resume": views.CrewResumeView,
            "note": views.CrewNoteView,
        },
        name="crew-{}",
    ),
]
