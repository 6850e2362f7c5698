"""``portal outbox_flush``: re-enqueue outbox messages that a crashed worker or a lost task left
behind. Meant to run every few minutes (a cron job or systemd timer next to ``portal db_worker``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.messaging.services import STUCK_AFTER, outbox_flush


def _positive_int(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


class Command(BaseCommand):
    help = (
        "Re-enqueue outbox messages stuck in 'queued' or 'sending' for longer than the given "
        "number of minutes (a worker crash, a lost task), so that none is lost."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stuck-minutes",
            type=_positive_int,
            default=int(STUCK_AFTER.total_seconds() // 60),
            help="How long a message may wait before it counts as stuck (default: %(default)s).",
        )
        parser.add_argument(
            "--limit",
            type=_positive_int,
            default=1000,
            help="At most this many messages per run, oldest first (default: %(default)s).",
        )

    def handle(self, *args: Any, stuck_minutes: int, limit: int, **options: Any) -> None:
        requeued = outbox_flush(stuck_after=timedelta(minutes=stuck_minutes), limit=limit)
        self.stdout.write(f"Outbox: {requeued} stuck messages re-enqueued.")
