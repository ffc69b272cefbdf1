"""The CityScore-style scorecard: each indicator's actual value against its target as a
ratio (above 1 beats the target), per department and citywide, and the score as the mean of
the ratios (docs/metrics.md, "Score")."""

from __future__ import annotations

from analytics.measures import Measures
from analytics.models import Indicator, ScoreTarget
from analytics.selectors import (
    Source,
    Window,
    backlog_now,
    department_type_ids,
    measures_grouped,
    overdue_list,
)
from analytics.shapes import (
    DepartmentPage,
    DepartmentScore,
    IndicatorScore,
    ScoreCard,
    ScorecardPage,
    ServiceTypeFigures,
    TrendDay,
)
from backend.catalog.models import Department

DEFAULT_TARGETS: dict[str, float] = {
    Indicator.ON_TIME: 0.85,  # 85 % of closed requests closed by their due time
    Indicator.FIRST_RESPONSE_P85: 48.0,  # 85 % get a first response within 48 hours
    Indicator.CLOSE_RATE: 1.0,  # closing as many as arrive: the backlog does not grow
}
# Lower is better for these: the ratio is target / actual.
LOWER_IS_BETTER = frozenset({Indicator.FIRST_RESPONSE_P85})
# A first response faster than this counts as this (no division by zero).
MIN_HOURS = 0.01


def targets_get() -> dict[int | None, dict[str, float]]:
    """Targets by department id (None: the city's), defaults filled in."""
    out: dict[int | None, dict[str, float]] = {}
    for department_id, indicator, target in ScoreTarget.objects.values_list(
        "department_id", "indicator", "target"
    ):
        out.setdefault(department_id, {})[indicator] = target
    return out


def _actual(indicator: str, m: Measures) -> float | None:
    if indicator == Indicator.ON_TIME:
        return m.on_time_share
    if indicator == Indicator.FIRST_RESPONSE_P85:
        hours = m.ttfr_hours(0.85)
        return None if hours is None else max(hours, MIN_HOURS)
    if indicator == Indicator.CLOSE_RATE:
        return m.close_events / m.created if m.created else None
    raise ValueError(indicator)


def score_card(m: Measures, targets: dict[str, float]) -> ScoreCard:
    indicators: list[IndicatorScore] = []
    ratios = []
    for indicator in Indicator:
        target = targets.get(indicator, DEFAULT_TARGETS[indicator])
        actual = _actual(indicator, m)
        ratio = None
        if actual is not None:
            ratio = target / actual if indicator in LOWER_IS_BETTER else actual / target
            ratios.append(ratio)
        indicators.append(
            {
                "indicator": indicator.value,
                "label": indicator.label,
                "actual": None if actual is None else round(actual, 4),
                "target": target,
                "ratio": None if ratio is None else round(ratio, 3),
            }
        )
    ratio_of = {i["indicator"]: i["ratio"] for i in indicators}
    return {
        "score": round(sum(ratios) / len(ratios), 3) if ratios else None,
        # Flat copies of the ratios, for the CSV export (in the order of ``Indicator``).
        "on_time_ratio": ratio_of[Indicator.ON_TIME],
        "first_response_p85_ratio": ratio_of[Indicator.FIRST_RESPONSE_P85],
        "close_rate_ratio": ratio_of[Indicator.CLOSE_RATE],
        "indicators": indicators,
        "created": m.created,
        "closed": m.closed,
    }


def scorecard(
    *, window: Window, department_ids: set[int] | None = None, source: Source = "rollup"
) -> ScorecardPage:
    grouped = measures_grouped(window=window, group_by=("department",), source=source)
    targets = targets_get()
    city = Measures()
    for m in grouped.values():
        city.add(m)
    departments = Department.objects.order_by("name").values_list("id", "code", "name")
    rows: list[DepartmentScore] = []
    for department_id, code, name in departments:
        if department_ids is not None and department_id not in department_ids:
            continue
        m = grouped.get((department_id,), Measures())
        own = {**targets.get(None, {}), **targets.get(department_id, {})}
        rows.append(
            {"department_id": department_id, "code": code, "name": name, **score_card(m, own)}
        )
    return {
        "window": window.as_dict(),
        "city": score_card(city, targets.get(None, {})),
        "departments": rows,
    }


def department_page(
    *, department: Department, window: Window, source: Source = "rollup"
) -> DepartmentPage:
    """Everything the manager's page shows for one department."""
    types = department_type_ids(department.pk)
    by_type = measures_grouped(
        window=window, group_by=("service_type",), service_type_ids=types, source=source
    )
    # The trend shows times to close only.
    by_day = measures_grouped(
        window=window,
        group_by=("day",),
        service_type_ids=types,
        source=source,
        histograms=("ttc",),
    )
    total = Measures()
    for m in by_type.values():
        total.add(m)
    names = dict(department.services.values_list("id", "name"))
    all_targets = targets_get()
    targets = {**all_targets.get(None, {}), **all_targets.get(department.pk, {})}
    by_service_type: list[ServiceTypeFigures] = [
        {"service_type_id": k[0], "service_type": names.get(k[0]), **m.summary()}
        for k, m in sorted(by_type.items(), key=lambda kv: names.get(kv[0][0], ""))
    ]
    trend: list[TrendDay] = []
    for day_key in sorted(by_day):
        m = by_day[day_key]
        s = m.summary()
        trend.append(
            {
                "day": day_key[0].isoformat(),
                "created": m.created,
                "closed": m.closed,
                "ttc_p50_h": s["ttc_p50_h"],
                "ttc_p90_h": s["ttc_p90_h"],
                "on_time_share": s["on_time_share"],
            }
        )
    return {
        "department": {"id": department.pk, "code": department.code, "name": department.name},
        "window": window.as_dict(),
        "score": score_card(total, targets),
        "summary": total.summary(),
        "backlog": backlog_now(service_type_ids=types),
        "by_service_type": by_service_type,
        "trend": trend,
        "overdue": overdue_list(service_type_ids=types, limit=50),
    }
