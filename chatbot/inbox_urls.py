"""The agent inbox's pages (chatbot/inbox.py), in the staff console."""

from django.urls import path

from chatbot import inbox

app_name = "chatbot-inbox"

urlpatterns = [
    path("staff/chat/", inbox.inbox, name="inbox"),
    path("staff/chat/<int:pk>", inbox.inbox_detail, name="detail"),
    path("staff/chat/<int:pk>/answer", inbox.inbox_answer, name="answer"),
    path("staff/chat/<int:pk>/close", inbox.inbox_close, name="close"),
]
