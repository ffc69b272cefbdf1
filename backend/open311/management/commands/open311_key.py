"""``manage.py open311_key create --name NAME --channel CHANNEL [--key VALUE] [--updates]``
prints the key (the only time it is shown; ``--updates`` lets it post residents' updates to
``servicerequestupdates``); ``list``; ``revoke --name NAME``; ``updates --name NAME
--allow|--forbid`` grants or withdraws that permission."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.open311.models import ApiKey
from backend.open311.selectors import api_key_list
from backend.open311.services import api_key_create, api_key_revoke, api_key_updates_allow
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
        create.add_argument(
            "--updates",
            action="store_true",
            help="May post residents' updates (servicerequestupdates)",
        )
        sub.add_parser("list", help="The keys (prefixes only)")
        revoke = sub.add_parser("revoke", help="Revoke a key")
        revoke.add_argument("--name", required=True)
        updates = sub.add_parser("updates", help="Grant or withdraw posting residents' updates")
        updates.add_argument("--name", required=True)
        choice = updates.add_mutually_exclusive_group(required=True)
        choice.add_argument("--allow", action="store_true")
        choice.add_argument("--forbid", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            try:
                issued = api_key_create(
                    name=options["name"],
                    channel=options["channel"],
                    raw=options["key"],
                    may_post_updates=options["updates"],
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
                updates = "\tupdates" if api_key.may_post_updates else ""
                self.stdout.write(
                    f"{api_key.name}\t{api_key.prefix}…\t{api_key.channel}\t{state}\tused {used}"
                    + updates
                )
        else:
            found = ApiKey.objects.filter(name=options["name"]).first()
            if found is None:
                raise CommandError(f"No key named {options['name']!r}.")
            if action == "updates":
                api_key_updates_allow(api_key=found, allowed=bool(options["allow"]))
                verb = "may" if options["allow"] else "may not"
                self.stdout.write(f"{found.name} {verb} post updates")
            else:
                api_key_revoke(api_key=found)
                self.stdout.write(f"revoked {found.name}")
