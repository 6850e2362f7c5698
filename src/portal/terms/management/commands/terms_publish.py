"""``portal terms_publish``: publish a new version of the terms from text files.

Until the staff screens for terms editors exist, this is how an agency publishes a change:
every connected employer's administrators are notified at once (R16).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from portal.common.errors import ApplicationError
from portal.terms.models import TermsVersion
from portal.terms.services import terms_publish


class Command(BaseCommand):
    help = "Publish a new terms version (texts from files; paragraphs separated by blank lines)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--terms-version", required=True, help="e.g. 2027-03")
        parser.add_argument("--effective-from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--title-sv", required=True)
        parser.add_argument("--title-en", required=True)
        parser.add_argument(
            "--text-sv", required=True, type=Path, help="file with the Swedish text"
        )
        parser.add_argument(
            "--text-en", required=True, type=Path, help="file with the English text"
        )
        parser.add_argument("--changes-sv", default="", help="a short summary of the changes")
        parser.add_argument("--changes-en", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            effective_from = date.fromisoformat(options["effective_from"])
            text_sv = options["text_sv"].read_text(encoding="utf-8")
            text_en = options["text_en"].read_text(encoding="utf-8")
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from None
        if TermsVersion.objects.filter(version=options["terms_version"]).exists():
            msg = f"version {options['terms_version']} already exists"
            raise CommandError(msg)
        try:
            with transaction.atomic():
                version = TermsVersion.objects.create(
                    version=options["terms_version"],
                    title_sv=options["title_sv"],
                    title_en=options["title_en"],
                    text_sv=text_sv,
                    text_en=text_en,
                    changes_sv=options["changes_sv"],
                    changes_en=options["changes_en"],
                    effective_from=effective_from,
                )
                queued = terms_publish(version=version, actor=None)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Published {version.version}, effective {effective_from}; {queued} notices queued."
        )
