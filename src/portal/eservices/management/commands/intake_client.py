"""``portal intake_client <name>``: register a case-handling system that reads the intake feed,
and print its secret (once: only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.eservices.intake import intake_client_create


class Command(BaseCommand):
    help = "Register a reader of the intake feed and print its secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        client, secret = intake_client_create(name=options["name"])
        self.stdout.write(
            f"Intake client {client.name!r} registered. Its secret (shown only now): {secret}"
        )
