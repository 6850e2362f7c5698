from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

from portal.access.constants import Permission
from portal.access.services import can
from portal.identity.models import Person

#: How long the header's answer to "is this person staff?" is kept. Only the link depends on it:
#: every back-office page asks ``access.services.can`` itself. Granting or revoking a role
#: forgets it at once (``forget_staff_member``).
STAFF_MEMBER_SECONDS = 60


def _key(person: Person) -> str:
    return f"backoffice:staff-member:{person.public_id}"


def forget_staff_member(person: Person) -> None:
    cache.delete(_key(person))


def staff_member(request: HttpRequest) -> dict[str, Any]:
    """Whether the signed-in person has an active staff role (the header then links to the
    back-office). Asked only when a template uses it, and kept for a minute in the cache, so that
    an ordinary page costs no query for it."""
    person = getattr(request, "user", None)
    if not isinstance(person, Person):
        return {"is_staff_member": False}

    def is_staff_member() -> bool:
        key = _key(person)
        known = cache.get(key)
        if isinstance(known, bool):
            return known
        answer = can(person, Permission.BACKOFFICE_HOME)
        cache.set(key, answer, STAFF_MEMBER_SECONDS)
        return answer

    return {"is_staff_member": is_staff_member}
