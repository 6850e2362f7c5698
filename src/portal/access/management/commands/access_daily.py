"""``portal access_daily``: the access housekeeping that happens once a day (R8). Meant to run
from cron or a systemd timer; running it more often, or twice by mistake, does no harm.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.access.reviews import access_daily_run


class Command(BaseCommand):
    help = (
        "Record expired grants in the audit log and tell their people, schedule missing access "
        "reviews, send the review reminders due (14 and 3 days before) and, when "
        "PORTAL_ACCESS_REVIEW_SUSPEND_AFTER_DAYS is set, suspend users nobody confirmed in an "
        "overdue review. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(access_daily_run()))
