"""Reads of work orders, teams and calendars. Access checks live here: every staff read goes
through ``staff_access_get`` and the department-scoped querysets below, so a user never sees
(nor acts on) another department's work: for them it does not exist (404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce, Now

from backend.catalog.models import Department, ServiceType
from backend.process_cache import ProcessCache
from backend.service_requests.models import OPEN_STATUSES as REQUEST_OPEN_STATUSES
from backend.service_requests.models import (
    Channel,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from workorders.models import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    Feedback,
    OpeningHours,
    ProofPhoto,
    PublicHoliday,
    RoutingRule,
    Team,
    TeamMember,
    TeamRole,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderHold,
    WorkOrderStatus,
)
from workorders.sla import BusinessCalendar, Interval, calendar_default

User = AbstractBaseUser | AnonymousUser | None

# --- Access


@dataclass(frozen=True)
class StaffAccess:
    """What one user may see and do: the departments they belong to (through teams), those
    they supervise, and the teams they work in. A superuser supervises everything."""

    user_id: int | None
    is_superuser: bool
    departments: frozenset[int]
    supervised: frozenset[int]
    teams: frozenset[int]

    @property
    def is_staff_member(self) -> bool:
        return self.is_superuser or bool(self.departments)

    def sees(self, department_id: int) -> bool:
        return self.is_superuser or department_id in self.departments

    def supervises(self, department_id: int) -> bool:
        return self.is_superuser or department_id in self.supervised

    def works_on(self, work_order: WorkOrder) -> bool:
        """A crew member works on their own team's orders; a supervisor on all of the
        department's."""
        return self.supervises(work_order.department_id) or (
            work_order.team_id is not None and work_order.team_id in self.teams
        )


NO_ACCESS = StaffAccess(None, False, frozenset(), frozenset(), frozenset())


def staff_access_get(*, user: User) -> StaffAccess:
    """One query: the user's active team memberships."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    is_superuser = bool(getattr(user, "is_superuser", False))
    rows = TeamMember.objects.filter(user_id=user.pk, team__active=True).values_list(
        "team_id", "team__department_id", "role"
    )
    teams, departments, supervised = set(), set(), set()
    for team_id, department_id, role in rows:
        teams.add(team_id)
        departments.add(department_id)
        if role == TeamRole.SUPERVISOR:
            supervised.add(department_id)
    return StaffAccess(
        user_id=int(user.pk),
        is_superuser=is_superuser,
        departments=frozenset(departments),
        supervised=frozenset(supervised),
        teams=frozenset(teams),
    )


def work_orders_visible(*, access: StaffAccess) -> QuerySet[WorkOrder]:
    """The work orders of the user's departments (all of them for a superuser)."""
    if access.is_superuser:
        return WorkOrder.objects.all()
    return WorkOrder.objects.filter(department_id__in=access.departments)


