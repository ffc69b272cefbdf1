from django.urls import path

from mobile_api import views

app_name = "mobile_api"

urlpatterns = [
    path("services", views.ServiceListView.as_view(), name="services"),
    path("requests", views.RequestCreateView.as_view(), name="requests"),
    path("requests/<str:public_id>", views.RequestDetailView.as_view(), name="request-detail"),
]
