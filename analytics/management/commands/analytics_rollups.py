"""``manage.py analytics_rollups``: folds new events into the daily rollups (what the beat job
does); ``--rebuild`` recomputes every day (or ``--first``/``--last``) from the raw tables."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.rollups import rollups_rebuild, rollups_refresh


class Command(BaseCommand):
    help = "Refresh (or rebuild) the analytics daily rollups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true")
        parser.add_argument("--first", type=date.fromisoformat)
        parser.add_argument("--last", type=date.fromisoformat)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["rebuild"]:
            days = rollups_rebuild(first=options["first"], last=options["last"])
            self.stdout.write(f"rebuilt {len(days)} days in {time.perf_counter() - started:.1f} s")
            return
        report = rollups_refresh()
        self.stdout.write(
            f"refreshed {len(report.days)} days from {report.events} events "
            f"in {time.perf_counter() - started:.2f} s"
        )
