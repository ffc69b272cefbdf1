from django.urls import path

from chatbot import views

app_name = "chatbot"

urlpatterns = [
    path("chat/", views.ChatView.as_view(), name="chat"),
    path("chat/photos", views.ChatPhotoView.as_view(), name="chat-photos"),
]
