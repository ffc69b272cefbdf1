"""``python manage.py demo_load``: demo users and requests for development (idempotent)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.service_requests.demo import DemoRefused, demo_load
from backend.service_requests.models import Channel, Status


class Command(BaseCommand):
    help = (
        "Load demo data: the users admin, supervisor, crew and resident, and three dozen "
        "requests around central Boston filed and moved through the real services. "
        "Running it again creates nothing. Refuses to run in production unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo data even when CITY311_ENV is production",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = demo_load(force=options["force"])
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if settings.ENVIRONMENT == "production":
            self.stdout.write(self.style.WARNING("Loaded into a PRODUCTION environment (--force)."))

        self.stdout.write("Users (development passwords):")
        for user in report.users:
            state = "created" if user.created else "already existed, password left unchanged"
            self.stdout.write(f"  {user.username:<11} {user.password:<24} {user.role:<12} {state}")

        if report.requests_existing:
            self.stdout.write(
                f"Demo requests: {report.requests_existing} already exist; none created. "
                "Nothing to do."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo requests: created {report.requests_created} "
                f"across {len(report.services)} services."
            )
        )
        by_status = ", ".join(
            f"{report.statuses[s]} {Status(s).label.lower()}" for s in Status if report.statuses[s]
        )
        by_channel = ", ".join(f"{report.channels[c]} {c}" for c in Channel if report.channels[c])
        self.stdout.write(f"  by status:  {by_status}")
        self.stdout.write(f"  by channel: {by_channel}")
        self.stdout.write("Sign in at /admin/ as admin or supervisor.")
