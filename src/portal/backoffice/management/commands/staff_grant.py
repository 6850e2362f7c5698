"""``portal staff_grant <personal number> <role>``: give a staff role from the command line.

For the first staff administrator of a new installation, and for operations; afterwards staff
administrators grant roles in the back-office. Each grant is audited.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from portal import audit
from portal.audit.constants import EventType
from portal.backoffice.models import StaffRole
from portal.identity.models import Person
from portal.identity.numbers import (
    InvalidPersonalNumber,
    mask_personal_number,
    normalise_personal_number,
)


class Command(BaseCommand):
    help = "Give a person a staff role (case_worker, partner_support, terms_editor, operations, auditor, staff_administrator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("personal_number")
        parser.add_argument("role", choices=[choice.value for choice in StaffRole.Role])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            number = normalise_personal_number(options["personal_number"])
        except InvalidPersonalNumber as error:
            raise CommandError(f"not a personal identity number: {error}") from None
        with transaction.atomic():
            person, _created = Person.objects.get_or_create(
                personal_number=number, defaults={"password": "!"}
            )
            role, created = StaffRole.objects.get_or_create(
                person=person, role=options["role"], revoked_at__isnull=True
            )
            if created:
                audit.record(
                    EventType.STAFF_ROLE_GRANTED,
                    actor=None,
                    object_type="person",
                    object_id=str(person.public_id),
                    data={"role": role.role, "via": "command"},
                )
        state = "granted" if created else "already held"
        self.stdout.write(f"{mask_personal_number(number)}: {options['role']} {state}.")
