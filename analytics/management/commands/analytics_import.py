"""Imports a historical 311 export: ``manage.py analytics_import boston FILE.csv``.

Formats: ``boston`` (Analyze Boston), ``nyc`` (NYC Open Data), ``georeport`` (GeoReport bulk
CSV, the shape of /open-data/requests.csv). Types are mapped to the catalog through a mapping
file (default ``analytics/mappings/<format>.csv``). The file is COPYed to the database and
moved there (``analytics.importing``), then the rollups of the loaded days are rebuilt."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from analytics.importing import FORMATS, ImportProblem, csv_import
from analytics.loading import MAPPINGS, mapping_load, secondary_indexes_dropped
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
        zone_name = options["time_zone"] or settings.TIME_ZONE
        try:
            ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"--time-zone: unknown time zone {zone_name!r}") from exc
        with path.open("rb") as handle:
            total = max(0, sum(1 for _ in handle) - 1)
        started = time.perf_counter()
        try:
            with tqdm(
                total=total, unit="rows", disable=options["no_progress"], file=self.stderr
            ) as bar:
                if options["bulk"]:
                    with secondary_indexes_dropped():
                        report = csv_import(
                            path, fmt, mapping=mapping, zone=zone_name, progress=bar.update
                        )
                else:
                    report = csv_import(
                        path, fmt, mapping=mapping, zone=zone_name, progress=bar.update
                    )
        except ImportProblem as exc:
            raise CommandError(f"{path}: {exc}") from exc
        loaded_s = time.perf_counter() - started
        rate = report.read / loaded_s if loaded_s > 0 else 0.0
        self.stdout.write(
            f"read {report.read} rows: {report.inserted} imported, "
            f"{report.present} already present, {report.invalid} skipped "
            f"in {loaded_s:.2f} s ({rate:,.0f} rows/s)"
        )
        for line in report.problems:
            self.stdout.write(f"  skipped {line}")
        if not options["no_rollups"] and report.first_day is not None:
            started = time.perf_counter()
            days = rollups_rebuild(first=report.first_day, last=report.last_day)
            self.stdout.write(
                f"rollups rebuilt for {len(days)} days in {time.perf_counter() - started:.2f} s"
            )
