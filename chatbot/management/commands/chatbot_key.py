"""``manage.py chatbot_key --file .var/chatbot/api-key``: the assistant's Open311 API key
(channel ``chat``), issued if missing and written to the file (owner-only) for the action
server. Idempotent: ``make run`` and ``make test`` call it every time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatbot.services import chatbot_api_key_ensure


class Command(BaseCommand):
    help = "Issue the chatbot's Open311 API key (idempotent) and write it to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", required=True, help="Where the action server reads it")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            raw = chatbot_api_key_ensure()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(options["file"])
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(raw + "\n")
        os.chmod(path, 0o600)
