"""The shapes of what analytics reads: the selectors', the scorecard's and the open data's
answers as TypedDicts. They are the JSON the API and the pages send, key for key in that order
(the functions build them in it), so a typo in a key is a type error, not a missing column."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class WindowDays(TypedDict):
    first: str
    last: str


class MeasureSummary(TypedDict):
    """``Measures.summary()``: a group's figures, hours rounded to 0.01."""

    created: int
    closed: int
    closed_with_due: int
    closed_on_time: int
    on_time_share: float | None
    ttc_p50_h: float | None
    ttc_p85_h: float | None
    ttc_p90_h: float | None
    ttc_mean_h: float | None
    responded: int
    ttfr_p50_h: float | None
    ttfr_p85_h: float | None
    ttfr_p90_h: float | None
    close_events: int
    reopen_events: int
    reopen_rate: float | None
    net_flow: int


# --- Backlog


class AgeBucket(TypedDict):
    bucket: str
    open: int


class Backlog(TypedDict):
    open: int
    overdue: int
    by_age: list[AgeBucket]


class BacklogDay(TypedDict):
    day: str
    created: int
    closed: int
    reopened: int
    net_flow: int
    backlog: int


class OverdueRequest(TypedDict):
    public_id: str
    service_code: str
    service_name: str
    address: str
    priority: int
    requested_at: str
    expected_at: str
    status: str
    age_days: float
    urgency: float


# --- Hotspots


class Cell(TypedDict):
    cell_x: int
    cell_y: int
    count: int
    bounds: list[float]


class OverduePoint(TypedDict):
    public_id: str
    lat: float
    long: float
    days_overdue: float


class HotspotMap(TypedDict):
    service_type: str
    service_name: NotRequired[str]  # the pages show it; the API answers without it
    window: WindowDays
    cells: list[Cell]
    overdue: list[OverduePoint]


# --- Equity, satisfaction


class AreaFigures(MeasureSummary):
    area_id: int
    area: str


class AreaValue(TypedDict):
    area: str
    value: float


class Equity(TypedDict):
    metric: str
    areas: list[AreaFigures]
    best: AreaValue | None
    worst: AreaValue | None
    spread: float | None


class ChannelShare(TypedDict):
    channel: str
    created: int
    share: float | None


class Satisfaction(TypedDict):
    feedback_answers: int
    fixed_share: float | None
    rated: int
    mean_rating: float | None
    close_events: int
    reopen_events: int
    reopen_rate: float | None
    channels: list[ChannelShare]


# --- Teams, live counters


class TeamRef(TypedDict):
    id: int
    name: str
    department_id: int


class QueueRow(TypedDict):
    work_order_id: int
    status: str
    due_at: str | None
    overdue: bool
    public_id: str
    service_name: str
    address: str


class TeamFigures(TypedDict):
    team: TeamRef
    open: int
    open_by_status: dict[str, int]
    overdue: int
    completed_30d: int
    on_time_share_30d: float | None
    queue: list[QueueRow]


class LiveCounts(TypedDict):
    open: int
    overdue: int
    created_today: int
    closed_today: int


class DepartmentLive(LiveCounts):
    department_id: int
    department: str | None


class LiveCounters(TypedDict):
    at: str
    total: LiveCounts
    departments: list[DepartmentLive]


# --- Scorecard


class IndicatorScore(TypedDict):
    indicator: str
    label: str
    actual: float | None
    target: float
    ratio: float | None


class ScoreCard(TypedDict):
    score: float | None
    # Flat copies of the indicators' ratios, for the CSV export (one per ``Indicator``).
    on_time_ratio: float | None
    first_response_p85_ratio: float | None
    close_rate_ratio: float | None
    indicators: list[IndicatorScore]
    created: int
    closed: int


class DepartmentScore(ScoreCard):
    department_id: int
    code: str
    name: str


class ScorecardPage(TypedDict):
    window: WindowDays
    city: NotRequired[ScoreCard]  # leadership's only
    departments: list[DepartmentScore]


class DepartmentRef(TypedDict):
    id: int
    code: str
    name: str


class ServiceTypeFigures(MeasureSummary):
    service_type_id: int
    service_type: str | None


class TrendDay(TypedDict):
    day: str
    created: int
    closed: int
    ttc_p50_h: float | None
    ttc_p90_h: float | None
    on_time_share: float | None


class DepartmentPage(TypedDict):
    department: DepartmentRef
    window: WindowDays
    score: ScoreCard
    summary: MeasureSummary
    backlog: Backlog
    by_service_type: list[ServiceTypeFigures]
    trend: list[TrendDay]
    overdue: list[OverdueRequest]


# --- Open data


class OpenDataRow(TypedDict):
    """A published request (GeoReport bulk columns, in their order)."""

    service_request_id: str
    requested_datetime: str | None
    updated_datetime: str | None
    closed_date: str | None
    status_description: str
    status_notes: str
    source: str
    service_name: str
    service_subtype: str
    description: str
    agency_responsible: str
    address: str
    lat: float | None
    long: float | None
    supporters: int  # "me too": how many reported it too (city311's column, after GeoReport's)


class ServiceSLA(TypedDict):
    service_code: str
    service_name: str
    agency_responsible: str
    sla_hours: int | None
    sla_counts: str
