"""The conversation log (append-only: messages are only ever added) and the photos the
widget uploads before the request they belong to exists."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Conversation(models.Model):
    """One conversation with the assistant. ``public_id`` is the unguessable id clients hold
    (and Rasa's sender id); a signed-in resident's conversation is theirs alone."""

    public_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    language = models.CharField(max_length=8)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_conversations",
    )
    source = models.CharField(max_length=16, help_text="websocket (the widget) or api")

    def __str__(self) -> str:
        return self.public_id


class Direction(models.TextChoices):
    IN = "in", "From the resident"
    OUT = "out", "From the assistant"


class ChatMessage(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    at = models.DateTimeField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8)
    buttons = models.JSONField(default=list, blank=True)
    # What else came along: a photo reference, "location shared" (never the coordinates),
    # "assistant unavailable", the request filed or followed.
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["conversation", "at"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.at:%Y-%m-%d %H:%M:%S}"


class ChatPhoto(models.Model):
    """A photo uploaded in a conversation; attached to the request the assistant files in
    that conversation (``chatbot.services.chat_filed_record``). The raw file waits in the
    private upload folder, like every raw upload."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="photos")
    reference = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    raw_path = models.CharField(max_length=255)
    service_request = models.ForeignKey(
        "service_requests.ServiceRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return self.reference


# --- Messaging gateways (SMS through Twilio, WhatsApp through Meta's Cloud API): chatbot/gateway.py


class GatewayChannel(models.TextChoices):
    SMS = "sms", "SMS (Twilio)"
    WHATSAPP = "whatsapp", "WhatsApp"


class GatewayContact(models.Model):
    """A resident's phone number on a gateway, known here only by its keyed hash
    (``chatbot.gateway.address_key``): never the number in clear. Holds the conversation it
    is in, when it last wrote (WhatsApp's 24-hour window) and whether it opted out (STOP)."""

    channel = models.CharField(max_length=10, choices=GatewayChannel.choices)
    address_key = models.CharField(max_length=64)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address_key"], name="chatbot_gateway_contact_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.address_key[:12]}"


class GatewayInbound(models.Model):
    """A gateway message taken in, by the gateway's id (Twilio's MessageSid, WhatsApp's
    message id): a webhook replayed with the same id is processed once."""

    channel = models.CharField(max_length=10, choices=GatewayChannel.choices)
    message_id = models.CharField(max_length=128)
    received_at = models.DateTimeField()
    contact = models.ForeignKey(GatewayContact, on_delete=models.CASCADE, related_name="+")
    # The resident's message in the log, once relayed; the replies logged after it are what
    # a replayed webhook is answered.
    chat_message = models.ForeignKey(
        ChatMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "message_id"], name="chatbot_gateway_inbound_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.message_id}"


class GatewayRequest(models.Model):
    """A request the assistant filed in a gateway's conversation: its status messages go back
    on that channel, to the number kept in the request's ``contact_phone``."""

    service_request = models.OneToOneField(
        "service_requests.ServiceRequest", on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(GatewayContact, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.contact} {self.service_request_id}"


# --- A person when needed (chatbot/handoffs.py): the agent inbox in the staff console


class HandoffKind(models.TextChoices):
    LIVE = "live", "Live (during the call centre's hours)"
    CALLBACK = "callback", "Callback (asked outside the hours)"


class HandoffState(models.TextChoices):
    WAITING = "waiting", "Waiting for an agent"
    ANSWERED = "answered", "An agent answered"
    CLOSED = "closed", "Closed"


class Handoff(models.Model):
    """A resident asked for a person. During the call centre's hours (``LIVE``) the
    conversation waits in the agent inbox and the assistant stays quiet until an agent
    closes it; outside them (``CALLBACK``) a callback request is listed in the same inbox,
    due when the call centre opens again. ``phone`` is the gateway's number (SMS,
    WhatsApp), kept only while the handoff is open: erased when it is closed, and after
    ``CHATBOT_HANDOFF_KEEP_DAYS`` whatever its state."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="handoffs"
    )
    kind = models.CharField(max_length=10, choices=HandoffKind.choices)
    state = models.CharField(
        max_length=10, choices=HandoffState.choices, default=HandoffState.WAITING
    )
    requested_at = models.DateTimeField()
    callback_after = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=16, help_text="The conversation's source")
    phone = models.CharField(max_length=32, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["state", "requested_at"])]
        permissions = [
            ("answer_conversations", "Can answer residents' conversations in the agent inbox")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.state} {self.requested_at:%Y-%m-%d %H:%M}"
