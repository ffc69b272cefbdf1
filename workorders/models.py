"""The work a department does for a service request."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from backend.catalog.models import Department
from backend.service_requests.models import ServiceRequest


class WorkOrderStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class WorkOrder(models.Model):
    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="work_orders"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20,
        choices=WorkOrderStatus.choices,
        default=WorkOrderStatus.NEW,
        editable=False,
    )
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["department", "status", "due_at"], name="wo_dept_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["service_request"],
                condition=~Q(status__in=["completed", "cancelled"]),
                name="uniq_active_work_order",
            )
        ]

    def __str__(self) -> str:
        return f"WO-{self.pk} for {self.service_request_id}"
