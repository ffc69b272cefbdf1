"""The mobile API's views: thin, one per operation; the work is in services and selectors,
who may see what in the access functions, and every refusal is answered by the JSON APIs'
exception handler (``backend.api_errors``)."""

from mobile_api.views.accounts import DeviceRegisterView, LoginView, SignupView
from mobile_api.views.banner import SiteBannerView
from mobile_api.views.crew import (
    CrewCompleteView,
    CrewHoldView,
    CrewNoteView,
    CrewResumeView,
    CrewStartView,
    CrewWorkOrderDetailView,
    CrewWorkOrderListView,
)
from mobile_api.views.edit import RequestPhotosAddView
from mobile_api.views.push import VapidPublicKeyView, WebPushSubscriptionView
from mobile_api.views.residents import (
    MyRequestListView,
    RequestCreateView,
    RequestDetailView,
    RequestFeedbackView,
    RequestFollowView,
    RequestNearbyView,
    RequestTimelineView,
    ServiceListView,
)
from mobile_api.views.support import RequestSupportView

__all__ = [
    "CrewCompleteView",
    "CrewHoldView",
    "CrewNoteView",
    "CrewResumeView",
    "CrewStartView",
    "CrewWorkOrderDetailView",
    "CrewWorkOrderListView",
    "DeviceRegisterView",
    "LoginView",
    "MyRequestListView",
    "RequestCreateView",
    "RequestDetailView",
    "RequestFeedbackView",
    "RequestFollowView",
    "RequestNearbyView",
    "RequestPhotosAddView",
    "RequestSupportView",
    "RequestTimelineView",
    "ServiceListView",
    "SignupView",
    "SiteBannerView",
    "VapidPublicKeyView",
    "WebPushSubscriptionView",
]
