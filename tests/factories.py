from __future__ import annotations

import factory
from stdnum import luhn

from portal.identity.models import Person


def _personal_number(n: int) -> str:
    # Fictional, valid numbers born 1 February 1980, a day no fixed number in the tests uses.
    base = f"800201{n % 1000:03d}"
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
