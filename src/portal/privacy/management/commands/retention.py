"""``portal retention``: the daily task that applies the retention rules (drafts, login records,
e-ID orders, sessions); each purge is recorded in the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.privacy.retention import retention_run


class Command(BaseCommand):
    help = "Remove personal data past its retention period (run daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = retention_run()
        self.stdout.write(
            "Retention: "
            + ", ".join(f"{count} {what}" for what, count in done.items())
            + " removed."
        )
