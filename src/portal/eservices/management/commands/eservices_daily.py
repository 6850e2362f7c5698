"""``portal eservices_daily``: the e-services' daily housekeeping (drafts past their time)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.eservices.framework import drafts_purge


class Command(BaseCommand):
    help = "Remove drafts untouched for PORTAL_DRAFT_DAYS days."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"E-services: {drafts_purge()} old drafts removed.")
