"""The one authorisation function, and the audited refusal.

Every view and API operation that touches an employer's data asks ``can``; views use
``require``, which records the denial in the audit log before refusing. No other code decides
who may do what.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from portal import audit
from portal.access.constants import (
    ADMINISTRATOR_PERMISSIONS,
    STAFF_ONLY,
    STAFF_PERMISSIONS,
    USER_PERMISSIONS,
    Permission,
)
from portal.access.models import Membership, Role
from portal.audit.constants import EventType
from portal.common.errors import PermissionDeniedError
from portal.employers.models import Employer
from portal.identity.models import Person


def can(actor: Person | None, action: Permission, *, employer: Employer | None = None) -> bool:
    """May ``actor`` perform ``action`` (for ``employer``)? Decided on every request from the
    database, so that a revoked membership or an ended connection takes effect at once."""
    if actor is None or not actor.is_active:
        return False
    if Permission(action) in STAFF_ONLY:
        return _staff_may(actor, Permission(action))
    if employer is None or not employer.is_connected:
        return False
    roles = set(
        Membership.objects.active()
        .filter(person=actor, employer=employer)
        .values_list("role", flat=True)
    )
    allowed: set[Permission] = set()
    if Role.ADMINISTRATOR in roles:
        allowed |= ADMINISTRATOR_PERMISSIONS
    if Role.USER in roles:
        allowed |= USER_PERMISSIONS
    return Permission(action) in allowed


def _staff_may(actor: Person, action: Permission) -> bool:
    from portal.backoffice.models import StaffRole  # noqa: PLC0415 (backoffice depends on access)

    roles = StaffRole.objects.filter(person=actor, revoked_at__isnull=True).values_list(
        "role", flat=True
    )
    return any(action in STAFF_PERMISSIONS.get(role, frozenset()) for role in roles)


def require(
    actor: Person | None,
    action: Permission,
    *,
    employer: Employer | None = None,
    request: HttpRequest | None = None,
) -> None:
    """``can``, or an audited refusal (403)."""
    if can(actor, action, employer=employer):
        return
    with transaction.atomic():
        audit.record(
            EventType.ACCESS_DENIED,
            actor=actor,
            request=request,
            object_type="employer" if employer else "",
            object_id=str(employer.public_id) if employer else "",
            data={"action": str(action)},
        )
    raise PermissionDeniedError(str(_denied_message()), code="forbidden")


def _denied_message() -> str:
    from django.utils.translation import gettext  # noqa: PLC0415

    return gettext(
        "Du har inte behörighet till det här. Behörigheter ges av arbetsgivarens behörighetsadministratör."
    )


def memberships_end_all(*, employer: Employer, reason: str) -> list[Membership]:
    """End every open membership at ``employer`` (it leaves the portal), each audited, in the
    caller's transaction. Returns the memberships as they were, for notifying their people."""
    memberships = list(
        Membership.objects.filter(employer=employer, ended_at__isnull=True).select_related("person")
    )
    Membership.objects.filter(pk__in=[m.pk for m in memberships]).update(
        ended_at=timezone.now(), end_reason=reason
    )
    for membership in memberships:
        audit.record(
            EventType.MEMBERSHIP_ENDED,
            actor=None,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"membership": membership.pk, "reason": reason},
        )
    return memberships
