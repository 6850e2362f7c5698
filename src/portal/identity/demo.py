"""Fictional people for demonstrations and ``make run``.

19121212-1212 is the well-known test number used across Swedish e-ID test environments; the others
were generated for the demo (valid dates and check digits, belonging to no one known to us). The
coordination number shows that people without a personal number are handled too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class PersonLike(Protocol):
    """Anything with a person's number and names, such as a ``DemoPerson``: what the local e-ID
    counterparts (the simulators, the test IdP) offer as their people."""

    @property
    def personal_number(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def surname(self) -> str: ...


@dataclass(frozen=True)
class DemoPerson:
    personal_number: str
    given_name: str
    surname: str
    email: str
    role_hint: str


DEMO_PEOPLE = (
    DemoPerson("191212121212", "Tolvan", "Tolvansson", "tolvan@example.se", "firmatecknare"),
    DemoPerson(
        "198001011231", "Astrid", "Demosson", "astrid@example.se", "behörighetsadministratör"
    ),
    DemoPerson("198503152343", "Bertil", "Exempelberg", "bertil@example.se", "användare"),
    DemoPerson("199006223458", "Cecilia", "Provström", "cecilia@example.se", "användare"),
    DemoPerson(
        "197001632392", "Dragan", "Testović", "dragan@example.se", "användare (samordningsnummer)"
    ),
)
