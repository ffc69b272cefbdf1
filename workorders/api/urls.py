"""The staff and crew JSON API for work orders, under /api/v1/."""

from django.urls import path

from backend.routes import action_paths
from workorders.api import views

app_name = "workorders_api"

urlpatterns = [
    path("workorders", views.WorkOrderListView.as_view(), name="list"),
    path("workorders/<int:pk>", views.WorkOrderDetailView.as_view(), name="detail"),
    # The actions on one work order, each named after its action.
    *action_paths(
        "workorders/<int:pk>",
        {
            "assign": views.WorkOrderAssignView,
            "start": views.WorkOrderStartView,
            "hold": views.WorkOrderHoldView,
            "resume": views.WorkOrderResumeView,
            "proof-photos": views.WorkOrderProofPhotosView,
            "complete": views.WorkOrderCompleteView,
            "cancel": views.WorkOrderCancelView,
            "review": views.WorkOrderReviewView,
        },
    ),
    path(
        "requests/<str:public_id>/change-type",
        views.RequestChangeTypeView.as_view(),
        name="request-change-type",
    ),
    path("requests/<str:public_id>/merge", views.RequestMergeView.as_view(), name="request-merge"),
    path("feedback/<str:token>", views.FeedbackView.as_view(), name="feedback"),
]
