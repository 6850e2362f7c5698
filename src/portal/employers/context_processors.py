from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal.access.models import Membership, Role
from portal.employers.constants import EmployerState
from portal.employers.models import Termination
from portal.identity.models import Person


def termination_notices(request: HttpRequest) -> dict[str, Any]:
    """Banners for an administrator whose employer's connection has been terminated by notice."""
    person = getattr(request, "user", None)
    if not isinstance(person, Person):
        return {"termination_notices": []}
    employers = [
        m.employer
        for m in Membership.objects.active()
        .filter(
            person=person,
            role=Role.ADMINISTRATOR,
            employer__state=EmployerState.TERMINATION_NOTIFIED,
        )
        .select_related("employer")
    ]
    running = Termination.objects.filter(
        employer__in=employers, state=Termination.State.NOTIFIED
    ).select_related("employer")
    return {"termination_notices": list(running)}


def acting_for(request: HttpRequest) -> dict[str, Any]:
    """The employer the logged-in person acts for (shown in the header, with a way to switch)."""
    person = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if not isinstance(person, Person) or session is None:
        return {}
    public_id = session.get("acting_for")
    if not public_id:
        return {}
    from portal.employers.models import Employer  # noqa: PLC0415

    # Only while the person still has access there: a revocation takes the name away too.
    employer = (
        Employer.objects.filter(
            public_id=public_id,
            pk__in=Membership.objects.active().filter(person=person).values("employer"),
        )
        .only("public_id", "name")
        .first()
    )
    return {"acting_for": employer}
