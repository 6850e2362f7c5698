"""How a person is shown on the pages: by name, and by a masked identity number or, for someone
with a foreign e-ID, by the country and a masked eIDAS identifier.

``{% load people_tags %}``, then ``{{ person|masked_identity }}`` (``19121212-****`` or
``Utländsk e-legitimation (DE), DE/SE/****7890``) or ``{{ person|display_name }}`` (the name, or
the masked identity of someone who has not logged in yet).
"""

from __future__ import annotations

from django import template

from portal.identity.eidas_identifiers import person_masked
from portal.identity.models import Person

register = template.Library()

#: The fields of a person ``display_name`` and ``masked_identity`` read (for ``QuerySet.only``).
DISPLAY_NAME_FIELDS = ("given_name", "surname", "personal_number", "eidas_identifier")


@register.filter
def masked_identity(person: Person | None) -> str:
    return person_masked(person) if isinstance(person, Person) else ""


@register.filter
def display_name(person: Person | None) -> str:
    if not isinstance(person, Person):
        return ""
    return person.full_name or person_masked(person)
