"""What may be written to the outbox: Celery tasks by their registered name, and calls by
dotted path. Only these are ever run by the dispatcher, whatever a row says."""

from __future__ import annotations

from backend.outbox.models import OutboxKind

TARGETS: dict[str, str] = {
    # Celery tasks (queued to the broker)
    "backend.photos.tasks.photo_process": OutboxKind.TASK,
    "backend.service_requests.tasks.service_request_send_receipt": OutboxKind.TASK,
    "backend.service_requests.tasks.service_request_notify": OutboxKind.TASK,
    "backend.open311.tasks.intake_token_process": OutboxKind.TASK,
    "backend.alerts.tasks.alerts_event_deliver": OutboxKind.TASK,
    "backend.alerts.tasks.alert_confirmation_send": OutboxKind.TASK,
    # Calls run by the dispatcher itself: quick, idempotent pushes
    "backend.service_requests.messaging.status_push": OutboxKind.CALL,
    "backend.service_requests.messaging.watchers_close": OutboxKind.CALL,
    "workorders.live.work_order_push": OutboxKind.CALL,
    "workorders.live.work_order_pushes": OutboxKind.CALL,
    "workorders.live.memberships_push": OutboxKind.CALL,
    "mobile_api.push.push_deliver": OutboxKind.CALL,
    "chatbot.whatsapp.whatsapp_deliver": OutboxKind.CALL,
    "chatbot.handoffs.sms_deliver": OutboxKind.CALL,
    "chatbot.handoffs.web_deliver": OutboxKind.CALL,
    "analytics.live.live_push": OutboxKind.CALL,
}
