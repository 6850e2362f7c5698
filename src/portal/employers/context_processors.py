from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal.access.models import Role
from portal.access.selectors import layout_memberships
from portal.employers.constants import EmployerState
from portal.employers.models import Termination


def termination_notices(request: HttpRequest) -> dict[str, Any]:
    """Banners for an administrator whose employer's connection has been terminated by notice."""
    employers = [
        m.employer
        for m in layout_memberships(request)
        if m.role == Role.ADMINISTRATOR and m.employer.state == EmployerState.TERMINATION_NOTIFIED
    ]
    if not employers:
        return {"termination_notices": []}
    running = Termination.objects.filter(
        employer_id__in=[employer.pk for employer in employers], state=Termination.State.NOTIFIED
    ).select_related("employer")
    return {"termination_notices": list(running)}


def acting_for(request: HttpRequest) -> dict[str, Any]:
    """The employer the logged-in person acts for (shown in the header, with a way to switch)."""
    session = getattr(request, "session", None)
    public_id = session.get("acting_for") if session is not None else None
    if not public_id:
        return {}
    # Only while the person still has access there: a revocation takes the name away too.
    for membership in layout_memberships(request):
        if str(membership.employer.public_id) == public_id:
            return {"acting_for": membership.employer}
    return {"acting_for": None}
