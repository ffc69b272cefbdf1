"""Imports a historical 311 export: ``manage.py analytics_import boston FILE.csv``.

Formats: ``boston`` (Analyze Boston), ``nyc`` (NYC Open Data), ``georeport`` (GeoReport bulk
CSV, the shape of /open-data/requests.csv). Types are mapped to the catalog through a mapping
file (default ``analytics/mappings/<format>.csv``). Rows are COPYed (``analytics.loading``;
``--method``, ``--bulk``: see there and bench/README.md), then the rollups of the loaded days
are rebuilt."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from analytics.loading import (
    FORMATS,
    MAPPINGS,
    METHODS,
    csv_records,
    mapping_load,
    requests_load,
)
from analytics.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Import a Boston, NYC or GeoReport bulk CSV export of 311 requests (COPY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=sorted(FORMATS))
        parser.add_argument("path", type=Path)
        parser.add_argument("--mapping", type=Path, help="Mapping file (CSV)")
        parser.add_argument("--time-zone", default=None, help="Time zone of the file's local times")
        parser.add_argument("--no-rollups", action="store_true", help="Skip the rollup rebuild")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--bulk",
            action="store_true",
            help="offline initial load only: drop the secondary indexes of the request and"
            " event tables, load in one transaction, rebuild them (locks both tables"
            " exclusively for the whole load)",
        )
        parser.add_argument(
            "--method",
            choices=METHODS,
            default="staging",
            help="staging: COPY into a temporary table, then INSERT ... SELECT (default);"
            " copy: COPY straight into the tables (no faster, kept for comparison)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        fmt = options["format"]
        mapping_path = options["mapping"] or MAPPINGS / f"{fmt}.csv"
        try:
            mapping = mapping_load(mapping_path)
        except (OSError, KeyError, ValueError) as exc:
            raise CommandError(f"mapping {mapping_path}: {exc}") from exc
        zone = ZoneInfo(options["time_zone"] or settings.TIME_ZONE)
        with path.open("rb") as handle:
            total = max(0, sum(1 for _ in handle) - 1)
        skipped: list[str] = []
        started = time.perf_counter()
        with tqdm(
            total=total, unit="rows", disable=options["no_progress"], file=self.stderr
        ) as bar:
            report = requests_load(
                FORMATS[fmt](
                    csv_records(path), mapping=mapping, zone=zone, report_skip=skipped.append
                ),
                progress=bar.update,
                method=options["method"],
                bulk=options["bulk"],
            )
        loaded_s = time.perf_counter() - started
        rate = report.read / loaded_s if loaded_s > 0 else 0.0
        self.stdout.write(
            f"read {report.read + len(skipped)} rows: {report.inserted} imported, "
            f"{report.skipped} already present, {len(skipped)} skipped "
            f"in {loaded_s:.2f} s ({rate:,.0f} rows/s)"
        )
        for line in skipped[:20]:
            self.stdout.write(f"  skipped {line}")
        if not options["no_rollups"] and report.first_day is not None:
            started = time.perf_counter()
            days = rollups_rebuild(first=report.first_day, last=report.last_day)
            self.stdout.write(
                f"rollups rebuilt for {len(days)} days in {time.perf_counter() - started:.2f} s"
            )
