"""``python manage.py areas_load wards.geojson --name-property NAME [--kind ward]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workorders.areas import AreasFileError, areas_load


class Command(BaseCommand):
    help = (
        "Load areas (wards, districts) from a GeoJSON FeatureCollection of (Multi)Polygons in "
        "WGS 84 longitude/latitude, for routing rules. Areas are matched by kind and name: "
        "loading again updates them. All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The GeoJSON file")
        parser.add_argument(
            "--name-property",
            required=True,
            help="The feature property that names each area (e.g. NAME, WARD)",
        )
        parser.add_argument("--kind", default="ward", help="What the areas are (default: ward)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CommandError(f"No file {path}.") from exc
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"{path} is not a JSON file: {exc}") from exc
        try:
            report = areas_load(
                data=data, name_property=options["name_property"], kind=options["kind"]
            )
        except AreasFileError as exc:
            raise CommandError(f"{path}: {exc} Nothing was loaded.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Areas ({options['kind']}): {len(report.created)} created, "
                f"{len(report.updated)} updated."
            )
        )
        for name in report.repaired:
            self.stdout.write(self.style.WARNING(f"  {name}: invalid polygon repaired"))
