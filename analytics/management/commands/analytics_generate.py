"""Generates synthetic requests (``analytics.generator``): ``manage.py analytics_generate
--rows 5000000``. Loads a grid of districts first (``--grid 5``), then COPYs the rows and
rebuilds the rollups."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from analytics.generator import areas_grid, generated_rows
from analytics.loading import requests_load
from analytics.measures import local_today
from analytics.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Generate synthetic service requests for benchmarks (COPY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=730, help="Spread over this many days")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--grid", type=int, default=5, help="Districts per side (0: none)")
        parser.add_argument("--no-rollups", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["grid"]:
            report = areas_grid(
                rows=options["grid"], cols=options["grid"], kind=settings.ANALYTICS_AREA_KIND
            )
            self.stdout.write(
                f"districts: {len(report.created)} created, {len(report.updated)} updated"
            )
        days = options["days"]
        first = local_today() - timedelta(days=days - 1)
        started = time.perf_counter()
        with tqdm(
            total=options["rows"], unit="rows", disable=options["no_progress"], file=self.stderr
        ) as bar:
            load = requests_load(
                generated_rows(rows=options["rows"], first=first, days=days, seed=options["seed"]),
                progress=bar.update,
            )
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"generated {load.inserted} requests ({load.skipped} already present) in "
            f"{seconds:.1f} s ({load.read / seconds:,.0f} rows/s)"
        )
        if not options["no_rollups"] and load.first_day is not None:
            started = time.perf_counter()
            rebuilt = rollups_rebuild(first=load.first_day, last=load.last_day)
            self.stdout.write(
                f"rollups rebuilt for {len(rebuilt)} days in {time.perf_counter() - started:.1f} s"
            )
