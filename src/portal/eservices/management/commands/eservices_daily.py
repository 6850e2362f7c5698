"""``portal eservices_daily``: the e-services' daily housekeeping (drafts past their time, and
reminders of unanswered inquiries)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.eservices.framework import drafts_purge
from portal.eservices.inquiries.services import inquiry_reminders


class Command(BaseCommand):
    help = "Remove drafts untouched for PORTAL_DRAFT_DAYS days; remind of unanswered inquiries."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"E-services: {drafts_purge()} old drafts removed.")
        before, after = inquiry_reminders()
        self.stdout.write(f"Inquiries: {before} reminded before the due date, {after} after it.")
