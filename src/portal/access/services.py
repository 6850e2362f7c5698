"""The one authorisation function, and the audited refusal.

Every view and API operation that touches an employer's data asks ``can``; views use
``require``, which records the denial in the audit log before refusing. No other code decides
who may do what.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import FilteredRelation, Q
from django.http import HttpRequest
from django.utils import timezone

from portal import audit
from portal.access.constants import (
    ADMINISTRATOR_PERMISSIONS,
    ESERVICE_PERMISSIONS,
    LEVEL_PERMISSIONS,
    STAFF_ONLY,
    STAFF_PERMISSIONS,
    USER_PERMISSIONS,
    Permission,
)
from portal.access.models import Grant, Membership, Role
from portal.audit.constants import EventType
from portal.common.errors import PermissionDeniedError
from portal.employers.models import Employer
from portal.eservices import registry
from portal.identity.models import Person


def can(
    actor: Person | None,
    action: Permission,
    *,
    employer: Employer | None = None,
    eservice: str | None = None,
) -> bool:
    """May ``actor`` perform ``action`` (for ``employer``, in ``eservice``)?

    Decided on every request from the database, so that a revocation, an ended membership or a
    grant past its end date takes effect on the very next request. One query whatever the number
    of memberships and grants: the person's memberships at the employer, each joined with its
    grant in force for the e-service.
    """
    if actor is None or not actor.is_active:
        return False
    action = Permission(action)
    if action in STAFF_ONLY:
        return _staff_may(actor, action)
    if employer is None or not employer.is_connected:
        return False
    if action in ESERVICE_PERMISSIONS:
        if eservice is None or registry.get(eservice) is None:
            return False
        today = timezone.localdate()
        rows = (
            Membership.objects.active()
            .filter(person=actor, employer=employer, role=Role.USER)
            .annotate(
                grant_in_force=FilteredRelation(
                    "grants",
                    condition=Q(
                        grants__eservice=eservice,
                        grants__ended_at__isnull=True,
                        grants__valid_from__lte=today,
                    )
                    & (Q(grants__valid_until__isnull=True) | Q(grants__valid_until__gte=today)),
                )
            )
            .values_list("grant_in_force__level", flat=True)
        )
        return any(action in LEVEL_PERMISSIONS.get(level or "", frozenset()) for level in rows)
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
    return action in allowed


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
    eservice: str | None = None,
    request: HttpRequest | None = None,
) -> None:
    """``can``, or an audited refusal (403)."""
    if can(actor, action, employer=employer, eservice=eservice):
        return
    with transaction.atomic():
        audit.record(
            EventType.ACCESS_DENIED,
            actor=actor,
            request=request,
            object_type="employer" if employer else "",
            object_id=str(employer.public_id) if employer else "",
            data={"action": str(action), **({"eservice": eservice} if eservice else {})},
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
    now = timezone.now()
    Grant.objects.filter(membership__in=memberships, ended_at__isnull=True).update(
        ended_at=now, end_reason=reason
    )
    Membership.objects.filter(pk__in=[m.pk for m in memberships]).update(
        ended_at=now, end_reason=reason
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
