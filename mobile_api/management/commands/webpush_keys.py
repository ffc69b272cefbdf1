from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mobile_api.push import vapid_keys_generate


class Command(BaseCommand):
    help = (
        "Make a new VAPID key pair for Web Push, printed (or written with --file, mode 0600) "
        "as the two lines of environment settings WEB_PUSH_VAPID_PRIVATE_KEY and "
        "WEB_PUSH_VAPID_PUBLIC_KEY. A new pair invalidates every browser subscription."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, help="Write the pair to this file instead")

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = vapid_keys_generate()
        text = f"WEB_PUSH_VAPID_PRIVATE_KEY={private}\nWEB_PUSH_VAPID_PUBLIC_KEY={public}\n"
        path: Path | None = options["file"]
        if path is None:
            self.stdout.write(text, ending="")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"VAPID key pair written to {path}")
