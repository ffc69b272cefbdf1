"""``manage.py open311_key create --name NAME --channel CHANNEL [--key VALUE]`` prints the
key (the only time it is shown); ``list``; ``revoke --name NAME``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.open311.models import ApiKey
from backend.open311.selectors import api_key_list
from backend.open311.services import api_key_create, api_key_revoke
from backend.service_requests.models import Channel


class Command(BaseCommand):
    help = "Issue, list and revoke Open311 API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Issue a key and print it")
        create.add_argument("--name", required=True)
        create.add_argument("--channel", default=Channel.OPEN311, choices=Channel.values)
        create.add_argument(
            "--key", default=None, help="Use this value (idempotent: same key, same answer)"
        )
        sub.add_parser("list", help="The keys (prefixes only)")
        revoke = sub.add_parser("revoke", help="Revoke a key")
        revoke.add_argument("--name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            try:
                issued = api_key_create(
                    name=options["name"], channel=options["channel"], raw=options["key"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            if not issued.api_key.active:
                self.stderr.write(f"warning: the key {issued.api_key.name!r} is revoked")
            self.stdout.write(issued.raw)
        elif action == "list":
            for api_key in api_key_list():
                state = "active" if api_key.active else "revoked"
                used = api_key.last_used_at.isoformat() if api_key.last_used_at else "never"
                self.stdout.write(
                    f"{api_key.name}\t{api_key.prefix}…\t{api_key.channel}\t{state}\tused {used}"
                )
        else:
            found = ApiKey.objects.filter(name=options["name"]).first()
            if found is None:
                raise CommandError(f"No key named {options['name']!r}.")
            api_key_revoke(api_key=found)
            self.stdout.write(f"revoked {found.name}")
