from django.urls import path

from chatbot import gateway_views, views

app_name = "chatbot"

urlpatterns = [
    path("chat/", views.ChatView.as_view(), name="chat"),
    path("chat/hours", views.ChatHoursView.as_view(), name="chat-hours"),
    path("chat/photos", views.ChatPhotoView.as_view(), name="chat-photos"),
    path("chat/twilio", gateway_views.TwilioWebhookView.as_view(), name="chat-twilio"),
    path("chat/whatsapp", gateway_views.WhatsAppWebhookView.as_view(), name="chat-whatsapp"),
]
