from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal.access.models import Membership, Role
from portal.identity.models import Person
from portal.terms.services import pending_change


def terms_notices(request: HttpRequest) -> dict[str, Any]:
    """Banners for an administrator whose employer has not yet acknowledged new terms."""
    person = getattr(request, "user", None)
    if not isinstance(person, Person):
        return {"terms_notices": []}
    notices = []
    for membership in (
        Membership.objects.active()
        .filter(person=person, role=Role.ADMINISTRATOR)
        .select_related("employer")
    ):
        if membership.employer.is_connected:
            version = pending_change(membership.employer)
            if version is not None:
                notices.append({"employer": membership.employer, "version": version})
    return {"terms_notices": notices}
