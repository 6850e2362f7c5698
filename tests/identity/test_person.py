from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from portal.identity.models import Person


@pytest.mark.django_db
def test_a_person_needs_an_identifier() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(given_name="Ingen", surname="Identitet")


@pytest.mark.django_db
def test_personal_numbers_are_stored_normalised() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(personal_number="1912121-1212")


@pytest.mark.django_db
def test_nobody_has_a_usable_password() -> None:
    person = Person.objects.create_person(
        personal_number="191212121212", given_name="Tolvan", surname="Tolvansson"
    )
    assert not person.has_usable_password()
    assert str(person) == "Tolvan Tolvansson"
    assert person.masked_identifier == "19121212-****"
