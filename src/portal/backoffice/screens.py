"""The back-office's screens, each with the permission that opens it, and the one check every
back-office view makes first.

The start page (``/handlaggning/``) lists the screens the signed-in staff member's roles allow,
asking ``access.services.can`` for each; a screen added to the back-office is added to
``SCREENS`` to appear there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.access.constants import Permission
from portal.access.services import can, require
from portal.identity.models import Person


@dataclass(frozen=True)
class Screen:
    url_name: str
    title: Promise
    description: Promise
    permission: Permission

    @property
    def url(self) -> str:
        return reverse(self.url_name)


SCREENS: list[Screen] = [
    Screen(
        "backoffice:queues",
        _("Arbetsköer"),
        _(
            "Blankettanslutningar, skriftliga avregistreringar, uppsägningar och förfrågningar "
            "som väntar, efter sista dag."
        ),
        Permission.BACKOFFICE_QUEUE_VIEW,
    ),
    Screen(
        "backoffice:lookup",
        _("Sök arbetsgivare"),
        _("Status, godkända villkor, behörighetsadministratörer och senaste händelser."),
        Permission.BACKOFFICE_EMPLOYER_VIEW,
    ),
    Screen(
        "backoffice:person-lookup",
        _("Sök person"),
        _("En persons arbetsgivare, roller, behörigheter och senaste inloggningar."),
        Permission.BACKOFFICE_PERSON_VIEW,
    ),
    Screen(
        "backoffice:paper-enrolments",
        _("Anslutning på blankett"),
        _("Registrera en blankett och granska andras registreringar."),
        Permission.BACKOFFICE_ENROLMENT_REGISTER,
    ),
    Screen(
        "backoffice:publish-terms",
        _("Publicera villkor"),
        _("Publicera en ny version av villkoren."),
        Permission.BACKOFFICE_TERMS_PUBLISH,
    ),
    Screen(
        "backoffice:announcements",
        _("Meddelanden och instruktioner"),
        _("Publicera, ändra och återkalla meddelanden på startsidan och användarnas översikter."),
        Permission.BACKOFFICE_ANNOUNCEMENT_PUBLISH,
    ),
    Screen(
        "backoffice:availability",
        _("Drift: avbrott och störningar"),
        _("Planera och ställ in avbrott, meddela och avsluta driftstörningar."),
        Permission.BACKOFFICE_AVAILABILITY_MANAGE,
    ),
    Screen(
        "backoffice:staff",
        _("Personal och roller"),
        _("Ge och ta bort roller för myndighetens personal."),
        Permission.BACKOFFICE_STAFF_MANAGE,
    ),
]


def screens_for(person: Person) -> list[Screen]:
    """The screens ``person``'s staff roles open, in the order of ``SCREENS``."""
    return [screen for screen in SCREENS if can(person, screen.permission)]


def staff_member(request: HttpRequest, permission: Permission) -> Person:
    """The signed-in staff member, if their roles allow ``permission``; otherwise an audited
    refusal (403)."""
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (requires() guarantees a person)
    require(person, permission, request=request)
    return person
