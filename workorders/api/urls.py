"""The staff and crew JSON API for work orders, under /api/v1/."""

from django.urls import path

from workorders.api import views

app_name = "workorders_api"

urlpatterns = [
    path("workorders", views.WorkOrderListView.as_view(), name="list"),
    path("workorders/<int:pk>", views.WorkOrderDetailView.as_view(), name="detail"),
    path("workorders/<int:pk>/assign", views.WorkOrderAssignView.as_view(), name="assign"),
    path("workorders/<int:pk>/start", views.WorkOrderStartView.as_view(), name="start"),
    path("workorders/<int:pk>/hold", views.WorkOrderHoldView.as_view(), name="hold"),
    path("workorders/<int:pk>/resume", views.WorkOrderResumeView.as_view(), name="resume"),
    path(
        "workorders/<int:pk>/proof-photos",
        views.WorkOrderProofPhotosView.as_view(),
        name="proof-photos",
    ),
    path("workorders/<int:pk>/complete", views.WorkOrderCompleteView.as_view(), name="complete"),
    path("workorders/<int:pk>/cancel", views.WorkOrderCancelView.as_view(), name="cancel"),
    path("workorders/<int:pk>/review", views.WorkOrderReviewView.as_view(), name="review"),
    path(
        "requests/<str:public_id>/change-type",
        views.RequestChangeTypeView.as_view(),
        name="request-change-type",
    ),
    path("requests/<str:public_id>/merge", views.RequestMergeView.as_view(), name="request-merge"),
    path("feedback/<str:token>", views.FeedbackView.as_view(), name="feedback"),
]
