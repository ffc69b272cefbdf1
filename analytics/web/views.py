"""Server-rendered analytics pages for staff (/staff/analytics/...) and the public open-data
downloads (/open-data/...).

The staff pages render their tables on the server from the same selectors as the API (they
read without JavaScript) and embed the data for ``static/analytics/analytics.js``, which draws
the charts (Chart.js, vendored) and maps (Leaflet, vendored in backend/web) and keeps the live
counters current over ``/ws/analytics/``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from analytics import opendata, selectors
from analytics.access import AnalyticsAccess, analytics_access_get
from analytics.api.serializers import DepartmentWindowIn, HotspotsIn, WindowIn
from analytics.measures import day_start
from analytics.scorecard import department_page, scorecard
from backend.catalog.models import Department, ServiceType
from backend.errors import City311Error
from workorders.models import Team

LOGIN_URL = "accounts:login"  # backend/accounts: residents, crews and staff sign in there


def _access(request: HttpRequest) -> AnalyticsAccess:
    access = analytics_access_get(user=request.user)
    if not access.allowed:
        raise PermissionDenied("Analytics are for staff.")
    return access


def _params(serializer_class: type, request: HttpRequest) -> dict[str, Any]:
    serializer = serializer_class(data=request.GET)
    if not serializer.is_valid():
        return {"errors": serializer.errors, **serializer_class(data={}).run_validation({})}
    return dict(serializer.validated_data)


def _nav(access: AnalyticsAccess) -> dict[str, Any]:
    departments = Department.objects.order_by("name")
    if not access.citywide:
        departments = departments.filter(pk__in=access.departments)
    teams = Team.objects.filter(active=True).order_by("department__name", "name")
    if not access.citywide:
        teams = teams.filter(pk__in=access.teams) | teams.filter(
            department_id__in=access.supervised
        )
    return {
        "nav_departments": list(departments.values("code", "name")),
        "nav_teams": list(teams.values("id", "name")),
        "service_types": list(
            ServiceType.objects.order_by("name").values("service_code", "name", "department_id")
        ),
        "citywide": access.citywide,
    }


def _figures(
    request: HttpRequest,
    template: str,
    access: AnalyticsAccess,
    params: dict[str, Any],
    data: Mapping[str, Any],
    **more: Any,
) -> HttpResponse:
    """A page of figures over a window: the data (and ``more``), the window's period and
    errors (``_params`` fills in the form's defaults either way), and the navigation."""
    return render(
        request,
        template,
        {
            "data": data,
            **more,
            "period": params["period"],
            "errors": params.get("errors"),
            **_nav(access),
        },
    )


@login_required(login_url=LOGIN_URL)
@require_GET
def scorecard_page(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    params = _params(WindowIn, request)
    visible = None if access.citywide else set(access.departments)
    data = scorecard(window=params["window"], department_ids=visible)
    if not access.citywide:
        data.pop("city")
    live = selectors.live_counters(department_ids=visible)
    return _figures(request, "analytics/scorecard.html", access, params, data, live=live)


@login_required(login_url=LOGIN_URL)
@require_GET
def department_view(request: HttpRequest, code: str) -> HttpResponse:
    access = _access(request)
    department = get_object_or_404(Department, code=code)
    if not access.sees_department(department.pk):
        raise Http404("No such department.")
    params = _params(DepartmentWindowIn, request)
    data = department_page(department=department, window=params["window"])
    return _figures(request, "analytics/department.html", access, params, data)


@login_required(login_url=LOGIN_URL)
@require_GET
def team_page(request: HttpRequest, pk: int) -> HttpResponse:
    access = _access(request)
    team = get_object_or_404(Team, pk=pk)
    if not access.sees_team(team_id=team.pk, department_id=team.department_id):
        raise Http404("No such team.")
    return render(
        request, "analytics/team.html", {"data": selectors.team_view(team=team), **_nav(access)}
    )


@login_required(login_url=LOGIN_URL)
@require_GET
def hotspots_page(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    context: dict[str, Any] = {
        **_nav(access),
        "data": None,
        "errors": None,
        "tile_url": settings.WEB_MAP_TILE_URL,
        "attribution": settings.WEB_MAP_ATTRIBUTION,
    }
    if not access.citywide:
        context["service_types"] = [
            t for t in context["service_types"] if t["department_id"] in access.departments
        ]
    if request.GET.get("service_type"):
        serializer = HotspotsIn(data=request.GET)
        if serializer.is_valid():
            service_type = serializer.validated_data["service_type"]
            if not access.sees_department(service_type.department_id):
                raise Http404("No such service type.")
            context["data"] = selectors.hotspot_map(
                service_type=service_type, window=serializer.validated_data["window"]
            )
        else:
            context["errors"] = serializer.errors
    return render(request, "analytics/hotspots.html", context)


# --- Open data (public)


class ExportFilters(TypedDict, total=False):
    """What ``opendata.requests_rows`` is asked for: submitted in [start, end), a type."""

    start: datetime
    end: datetime
    service_type_id: int | None


def _export_filters(request: HttpRequest) -> ExportFilters:
    serializer = WindowIn(data=request.GET)
    errors: dict[str, list[str]] = {}
    filters: ExportFilters = {}
    if any(k in request.GET for k in ("start", "end")):
        if serializer.is_valid():
            window = serializer.validated_data["window"]
            filters["start"] = day_start(window.first)
            filters["end"] = day_start(window.last + timedelta(days=1))
        else:
            errors.update({k: [str(m) for m in v] for k, v in serializer.errors.items()})
    code = request.GET.get("service_code")
    if code:
        found = ServiceType.objects.filter(service_code=code).values_list("id", flat=True).first()
        if found is None:
            errors["service_code"] = [f"Unknown service {code!r}."]
        filters["service_type_id"] = found
    if errors:
        raise _BadExport(errors)
    return filters


class _BadExport(City311Error):
    """The open-data export's filters refused (400, naming each wrong one)."""


def _bad(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse(
        {"detail": "Invalid input: " + ", ".join(errors), "errors": errors}, status=400
    )


@require_GET
def open_data_requests(request: HttpRequest, fmt: str) -> HttpResponseBase:
    try:
        filters = _export_filters(request)
    except _BadExport as exc:
        return _bad(exc.errors)
    rows = opendata.requests_rows(**filters)
    if fmt == "csv":
        response = StreamingHttpResponse(opendata.csv_stream(rows), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="requests.csv"'
    else:
        response = StreamingHttpResponse(
            opendata.geojson_stream(rows), content_type="application/geo+json"
        )
        response["Content-Disposition"] = 'attachment; filename="requests.geojson"'
    return response


@require_GET
def open_data_services(request: HttpRequest, fmt: str) -> HttpResponseBase:
    rows = opendata.services_sla()
    if fmt == "json":
        return JsonResponse({"services": rows})
    return StreamingHttpResponse(
        opendata.csv_table(rows),
        content_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="services.csv"'},
    )
