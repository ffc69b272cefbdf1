from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from backend.catalog.services import DEFAULT_CATALOG, catalog_load_file


class Command(BaseCommand):
    help = "Load the service catalog (departments, services, attributes). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEFAULT_CATALOG)
        parser.add_argument(
            "--update", action="store_true", help="Reset existing entries to the file's values"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = catalog_load_file(path=options["file"], update=options["update"])
        self.stdout.write(
            f"catalog: {report.departments_created} departments and "
            f"{report.services_created} services created, {report.services_updated} updated, "
            f"{report.attributes_created} attributes created"
        )
