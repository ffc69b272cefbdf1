"""Input serializers of the analytics API: every bad query parameter is a 400 naming it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from analytics.measures import local_today
from analytics.selectors import EQUITY_METRICS, PERIOD_DAYS, Window, window_for
from backend.catalog.models import Department, ServiceType

MAX_WINDOW_DAYS = 731
# The earliest day a window may touch: before it, a trailing period runs off the calendar.
EARLIEST = date(1900, 1, 1)
QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class WindowIn(serializers.Serializer):
    """A trailing ``period`` ending on ``date`` (default today), or ``start``..``end``."""

    period = serializers.ChoiceField(choices=sorted(PERIOD_DAYS), default="week")
    date = serializers.DateField(required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = local_today()
        errors: dict[str, list[str]] = {}
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            errors["start" if start is None else "end"] = ["Give both start and end, or neither."]
        elif start is not None and end is not None:
            if end < start:
                errors["end"] = ["end is before start."]
            elif (end - start).days + 1 > MAX_WINDOW_DAYS:
                errors["start"] = [f"The window is longer than {MAX_WINDOW_DAYS} days."]
            elif end > today:
                errors["end"] = ["end is in the future."]
        day = attrs.get("date")
        if day is not None and day > today:
            errors["date"] = ["date is in the future."]
        for name in ("date", "start", "end"):
            if attrs.get(name) is not None and attrs[name] < EARLIEST:
                errors.setdefault(name, []).append(_("Dates start on 1900-01-01."))
        if errors:
            raise serializers.ValidationError(errors)
        if start is not None and end is not None:
            attrs["window"] = Window(start, end)
        else:
            attrs["window"] = window_for(period=attrs["period"], end=day or today)
        return attrs


class DepartmentWindowIn(WindowIn):
    period = serializers.ChoiceField(choices=sorted(PERIOD_DAYS), default="quarter")


class MetricsIn(WindowIn):
    group_by = serializers.ChoiceField(
        choices=["service_type", "department", "area", "channel", "day"], default="service_type"
    )
    department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False
    )


class BacklogIn(WindowIn):
    period = serializers.ChoiceField(choices=sorted(PERIOD_DAYS), default="month")
    department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False
    )


class EquityIn(WindowIn):
    period = serializers.ChoiceField(choices=sorted(PERIOD_DAYS), default="quarter")
    metric = serializers.ChoiceField(choices=sorted(EQUITY_METRICS), default="on_time_share")
    service_type = serializers.SlugRelatedField(
        slug_field="service_code", queryset=ServiceType.objects.all(), required=False
    )


class HotspotsIn(serializers.Serializer):
    service_type = serializers.SlugRelatedField(
        slug_field="service_code", queryset=ServiceType.objects.all()
    )
    quarter = serializers.CharField(
        required=False, help_text="e.g. 2026Q3 (default: the last 91 days)"
    )
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = local_today()
        quarter = attrs.get("quarter")
        start, end = attrs.get("start"), attrs.get("end")
        if quarter:
            found = QUARTER.match(quarter.strip().upper())
            if not found:
                raise serializers.ValidationError({"quarter": ["Use YYYYQn, e.g. 2026Q1."]})
            year, q = int(found.group(1)), int(found.group(2))
            if not 2000 <= year <= today.year:
                raise serializers.ValidationError({"quarter": ["The year is out of range."]})
            first = date(year, 3 * q - 2, 1)
            after = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
            if first > today:
                raise serializers.ValidationError({"quarter": ["The quarter is in the future."]})
            attrs["window"] = Window(first, min(after - timedelta(days=1), today))
            return attrs
        window_in = WindowIn(
            data={k: v.isoformat() for k, v in (("start", start), ("end", end)) if v}
            | {"period": "quarter"}
        )
        window_in.is_valid(raise_exception=True)
        attrs["window"] = window_in.validated_data["window"]
        return attrs


class OverdueIn(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)
