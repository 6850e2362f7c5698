"""``portal db_grant_runtime <role>``: give the application's runtime database role its privileges
(PostgreSQL; run as the tables' owner after ``portal migrate``). See ``portal.audit.database``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.audit.database import AUDIT_TABLES, grant_runtime


class Command(BaseCommand):
    help = (
        "Grant the runtime database role its privileges: the audit log is SELECT and INSERT only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the PostgreSQL role the portal runs as")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            statements = grant_runtime(options["role"])
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Granted {options['role']} its privileges ({len(statements)} statements); "
            f"{', '.join(AUDIT_TABLES)}: SELECT and INSERT only."
        )
