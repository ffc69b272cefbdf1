"""The outbox dispatcher: hands on pending side effects, forever (``--once``: one pass).

Needs only PostgreSQL: while Redis or the broker is away it keeps the rows and retries with
backoff; while the database is away it waits and reconnects."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections

from backend.outbox.services import outbox_dispatch, outbox_oldest_wait, outbox_purge

PURGE_EVERY_S = 600.0


class Command(BaseCommand):
    help = "Hand on the outbox's pending side effects (Celery tasks, pushes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
        parser.add_argument(
            "--check",
            type=float,
            metavar="SECONDS",
            help="health check: exit 1 if a side effect has waited longer than this",
        )

    def handle(
        self,
        *args: Any,
        once: bool = False,
        interval: float = 0.5,
        check: float | None = None,
        **kwargs: Any,
    ) -> None:
        if check is not None:
            waited = outbox_oldest_wait()
            self.stdout.write(f"oldest pending side effect: {waited:.0f} s")
            if waited > check:
                raise SystemExit(1)
            return
        if once:
            self.stdout.write(f"{outbox_dispatch()} handed on")
            return
        purged_at = 0.0
        while True:
            try:
                handed_on = outbox_dispatch()
                if time.monotonic() - purged_at > PURGE_EVERY_S:
                    outbox_purge()
                    purged_at = time.monotonic()
            except (OperationalError, InterfaceError) as exc:
                self.stderr.write(f"outbox: database away ({exc}); retrying")
                close_old_connections()
                from django.db import connection

                connection.close()
                time.sleep(1.0)
                continue
            if handed_on == 0:
                time.sleep(interval)
