from django.urls import path

from bench.baseline import views

app_name = "bench_baseline"

urlpatterns = [
    path("v1/rows", views.RowCreateView.as_view(), name="rows"),
]
