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
