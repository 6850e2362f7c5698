from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal.access.models import Role
from portal.access.selectors import layout_memberships
from portal.terms.services import pending_changes


def terms_notices(request: HttpRequest) -> dict[str, Any]:
    """Banners for an administrator whose employer has not yet acknowledged new terms."""
    employers = {
        m.employer.pk: m.employer
        for m in layout_memberships(request)
        if m.role == Role.ADMINISTRATOR and m.employer.is_connected
    }
    pending = pending_changes(list(employers))
    return {
        "terms_notices": [
            {"employer": employer, "version": pending[pk]}
            for pk, employer in employers.items()
            if pk in pending
        ]
    }
