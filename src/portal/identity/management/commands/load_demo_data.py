"""``portal load_demo_data``: the fictional people (and, as later parts arrive, employers) that
``make run`` needs so a newcomer can log in at once. Safe to run again: it changes nothing twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from portal import audit
from portal.audit.constants import EventType
from portal.identity.demo import DEMO_PEOPLE
from portal.identity.models import Person


class Command(BaseCommand):
    help = "Load the fictional demo people (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        with transaction.atomic():
            for demo in DEMO_PEOPLE:
                _person, was_created = Person.objects.get_or_create(
                    personal_number=demo.personal_number,
                    defaults={
                        "given_name": demo.given_name,
                        "surname": demo.surname,
                        "email": demo.email,
                        "password": "!",  # unusable: nobody has a password
                    },
                )
                created += was_created
            if created:
                audit.record(
                    EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"people": created}
                )
        self.stdout.write(
            f"Demo data: {created} new people, {len(DEMO_PEOPLE) - created} already present."
        )
