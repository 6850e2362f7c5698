from __future__ import annotations

import factory
from stdnum import luhn

from portal.identity.models import Person


def _personal_number(n: int) -> str:
    # Fictional, valid numbers: born 1 January 1980 + n days' worth of serials.
    base = f"800101{n % 1000:03d}"
    return f"19{base}{luhn.calc_check_digit(base)}"


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person
        django_get_or_create = ("personal_number",)

    personal_number = factory.Sequence(_personal_number)
    given_name = factory.Sequence(lambda n: f"Test{n}")
    surname = "Testsson"
    email = factory.Sequence(lambda n: f"person{n}@example.se")
    password = "!"
