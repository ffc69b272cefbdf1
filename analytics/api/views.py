"""The staff analytics API (/api/v1/analytics/...): thin views. Each parses its query with
its own input serializer, checks access through ``analytics.access`` (leadership sees the
city; a team member their departments; anyone else 403, anonymous 401), calls a selector
and answers JSON, or CSV with ``?format=csv`` (``table=`` picks the table)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from analytics import selectors
from analytics.access import AnalyticsAccess, analytics_access_get
from analytics.api.renderers import CSVRenderer
from analytics.api.serializers import (
    BacklogIn,
    DepartmentWindowIn,
    EquityIn,
    ErrorOut,
    HotspotsIn,
    MetricsIn,
    OverdueIn,
    WindowIn,
)
from analytics.scorecard import department_page, scorecard
from backend.catalog.models import Department, ServiceType
from workorders.models import Area, Team

ERROR = OpenApiResponse(ErrorOut, description="{detail, errors: {field: [message]}}")
# JSON, or with ?format=csv one table as CSV; errors are always JSON.
RESPONSES: dict[Any, Any] = {
    (200, "application/json"): OpenApiTypes.OBJECT,
    (200, "text/csv"): OpenApiTypes.STR,
    400: ERROR,
    401: ERROR,
    403: ERROR,
    404: ERROR,
}
TABLE_DESCRIPTION = "With format=csv: which table of the answer to export"
FORMAT_PARAMETER = OpenApiParameter("format", str, enum=["json", "csv"])
_Documented = TypeVar("_Documented", bound=Callable[..., Any])


def documented(
    summary: str, *query: Any, table: bool = False
) -> Callable[[_Documented], _Documented]:
    """A view's OpenAPI description: its query's serializer, ``format`` and (``table``: an
    answer with tables to choose from) ``table``, one of the view's ``tables``, and the
    answers every analytics view gives."""

    def describe(view: _Documented) -> _Documented:
        tables = {"type": "string", "enum": list(getattr(view, "tables", ()))}
        parameters = [
            *query,
            FORMAT_PARAMETER,
            *([OpenApiParameter("table", tables, description=TABLE_DESCRIPTION)] if table else []),
        ]
        described: _Documented = extend_schema(
            summary=summary, parameters=parameters, responses=RESPONSES
        )(view)
        return described

    return describe


class IsAnalyticsStaff(BasePermission):
    message = "Analytics are for staff."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        access = analytics_access_get(user=request.user)
        request.analytics_access = access  # type: ignore[attr-defined]
        return access.allowed


class AnalyticsView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAnalyticsStaff]
    renderer_classes = [JSONRenderer, CSVRenderer]
    # The table ?format=csv exports by default, and the others it may name.
    tables: tuple[str, ...] = ()

    @property
    def access(self) -> AnalyticsAccess:
        return self.request.analytics_access  # type: ignore[attr-defined]

    def parse(self, serializer_class: type[Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400:
            # Errors keep the API's one JSON shape, whatever format the table was asked in.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response

    def department_or_404(self, code: str) -> Department:
        department = get_object_or_404(Department, code=code)
        if not self.access.sees_department(department.pk):
            # Another department's figures: as if it did not exist.
            raise exceptions.NotFound("No such department.")
        return department

    def visible_departments(self) -> set[int] | None:
        """The departments this user reads (None: the whole city)."""
        return None if self.access.citywide else set(self.access.departments)

    def visible_types(self, department: Department | None = None) -> list[int] | None:
        """The service types a read covers (None: every type): the ``department`` asked for
        (404 if the user does not see it), else every department the user sees."""
        visible = self.visible_departments()
        if department is not None:
            if visible is not None and department.pk not in visible:
                raise exceptions.NotFound("No such department.")
            visible = {department.pk}
        return _types_of(visible)

    def answer(self, data: Mapping[str, Any]) -> Response:
        renderer = getattr(self.request, "accepted_renderer", None)
        asked = self.request.query_params.get("table") or ""
        if asked and asked not in self.tables:  # refused in JSON too: the document lists them
            raise exceptions.ValidationError(
                {"table": [f"Choose one of: {', '.join(self.tables)}."]}
            )
        if renderer is not None and renderer.format == "csv":
            table = asked or (self.tables[0] if self.tables else "")
            rows: Any = data
            for part in table.split("."):
                rows = rows[part]
            return Response(rows if isinstance(rows, list) else [rows])
        return Response(data)


def _types_of(department_ids: set[int] | None) -> list[int] | None:
    if department_ids is None:
        return None
    return list(
        ServiceType.objects.filter(department_id__in=department_ids).values_list("id", flat=True)
    )


@documented(
    "Leadership scorecard: each indicator against its target, per department and city",
    WindowIn,
    table=True,
)
class ScorecardView(AnalyticsView):
    tables: tuple[str, ...] = ("departments", "city.indicators")

    def get(self, request: Request) -> Response:
        params = self.parse(WindowIn)
        data = scorecard(window=params["window"], department_ids=self.visible_departments())
        if not self.access.citywide:
            data.pop("city")  # the city's figures are leadership's
            self.tables = ("departments",)
        return self.answer(data)


@documented(
    "A department's page: backlog by age, percentiles, trends, overdue list",
    DepartmentWindowIn,
    table=True,
)
class DepartmentView(AnalyticsView):
    tables = ("by_service_type", "trend", "overdue", "backlog.by_age", "summary")

    def get(self, request: Request, code: str) -> Response:
        department = self.department_or_404(code)
        params = self.parse(DepartmentWindowIn)
        return self.answer(department_page(department=department, window=params["window"]))


@documented("A department's overdue open requests, most urgent (age x priority) first", OverdueIn)
class DepartmentOverdueView(AnalyticsView):
    tables = ("overdue",)

    def get(self, request: Request, code: str) -> Response:
        department = self.department_or_404(code)
        params = self.parse(OverdueIn)
        types = selectors.department_type_ids(department.pk)
        return self.answer(
            {"overdue": selectors.overdue_list(service_type_ids=types, limit=params["limit"])}
        )


@documented(
    "Response and close times (p50/p85/p90), on-time share, counts, by a dimension", MetricsIn
)
class MetricsView(AnalyticsView):
    tables = ("rows",)

    def get(self, request: Request) -> Response:
        params = self.parse(MetricsIn)
        types = self.visible_types(params.get("department"))
        group = params["group_by"]
        grouped = selectors.measures_grouped(
            window=params["window"], group_by=(group,), service_type_ids=types
        )
        labels = _labels(group)
        rows = [
            {
                group: key[0].isoformat() if group == "day" else key[0],
                "label": labels.get(key[0], str(key[0])) if group != "day" else key[0].isoformat(),
                **m.summary(),
            }
            for key, m in grouped.items()
        ]
        rows.sort(key=lambda r: str(r["label"]))
        return self.answer({"window": params["window"].as_dict(), "group_by": group, "rows": rows})


def _labels(group: str) -> dict[Any, str]:
    if group == "service_type":
        return dict(ServiceType.objects.values_list("id", "name"))
    if group == "department":
        return dict(Department.objects.values_list("id", "name"))
    if group == "area":
        labels: dict[Any, str] = dict(
            Area.objects.filter(kind=settings.ANALYTICS_AREA_KIND).values_list("id", "name")
        )
        labels[None] = "(no area)"
        return labels
    return {}


@documented(
    "Backlog now (open, overdue, by age) and per day: created, closed, net, backlog",
    BacklogIn,
    table=True,
)
class BacklogView(AnalyticsView):
    tables = ("trend", "now.by_age")

    def get(self, request: Request) -> Response:
        params = self.parse(BacklogIn)
        types = self.visible_types(params.get("department"))
        return self.answer(
            {
                "now": selectors.backlog_now(service_type_ids=types),
                "trend": selectors.backlog_trend(window=params["window"], service_type_ids=types),
            }
        )


@documented("Equity: the metrics per area and the spread between the best and worst area", EquityIn)
class EquityView(AnalyticsView):
    tables = ("areas",)

    def get(self, request: Request) -> Response:
        params = self.parse(EquityIn)
        types = self.visible_types()
        service_type = params.get("service_type")
        if service_type is not None:
            if types is not None and service_type.pk not in types:
                raise exceptions.NotFound("No such service type.")
            types = [service_type.pk]
        return self.answer(
            selectors.equity(
                window=params["window"], metric=params["metric"], service_type_ids=types
            )
        )


@documented(
    "Hotspots: requests per grid cell for a service type and period; overdue points",
    HotspotsIn,
    table=True,
)
class HotspotsView(AnalyticsView):
    tables = ("cells", "overdue")

    def get(self, request: Request) -> Response:
        params = self.parse(HotspotsIn)
        service_type: ServiceType = params["service_type"]
        if not self.access.sees_department(service_type.department_id):
            raise exceptions.NotFound("No such service type.")
        data = selectors.hotspot_map(service_type=service_type, window=params["window"])
        data.pop("service_name")  # the pages' caption, not the API's
        return self.answer(data)


@documented("Resident satisfaction (feedback), reopen rate and channel mix", WindowIn, table=True)
class SatisfactionView(AnalyticsView):
    tables = ("channels",)

    def get(self, request: Request) -> Response:
        params = self.parse(WindowIn)
        types = self.visible_types()
        return self.answer(selectors.satisfaction(window=params["window"], service_type_ids=types))


@documented("A crew's view: its open orders by due time, overdue, last 30 days' completions")
class TeamView(AnalyticsView):
    tables = ("queue",)

    def get(self, request: Request, pk: int) -> Response:
        team = get_object_or_404(Team, pk=pk)
        if not self.access.sees_team(team_id=team.pk, department_id=team.department_id):
            raise exceptions.NotFound("No such team.")
        return self.answer(selectors.team_view(team=team))


@documented("Live counters now: open, overdue, submitted today, closed today")
class LiveView(AnalyticsView):
    tables = ("departments",)

    def get(self, request: Request) -> Response:
        return self.answer(selectors.live_counters(department_ids=self.visible_departments()))
