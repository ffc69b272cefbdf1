"""The names analytics' raw SQL reads, taken from the models: table names from ``_meta`` and
statuses and kinds from the domain's enums, so a renamed table or value is renamed here too.
Statements formatted once at import put a value in with ``literal``; statements run with
parameters may pass the enum member itself (psycopg sends its value)."""

from __future__ import annotations

from analytics.models import (
    AreaDailyRollup,
    CellDailyRollup,
    ServiceDailyRollup,
    TypeDailyRollup,
)
from backend.catalog.models import Department, ServiceType
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent
from workorders.models import Area, WorkOrder

SR = ServiceRequest._meta.db_table
EVENTS = ServiceRequestEvent._meta.db_table
SERVICE_TYPES = ServiceType._meta.db_table
DEPARTMENTS = Department._meta.db_table
AREAS = Area._meta.db_table
CELL_ROLLUPS = CellDailyRollup._meta.db_table
TYPE_ROLLUPS = TypeDailyRollup._meta.db_table
SERVICE_ROLLUPS = ServiceDailyRollup._meta.db_table
AREA_ROLLUPS = AreaDailyRollup._meta.db_table
WORK_ORDERS = WorkOrder._meta.db_table


def literal(value: str) -> str:
    """A value as an SQL string literal (quotes doubled), for SQL written at import time."""
    return "'" + str(value).replace("'", "''") + "'"
