"""Escalation: the beat job that marks work orders past due and tells their supervisors.

One scan is two set-based statements, each a single round trip however many rows match:
it marks the orders whose clock runs (new, assigned, in progress; on hold pauses the clock)
and whose due time has passed (``overdue_at``), then those past twice their turnaround
(``escalated_again_at``). Each statement writes, for the rows it marked, an event and a row
in the ``SupervisorAlert`` outbox. A marker is set once, so running the scan twice changes
nothing. Partial indexes hold only the rows that may still need marking, so a scan over a
million orders reads a few pages. Rows a transition holds locked are skipped (``SKIP
LOCKED``) and picked up by the next scan.

The outbox is drained by ``supervisor_alerts_send``: one e-mail per set of supervisors,
listing their orders, each batch marked sent in the transaction that sent it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from backend.outbox.services import outbox_call
from backend.service_requests.models import ServiceRequest
from workorders.live import work_order_push_of
from workorders.models import (
    CLOCK_RUNNING_STATUSES,
    SupervisorAlert,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventKind,
)
from workorders.selectors import supervisor_emails

logger = logging.getLogger(__name__)

LEVEL_OVERDUE = 1
LEVEL_AGAIN = 2


def _scan_sql(*, due_column: str, marker_column: str, level: int, kind: str) -> str:
    # Only constants of this module go into the text (no input): the status list must be
    # literal for the planner to match the partial indexes. `id = ANY(ARRAY(...))` makes the
    # UPDATE look the locked rows up by primary key (a join with the subquery would be
    # planned on its row estimate, which can be a hash join over the whole table).
    running = ", ".join(f"'{status}'" for status in CLOCK_RUNNING_STATUSES)
    orders = WorkOrder._meta.db_table
    events = WorkOrderEvent._meta.db_table
    alerts = SupervisorAlert._meta.db_table
    requests = ServiceRequest._meta.db_table
    return f"""
        WITH marked AS (
            UPDATE {orders} SET {marker_column} = %(now)s
            WHERE id = ANY(ARRAY(
                SELECT id FROM {orders}
                WHERE status IN ({running}) AND {marker_column} IS NULL
                  AND {due_column} < %(now)s
                FOR UPDATE SKIP LOCKED
            ))
            RETURNING id, status, due_at, team_id, department_id, service_request_id
        ), written AS (
            INSERT INTO {events} (work_order_id, kind, created_at, from_status, to_status,
                                  note, data)
            SELECT id, '{kind}', %(now)s, status, status, '', '{{"level": {level}}}'::jsonb
            FROM marked
        ), alerted AS (
            INSERT INTO {alerts} (work_order_id, level, created_at, recipients)
            SELECT id, {level}, %(now)s, '' FROM marked
            ON CONFLICT (work_order_id, level) DO NOTHING
        )
        SELECT m.id, m.status, m.due_at, m.team_id, m.department_id,
               (SELECT r.public_id FROM {requests} r WHERE r.id = m.service_request_id)
        FROM marked m
    """  # noqa: S608


OVERDUE_SQL = _scan_sql(
    due_column="due_at",
    marker_column="overdue_at",
    level=LEVEL_OVERDUE,
    kind=WorkOrderEventKind.OVERDUE,
)
AGAIN_SQL = _scan_sql(
    due_column="escalate_again_at",
    marker_column="escalated_again_at",
    level=LEVEL_AGAIN,
    kind=WorkOrderEventKind.ESCALATED,
)


@dataclass(frozen=True)
class EscalationResult:
    overdue: int
    escalated: int


def work_orders_escalate(*, now: datetime | None = None) -> EscalationResult:
    """Marks what became overdue (and twice overdue) since the last scan, and queues one
    push for the teams' and departments' live queues (``workorders.live``) with every
    order it marked."""
    now = now or timezone.now()
    pushes: list[dict[str, Any]] = []
    counts = []
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, kind in (
            (OVERDUE_SQL, WorkOrderEventKind.OVERDUE),
            (AGAIN_SQL, WorkOrderEventKind.ESCALATED),
        ):
            cursor.execute(sql, {"now": now})
            rows = cursor.fetchall()
            counts.append(len(rows))
            pushes.extend(
                work_order_push_of(
                    kind=kind,
                    work_order_id=order_id,
                    status=status,
                    due_at=due_at,
                    team_id=team_id,
                    department_id=department_id,
                    public_id=public_id,
                )
                for order_id, status, due_at, team_id, department_id, public_id in rows
            )
        if pushes:
            outbox_call("workorders.live.work_order_pushes", pushes=pushes)
    return EscalationResult(overdue=counts[0], escalated=counts[1])


def _alert_line(alert: SupervisorAlert) -> str:
    order = alert.work_order
    request = order.service_request
    due = timezone.localtime(order.due_at).strftime("%a %d %b %H:%M") if order.due_at else "-"
    where = request.address or (
        f"{request.location.y:.5f}, {request.location.x:.5f}" if request.location else ""
    )
    what = "PAST TWICE THE TURNAROUND" if alert.level == LEVEL_AGAIN else "overdue"
    url = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "workorders:console-detail", args=[order.pk]
    )
    return (
        f"- WO-{order.pk} {request.public_id} {request.service_type.name}, {where}: "
        f"due {due}, {what} ({order.get_status_display().lower()}). {url}"
    )


def supervisor_alerts_send(*, limit: int = 2000) -> int:
    """Sends the unsent alerts, one e-mail per set of recipients: the supervisors of the
    order's team, else of its department, else the department's contact address. Returns
    the number of alerts sent."""
    pending = list(
        SupervisorAlert.objects.filter(sent_at__isnull=True)
        .select_related("work_order__department")
        .order_by("created_at", "id")[:limit]
    )
    if not pending:
        return 0
    emails = supervisor_emails(
        team_ids={a.work_order.team_id for a in pending if a.work_order.team_id is not None},
        department_ids={a.work_order.department_id for a in pending},
    )
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for alert in pending:
        order = alert.work_order
        found: set[str] = (
            emails.get(f"team:{order.team_id}")
            or emails.get(f"department:{order.department_id}")
            or ({order.department.contact_email} if order.department.contact_email else set())
        )
        groups[tuple(sorted(found))].append(alert.pk)
    sent = 0
    for recipients, ids in groups.items():
        with transaction.atomic():
            batch = list(
                SupervisorAlert.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk__in=ids, sent_at__isnull=True)
                .select_related("work_order__service_request__service_type")
                .order_by("level", "work_order__due_at", "id")
            )
            if not batch:
                continue
            if recipients:
                count = len(batch)
                send_mail(
                    subject=f"city311: {count} work order{'s' if count != 1 else ''} past due",
                    message="These work orders need your attention:\n\n"
                    + "\n".join(_alert_line(alert) for alert in batch),
                    from_email=None,
                    recipient_list=list(recipients),
                )
            else:
                logger.warning("no supervisor or department address for %d alerts", len(batch))
            SupervisorAlert.objects.filter(pk__in=[a.pk for a in batch]).update(
                sent_at=timezone.now(), recipients=", ".join(recipients)
            )
            sent += len(batch)
    return sent
