"""``portal load_demo_data``: the fictional people and the demo terms that ``make run`` needs so a
newcomer can log in and connect a fictional company at once. Safe to run again: nothing is
created twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal import audit
from portal.audit.constants import EventType
from portal.identity.demo import DEMO_PEOPLE
from portal.identity.models import Person
from portal.terms.demo import DEMO_TERMS
from portal.terms.models import TermsVersion


class Command(BaseCommand):
    help = "Load the fictional demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            people = sum(
                Person.objects.get_or_create(
                    personal_number=demo.personal_number,
                    defaults={
                        "given_name": demo.given_name,
                        "surname": demo.surname,
                        "email": demo.email,
                        "password": "!",  # unusable: nobody has a password
                    },
                )[1]
                for demo in DEMO_PEOPLE
            )
            terms = sum(
                TermsVersion.objects.get_or_create(
                    version=values["version"], defaults={**values, "published_at": timezone.now()}
                )[1]
                for values in DEMO_TERMS
            )
            if people or terms:
                audit.record(
                    EventType.SYSTEM_DEMO_DATA_LOADED,
                    actor=None,
                    data={"people": people, "terms_versions": terms},
                )
        self.stdout.write(f"Demo data: {people} new people, {terms} new terms versions.")
