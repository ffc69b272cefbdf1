"""Synthetic service requests with a realistic shape, for benchmarks and demos.

- Volume per day follows the seasons (a summer peak, +-25 %) and the week (Mondays busiest,
  Sundays ~60 % of them); hours follow the working day (most between 08:00 and 18:00).
- Service types have their own shares, first-response and resolution-time distributions
  (log-normal around a share of the type's turnaround: most close in time, a long tail does
  not; about a fifth of closed requests miss their due time).
- Places: a share of requests cluster around a few hotspots, the rest spread over the city's
  box (by default Boston's); the grid districts (``areas_grid``) cover the same box.
- Requests whose resolution lies in the future are still open; those past their due time are
  the overdue backlog.

Rows go through ``analytics.loading.requests_load`` (COPY), with events for submission, first
response and close. Deterministic for a given seed."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from analytics.measures import day_start
from backend.catalog.models import ServiceType
from backend.service_requests.models import Channel, CloseReason, Status
from workorders.areas import areas_load

# (south, west, north, east): Boston.
CITY_BOX = (42.23, -71.19, 42.40, -70.99)
WEEKDAY_WEIGHT = (1.2, 1.1, 1.05, 1.0, 0.95, 0.7, 0.6)
HOUR_WEIGHT = (
    (0.2,) * 6
    + (0.6, 1.2, 2.0, 2.4, 2.4, 2.2, 2.0, 2.2, 2.2, 2.0, 1.8, 1.5, 1.1, 0.9, 0.7)
    + (0.5, 0.4, 0.3)
)
CHANNEL_WEIGHT = (
    (Channel.APP, 35),
    (Channel.WEB, 25),
    (Channel.PHONE, 30),
    (Channel.OPEN311, 5),
    (Channel.CHAT, 5),
)
PRIORITY_WEIGHT = ((2, 88), (3, 10), (4, 2))
HOTSPOTS = 12
HOTSPOT_SHARE = 0.4


@dataclass(frozen=True)
class TypeShape:
    type_id: int
    weight: float
    turnaround_h: float
    # Log-normal resolution: median as a share of the turnaround, and sigma.
    close_median_h: float
    close_sigma: float
    response_median_h: float


def type_shapes() -> list[TypeShape]:
    shapes = []
    rng = random.Random(7)
    for type_id, hours in (
        ServiceType.objects.filter(active=True).order_by("id").values_list("id", "turnaround_hours")
    ):
        turnaround = float(hours or 72)
        shapes.append(
            TypeShape(
                type_id=type_id,
                weight=rng.uniform(0.3, 3.0),
                turnaround_h=turnaround,
                close_median_h=turnaround * rng.uniform(0.35, 0.6),
                close_sigma=rng.uniform(0.8, 1.2),
                response_median_h=min(turnaround / 6, rng.uniform(2, 30)),
            )
        )
    return shapes


def day_weights(first: date, days: int) -> list[float]:
    weights = []
    for i in range(days):
        day = first + timedelta(days=i)
        season = 1 + 0.25 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 100) / 365)
        weights.append(season * WEEKDAY_WEIGHT[day.weekday()])
    return weights


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def day_counts(*, rows: int, weights: list[float]) -> list[int]:
    """Splits ``rows`` over the days in proportion to their weights (largest remainders)."""
    total = sum(weights)
    exact = [rows * w / total for w in weights]
    counts = [int(x) for x in exact]
    short = rows - sum(counts)
    for i in sorted(range(len(exact)), key=lambda k: counts[k] - exact[k])[:short]:
        counts[i] += 1
    return counts


def generated_rows(
    *, rows: int, first: date, days: int, seed: int = 1, now: datetime | None = None
) -> Iterator[tuple[Any, ...]]:
    """The rows as ``LoadRow.as_tuple()`` tuples (the fast path of ``requests_load``), in
    time order: the time indexes grow at their right edge, as they do in real life."""
    rng = random.Random(seed)
    now = now or timezone.now()
    shapes = type_shapes()
    if not shapes:
        raise ValueError("The catalog has no active service types: run catalog_load first.")
    counts = day_counts(rows=rows, weights=day_weights(first, days))
    hour_cum = _cumulative(list(HOUR_WEIGHT))
    type_cum = _cumulative([s.weight for s in shapes])
    channels = [c for c, _ in CHANNEL_WEIGHT]
    channel_cum = _cumulative([float(w) for _, w in CHANNEL_WEIGHT])
    priorities = [p for p, _ in PRIORITY_WEIGHT]
    priority_cum = _cumulative([float(w) for _, w in PRIORITY_WEIGHT])
    south, west, north, east = CITY_BOX
    spots = [
        (rng.uniform(south + 0.02, north - 0.02), rng.uniform(west + 0.02, east - 0.02))
        for _ in range(HOTSPOTS)
    ]
    hour_range = range(24)
    type_range = range(len(shapes))
    channel_range = range(len(channels))
    priority_range = range(len(priorities))
    log_response = [math.log(s.response_median_h) for s in shapes]
    log_close = [math.log(s.close_median_h) for s in shapes]
    hour = timedelta(hours=1)
    submitted, acknowledged, closed_status = Status.SUBMITTED, Status.ACKNOWLEDGED, Status.CLOSED
    resolved = CloseReason.RESOLVED
    number = 0
    for d, count in enumerate(counts):
        start = day_start(first + timedelta(days=d))
        hours = rng.choices(hour_range, cum_weights=hour_cum, k=count)
        offsets = sorted(h * 3600 + rng.randrange(3600) for h in hours)
        kinds = rng.choices(type_range, cum_weights=type_cum, k=count)
        chans = rng.choices(channel_range, cum_weights=channel_cum, k=count)
        prios = rng.choices(priority_range, cum_weights=priority_cum, k=count)
        for k in range(count):
            requested = start + timedelta(seconds=offsets[k])
            if requested > now:
                break
            t = kinds[k]
            shape = shapes[t]
            if rng.random() < HOTSPOT_SHARE:
                lat0, lon0 = spots[number % HOTSPOTS]
                lat, lon = rng.gauss(lat0, 0.004), rng.gauss(lon0, 0.005)
            else:
                lat, lon = rng.uniform(south, north), rng.uniform(west, east)
            response_h = rng.lognormvariate(log_response[t], 1.0)
            close_h = max(response_h, rng.lognormvariate(log_close[t], shape.close_sigma))
            closed = requested + close_h * hour
            status = submitted
            first_response = None
            closed_at = None
            reason = ""
            if closed <= now:
                status, closed_at, reason = closed_status, closed, resolved
                if response_h < close_h:
                    first_response = requested + response_h * hour
            else:
                responded = requested + response_h * hour
                if responded <= now:
                    status, first_response = acknowledged, responded
            yield (
                f"GEN-{seed}-{number:09d}",
                shape.type_id,
                round(lon, 6),
                round(lat, 6),
                "",
                "",
                status,
                channels[chans[k]],
                requested,
                closed_at or first_response or requested,
                requested + shape.turnaround_h * hour,
                closed_at,
                reason,
                priorities[prios[k]],
                "",
                "{}",
                first_response,
                "",
            )
            number += 1


def areas_grid(
    *,
    rows: int = 5,
    cols: int = 5,
    box: tuple[float, float, float, float] = CITY_BOX,
    kind: str = "district",
) -> Any:
    """A grid of rows x cols rectangular districts over the box, loaded as areas."""
    south, west, north, east = box
    dy, dx = (north - south) / rows, (east - west) / cols
    features = []
    for r in range(rows):
        for c in range(cols):
            s, w = south + r * dy, west + c * dx
            ring = [[w, s], [w + dx, s], [w + dx, s + dy], [w, s + dy], [w, s]]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": f"District {chr(65 + r)}{c + 1}"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return areas_load(
        data={"type": "FeatureCollection", "features": features}, name_property="name", kind=kind
    )
