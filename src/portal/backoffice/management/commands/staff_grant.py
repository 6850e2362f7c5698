"""``portal staff_grant <personal number> <role> [<role> ...]``: give staff roles from the command
line.

For the first staff administrator of a new installation, and for operations; afterwards staff
administrators grant roles in the back-office (``/handlaggning/personal/``). Each grant is
audited, through the same service as the back-office's.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backoffice.models import StaffRole
from portal.backoffice.services import RoleAlreadyActive, staff_role_grant
from portal.identity.numbers import (
    InvalidPersonalNumber,
    mask_personal_number,
    normalise_personal_number,
)


class Command(BaseCommand):
    help = "Give a person one or more staff roles (case_worker, partner_support, terms_editor, operations, auditor, staff_administrator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("personal_number")
        parser.add_argument(
            "roles", nargs="+", metavar="role", choices=[choice.value for choice in StaffRole.Role]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            number = normalise_personal_number(options["personal_number"])
        except InvalidPersonalNumber as error:
            raise CommandError(f"not a personal identity number: {error}") from None
        # Each role is its own grant, audited on its own, as in the back-office.
        for role in dict.fromkeys(options["roles"]):
            try:
                staff_role_grant(personal_number=number, role=role, actor=None, via="command")
            except RoleAlreadyActive:
                state = "already held"
            else:
                state = "granted"
            self.stdout.write(f"{mask_personal_number(number)}: {role} {state}.")