def _detail_related(queryset: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    return queryset.select_related(
        "service_request__service_type",
        "department",
        "team",
        "assignee",
        "reviewed_by",
    ).prefetch_related(
        Prefetch(
            "proofs",
            queryset=ProofPhoto.objects.select_related("photo").order_by("created_at", "id"),
        ),
        Prefetch(
            "holds",
            queryset=WorkOrderHold.objects.filter(ended_at__isnull=True),
            to_attr="open_holds",
        ),
    )


def work_order_get_for_user(*, access: StaffAccess, pk: int) -> WorkOrder | None:
    """The work order if the user may see it, with what its page and API answer show."""
    return _detail_related(work_orders_visible(access=access)).filter(pk=pk).first()


def work_order_list_for_user(
    *, access: StaffAccess, status: list[str] | None = None, department_id: int | None = None
) -> QuerySet[WorkOrder]:
    queryset = work_orders_visible(access=access)
    if status:
        queryset = queryset.filter(status__in=status)
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    return _detail_related(queryset).order_by(F("due_at").asc(nulls_last=True), "id")


def service_request_get_for_staff(*, access: StaffAccess, public_id: str) -> ServiceRequest | None:
    """A request the user may act on as staff: one with a work order in their departments."""
    queryset = ServiceRequest.objects.select_related("service_type__department")
    if not access.is_superuser:
        visible = WorkOrder.objects.filter(department_id__in=access.departments)
        queryset = queryset.filter(pk__in=visible.values("service_request_id"))
    return queryset.filter(public_id=public_id).first()


def work_order_active(*, service_request_id: int) -> WorkOrder | None:
    return (
        WorkOrder.objects.filter(service_request_id=service_request_id, status__in=OPEN_STATUSES)
        .select_related("department")
        .first()
    )


def work_order_latest(*, service_request_id: int) -> WorkOrder | None:
    return (
        WorkOrder.objects.filter(service_request_id=service_request_id)
        .order_by("-created_at", "-id")
        .first()
    )


def work_order_history(*, work_order: WorkOrder) -> QuerySet[WorkOrderEvent]:
    return work_order.events.select_related("actor").order_by("created_at", "id")


# --- The supervisor's console


def departments_supervised(*, access: StaffAccess) -> QuerySet[Department]:
    queryset = Department.objects.order_by("name")
    if access.is_superuser:
        return queryset
    return queryset.filter(pk__in=access.supervised)


@dataclass(frozen=True)
class DispatchFilters:
    """The console's filters, shared by its table, its map and the team workload. No team
    and ``unassigned``: the orders of no team; ``status``: one of the open statuses."""

    team_id: int | None = None
    unassigned: bool = False
    service_type_id: int | None = None
    status: str | None = None


NO_FILTERS = DispatchFilters()


def _late() -> Q:
    """Past due with the SLA clock running (marked by the escalation scan or not yet)."""
    return Q(status__in=CLOCK_RUNNING_STATUSES) & (
        Q(overdue_at__isnull=False) | Q(due_at__lt=Now())
    )


def _is_late() -> Case:
    return Case(When(_late(), then=Value(True)), default=Value(False), output_field=BooleanField())


def work_orders_dispatch(
    *, department_id: int, filters: DispatchFilters = NO_FILTERS
) -> QuerySet[WorkOrder]:
    """A department's open work orders narrowed by the console's filters (unordered)."""
    queryset = WorkOrder.objects.filter(department_id=department_id, status__in=OPEN_STATUSES)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.unassigned:
        queryset = queryset.filter(team__isnull=True)
    elif filters.team_id is not None:
        queryset = queryset.filter(team_id=filters.team_id)
    if filters.service_type_id is not None:
        queryset = queryset.filter(service_request__service_type_id=filters.service_type_id)
    return queryset


QUEUE_BY_SUPPORTERS = "supporters"


def work_order_queue(
    *, department_id: int, filters: DispatchFilters = NO_FILTERS, sort: str = ""
) -> QuerySet[WorkOrder]:
    """A department's open work orders by due time (no due time last): the supervisor's
    queue. Served by the partial index ``wo_open_queue``; slice it for a page. ``sort`` =
    ``QUEUE_BY_SUPPORTERS``: the most supported requests ("me too") first, then by due time."""
    ordering: list[OrderBy | str] = [F("due_at").asc(nulls_last=True), "id"]
    if sort == QUEUE_BY_SUPPORTERS:
        ordering.insert(0, F("service_request__supporters_count").desc())
    return (
        work_orders_dispatch(department_id=department_id, filters=filters)
        .annotate(is_late=_is_late())
        .select_related("service_request__service_type", "team", "assignee")
        .prefetch_related(
            Prefetch(
                "holds",
                queryset=WorkOrderHold.objects.filter(ended_at__isnull=True),
                to_attr="open_holds",
            )
        )
        .order_by(*ordering)
    )


@dataclass(frozen=True)
class MapOrder:
    """One marker of the dispatch map: what the console's table shows of the order."""

    id: int
    location: Point
    address: str
    service_name: str
    service_name_i18n: dict[str, str]
    status: str
    due_at: datetime | None
    overdue: bool
    team_id: int | None
    team_name: str | None


def work_order_map_points(
    *, department_id: int, filters: DispatchFilters = NO_FILTERS, limit: int
) -> list[MapOrder]:
    """The filtered open orders that have a map point, soonest due first, at most ``limit``
    (one query). Nothing of the resident beyond the console's table: service, address."""
    rows = (
        work_orders_dispatch(department_id=department_id, filters=filters)
        .filter(service_request__location__isnull=False)
        .annotate(is_late=_is_late())
        .order_by(F("due_at").asc(nulls_last=True), "id")
        .values_list(
            "pk",
            "service_request__location",
            "service_request__address",
            "service_request__service_type__name",
            "service_request__service_type__name_i18n",
            "status",
            "due_at",
            "is_late",
            "team_id",
            "team__name",
        )[:limit]
    )
    return [
        MapOrder(pk, location, address, name, name_i18n, status, due_at, late, team_id, team)
        for pk, location, address, name, name_i18n, status, due_at, late, team_id, team in rows
        if location is not None
    ]


def work_orders_open_extent(*, department_id: int) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the department's open orders with a map point."""
    extent = WorkOrder.objects.filter(
        department_id=department_id,
        status__in=OPEN_STATUSES,
        service_request__location__isnull=False,
    ).aggregate(extent=Extent("service_request__location"))["extent"]
    return tuple(extent) if extent else None


@dataclass(frozen=True)
class TeamLoad:
    """One team's share of the filtered open orders; ``team_id`` None: no team's."""

    team_id: int | None
    name: str
    open: int
    in_progress: int
    on_hold: int
    overdue: int


@dataclass(frozen=True)
class Workload:
    teams: list[TeamLoad]
    unassigned: TeamLoad


def team_workload(*, department_id: int, filters: DispatchFilters = NO_FILTERS) -> Workload:
    """Per active team of the department (only the chosen one when the filters name a
    team, none when they ask for unassigned orders) and for the orders of no team: the
    filtered open orders, those in progress, on hold and overdue. One query: the filtered
    orders (the same queryset as the console's table) joined to the teams plus a row for
    "no team"."""
    orders = (
        work_orders_dispatch(department_id=department_id, filters=filters)
        .order_by()
        .annotate(is_late=_is_late())
        .values("team_id", "status", "is_late")
    )
    orders_sql, orders_params = orders.query.get_compiler(using=orders.db).as_sql()
    team_where = ["t.department_id = %s", "t.active"]
    team_params: list[object] = [department_id]
    if filters.unassigned:
        team_where.append("FALSE")
    elif filters.team_id is not None:
        team_where.append("t.id = %s")
        team_params.append(filters.team_id)
    # The orders are counted per team first (a few rows), then joined to the teams: a
    # department with 50,000 open orders is read once, without a join per order.
    sql = f"""
        SELECT k.id, k.name,
               coalesce(g.open, 0), coalesce(g.in_progress, 0), coalesce(g.on_hold, 0),
               coalesce(g.late, 0)
        FROM (
            SELECT t.id, t.name FROM {Team._meta.db_table} t WHERE {" AND ".join(team_where)}
            UNION ALL
            SELECT NULL, NULL
        ) AS k
        LEFT JOIN (
            SELECT o.team_id,
                   count(*) AS open,
                   count(*) FILTER (WHERE o.status = %s) AS in_progress,
                   count(*) FILTER (WHERE o.status = %s) AS on_hold,
                   count(*) FILTER (WHERE o.is_late) AS late
            FROM ({orders_sql}) AS o
            GROUP BY o.team_id
        ) AS g ON g.team_id IS NOT DISTINCT FROM k.id
        ORDER BY k.id IS NULL, k.name, k.id
    """  # noqa: S608 - table names from the models, values as parameters
    params = [
        *team_params,
        WorkOrderStatus.IN_PROGRESS,
        WorkOrderStatus.ON_HOLD,
        *orders_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [
            TeamLoad(team_id, name or "", open_, in_progress, on_hold, overdue)
            for team_id, name, open_, in_progress, on_hold, overdue in cursor.fetchall()
        ]
    loads = [row for row in rows if row.team_id is not None]
    unassigned = next(row for row in rows if row.team_id is None)
    return Workload(teams=loads, unassigned=unassigned)


def service_types_dispatch(*, department_id: int) -> QuerySet[ServiceType]:
    """The services the console's filter offers: the department's own, and those its
    routing rules send here from another department. Read from the configuration, never
    from the orders (a big department has tens of thousands open: bench/workorders.py)."""
    routed_here = RoutingRule.objects.filter(
        department_id=department_id, service_type__isnull=False
    ).values("service_type_id")
    return ServiceType.objects.filter(
        Q(department_id=department_id, active=True) | Q(pk__in=routed_here)
    ).order_by("name", "id")


def work_order_review_queue(*, department_id: int) -> QuerySet[WorkOrder]:
    """Completed work orders whose proof photos failed the checks, oldest first."""
    return _detail_related(
        WorkOrder.objects.filter(
            department_id=department_id, review_required=True, reviewed_at__isnull=True
        )
    ).order_by("completed_at", "id")


def work_order_review_count(*, department_id: int) -> int:
    return WorkOrder.objects.filter(
        department_id=department_id, review_required=True, reviewed_at__isnull=True
    ).count()


def teams_of_department(*, department_id: int) -> QuerySet[Team]:
    return Team.objects.filter(department_id=department_id, active=True).order_by("name", "id")


def team_least_loaded(*, department_id: int) -> Team | None:
    """The department's active team with the fewest open work orders (ties: by name)."""
    open_orders = (
        WorkOrder.objects.filter(team_id=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("team_id")
        .annotate(count=Count("*"))
        .values("count")
    )
    return (
        Team.objects.filter(department_id=department_id, active=True)
        .annotate(load=Coalesce(Subquery(open_orders, output_field=IntegerField()), 0))
        .order_by("load", "name", "id")
        .first()
    )


def supervisor_emails(*, team_ids: set[int], department_ids: set[int]) -> dict[str, set[str]]:
    """E-mail addresses of supervisors, by ``team:<id>`` and ``department:<id>`` (one
    query)."""
    rows = TeamMember.objects.filter(
        Q(team_id__in=team_ids) | Q(team__department_id__in=department_ids),
        role=TeamRole.SUPERVISOR,
        team__active=True,
        user__is_active=True,
    ).values_list("team_id", "team__department_id", "user__email")
    found: dict[str, set[str]] = {}
    for team_id, department_id, email in rows:
        if not email:
            continue
        found.setdefault(f"team:{team_id}", set()).add(email)
        found.setdefault(f"department:{department_id}", set()).add(email)
    return found


# --- Calendars


_calendars: ProcessCache[BusinessCalendar] = ProcessCache("workorders.calendars")


def business_calendar_get(*, department: Department) -> BusinessCalendar:
    """The department's opening hours (Monday-Friday 08:00-17:00 when it set none) and its
    holidays plus the city-wide ones, in its time zone. Two queries, then cached per process
    (``backend.process_cache``)."""
    return _calendars.get(
        (department.pk, department.time_zone), lambda: _business_calendar_load(department)
    )


def _business_calendar_load(department: Department) -> BusinessCalendar:
    hours: dict[int, list[Interval]] = {}
    for weekday, opens, closes in OpeningHours.objects.filter(department=department).values_list(
        "weekday", "opens", "closes"
    ):
        hours.setdefault(weekday, []).append((opens, closes))
    holidays = frozenset(
        PublicHoliday.objects.filter(
            Q(department=department) | Q(department__isnull=True)
        ).values_list("date", flat=True)
    )
    if not hours:
        return BusinessCalendar(
            time_zone=department.time_zone,
            hours=calendar_default(department.time_zone).hours,
            holidays=holidays,
        )
    return BusinessCalendar(
        time_zone=department.time_zone,
        hours={weekday: tuple(sorted(intervals)) for weekday, intervals in hours.items()},
        holidays=holidays,
    )


# --- Feedback and proof


def close_event_latest(*, service_request_id: int) -> ServiceRequestEvent | None:
    """The request's most recent closing event."""
    return (
        ServiceRequestEvent.objects.filter(
            service_request_id=service_request_id, to_status=Status.CLOSED
        )
        .order_by("-created_at", "-id")
        .first()
    )


def proof_photos_for_close(*, service_request_id: int, closed_at: datetime) -> QuerySet[ProofPhoto]:
    """The proof photos of the work order completed by a closure at ``closed_at``."""
    work_order = (
        WorkOrder.objects.filter(
            service_request_id=service_request_id,
            status=WorkOrderStatus.COMPLETED,
            completed_at__lte=closed_at,
        )
        .order_by("-completed_at", "-id")
        .values("pk")[:1]
    )
    return (
        ProofPhoto.objects.filter(work_order_id__in=Subquery(work_order))
        .select_related("photo")
        .order_by("created_at", "id")
    )


def feedback_for_close_event(*, close_event_id: int) -> Feedback | None:
    return Feedback.objects.filter(close_event_id=close_event_id).first()


# --- Imported history not yet adopted


def service_requests_imported_pending() -> QuerySet[ServiceRequest]:
    """Requests still open in an imported export that no work order has taken up: filed by
    ``analytics.importing`` (channel ``import``, the export's provenance under
    ``attributes["import"]``), open, and without any work order. They are history, not live
    work: kept out of the backlog, overdue lists and scorecard (``analytics.measures.
    LIVE_WHERE`` says the same in SQL) until a supervisor adopts one (``backend.cases.adopt``),
    which gives it a work order. Rows of the synthetic loader carry no provenance: they are
    live."""
    has_order = WorkOrder.objects.filter(service_request_id=OuterRef("pk"))
    return ServiceRequest.objects.filter(
        channel=Channel.IMPORT,
        status__in=REQUEST_OPEN_STATUSES,
        attributes__has_key="import",
    ).filter(~Exists(has_order))


def service_requests_imported_for_department(*, department_id: int) -> QuerySet[ServiceRequest]:
    """The department's imported requests waiting to be adopted (those of its services),
    the most recently submitted first."""
    return (
        service_requests_imported_pending()
        .filter(service_type__department_id=department_id)
        .select_related("service_type")
        .order_by("-requested_at", "-id")
    )


def service_request_imported_get(*, public_id: str) -> ServiceRequest | None:
    """An imported request waiting to be adopted, with its service."""
    return (
        service_requests_imported_pending()
        .select_related("service_type__department")
        .filter(public_id=public_id)
        .first()
    )
