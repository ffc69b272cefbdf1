"""``python manage.py retention_apply [--dry-run]``: the retention policy, once (beat runs it
nightly). See ``backend/service_requests/retention.py`` and docs/reliability.md, "Privacy"."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.service_requests.retention import BATCH_SIZE, retention_apply


class Command(BaseCommand):
    help = (
        "Erase the reporter's contact data of requests closed more than RETENTION_CLOSED_DAYS "
        "ago (not on legal hold), everywhere it lives, and anonymise resident accounts "
        "inactive for RETENTION_ACCOUNT_MONTHS. Prints what it erased, per kind. Running it "
        "again erases nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be erased, and change nothing",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Rows per transaction (default {BATCH_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        report = retention_apply(dry_run=options["dry_run"], batch_size=options["batch_size"])
        for line in report.lines():
            self.stdout.write(line)
