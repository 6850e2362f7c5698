"""The one authorisation function, and the audited refusal.

Every view and API operation that touches an employer's data asks ``can``; views use
``require``, which records the denial in the audit log before refusing. No other code decides
who may do what.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection, transaction
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
from portal.common import memo
from portal.common.errors import PermissionDeniedError
from portal.common.rows import column_list, columns, converted, first_by, read
from portal.employers.constants import CONNECTED_STATES
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
    grant past its end date takes effect on the very next request (within a request, the answer
    is kept until the request records a change: ``common.memo``). One query whatever the number
    of memberships and grants: the person's memberships at the employer, each joined with its
    grant in force for the e-service.
    """
    if actor is None or not actor.is_active:
        return False
    action = Permission(action)
    if action in STAFF_ONLY:
        return _staff_may(actor, action)
    if action in ESERVICE_PERMISSIONS and (eservice is None or registry.get(eservice) is None):
        return False
    return action in permissions(actor, employer=employer, eservice=eservice)


def permissions(
    actor: Person | None, *, employer: Employer | None, eservice: str | None = None
) -> frozenset[Permission]:
    """Everything ``actor`` may do for ``employer`` (in ``eservice``): ``can``'s decision for
    every permission that is not staff-only, from the same one query. A page that shows or hides
    several actions asks once; ``can`` asks about one."""
    if actor is None or not actor.is_active or employer is None or not employer.is_connected:
        return frozenset()
    if eservice is not None and registry.get(eservice) is None:
        eservice = None
    allowed: set[Permission] = set()
    for role, level in _roles_and_levels(actor.pk, employer.pk, eservice):
        allowed |= ADMINISTRATOR_PERMISSIONS if role == Role.ADMINISTRATOR else USER_PERMISSIONS
        # The e-service permissions come only from a grant in force on a user membership (the
        # statement joins grants to user memberships only).
        allowed |= LEVEL_PERMISSIONS.get(level or "", frozenset())
    return frozenset(allowed - STAFF_ONLY)


@dataclass(frozen=True)
class LayoutEmployer:
    """An employer as the layout shows it."""

    pk: int
    public_id: UUID
    name: str
    state: str

    @property
    def is_connected(self) -> bool:
        return self.state in CONNECTED_STATES


@dataclass(frozen=True)
class LayoutMembership:
    """A membership in force as the layout shows it: the role, at which employer."""

    role: str
    employer: LayoutEmployer


def memberships_in_force(person: Person) -> list[LayoutMembership]:
    """``person``'s memberships in force now, with their employers, by the employer's name: what
    the layout shows, and what a decision about no e-service needs (``_roles_and_levels``). Read
    once per request and kept until it records a change (``common.memo``)."""
    return memberships_in_force_by_id(person.pk)


def memberships_in_force_by_id(person_id: int) -> list[LayoutMembership]:
    """``memberships_in_force`` of the person with key ``person_id``."""
    return _memberships(person_id, None).shown


#: A membership ``m`` in force (parameters: now, twice).
_MEMBERSHIP_IN_FORCE = (
    "m.ended_at IS NULL AND m.suspended_at IS NULL AND m.valid_from <= %s"
    " AND (m.valid_until IS NULL OR m.valid_until > %s)"
)
#: The grant ``g`` in force for an e-service on a user membership ``m`` (parameters: the user
#: role, the e-service, today, today).
_GRANT_IN_FORCE = (
    "g.membership_id = m.id AND m.role = %s AND g.eservice = %s"
    " AND g.ended_at IS NULL AND g.valid_from <= %s"
    " AND (g.valid_until IS NULL OR g.valid_until >= %s)"
)
#: The one statement of a decision: the person's memberships in force at the employer, each with
#: its grant in force for the e-service (none when no e-service is asked about, and none for an
#: administrator membership). Written out rather than built by the ORM on every call, because
#: building the query cost some 20 times as much as running it; it states the same rules as
#: ``MembershipQuerySet.active`` and ``GrantQuerySet.in_force``, and tests/access/test_can_queries.py
#: and ``make bench`` check the answers against them.
#: Composed of the constant fragments above; every value is a parameter.
_DECISION_SQL = (
    "SELECT m.role, g.level FROM access_membership m"  # noqa: S608
    f" LEFT JOIN access_grant g ON {_GRANT_IN_FORCE}"
    f" WHERE m.person_id = %s AND m.employer_id = %s AND {_MEMBERSHIP_IN_FORCE}"
)
#: The person's memberships in force with their employers (every column), by the employer's name:
#: ``MembershipQuerySet.active`` written out (as ``_DECISION_SQL``, for the CPU the ORM spends
#: building it; tests/access/test_layout_queries.py and test_can_queries.py check it). Each user
#: membership comes with its grants in force (``{grants}``): asked about an e-service, the one for
#: it (a grant joins at most once, one open grant per membership and e-service); asked about none,
#: every one, a row each. So the one statement gives the layout its memberships, an employer's page
#: its employer and the e-services the person can use there, and the decision its rows
#: (``_DECISION_SQL``'s) for every employer among them.
_MEMBERSHIPS_SQL = (
    "SELECT m.id, m.role, g.eservice, g.level, {e} FROM access_membership m"
    " JOIN employers_employer e ON e.id = m.employer_id"
    " LEFT JOIN access_grant g ON {grants}"
    " WHERE m.person_id = %s AND {membership_in_force}"
    " ORDER BY e.name, m.id, g.eservice"
)
#: The grants in force of a user membership ``m`` whatever their e-service (parameters: the user
#: role, today, today).
_GRANTS_IN_FORCE = (
    "g.membership_id = m.id AND m.role = %s"
    " AND g.ended_at IS NULL AND g.valid_from <= %s"
    " AND (g.valid_until IS NULL OR g.valid_until >= %s)"
)


@dataclass(frozen=True)
class _Memberships:
    """What ``_MEMBERSHIPS_SQL`` gave: the memberships as the layout shows them, their employers
    by public id, and, when it was asked about no e-service, the grants in force (e-service and
    level) of the user memberships by employer key (``None`` when it was asked about one), and
    each membership's own (``held``, in the order of ``shown``; for one e-service, at most its
    grant)."""

    shown: list[LayoutMembership]
    employers: dict[UUID, Employer]
    grants: dict[int, list[tuple[str, str]]] | None
    held: list[list[tuple[str, str]]]


def _session_rows_key(person_id: int) -> tuple[str, int]:
    """The key under which a request keeps the rows of ``_MEMBERSHIPS_SQL`` (about no e-service)
    that the session's own statement read (``access.sessions``), until they are asked for."""
    return ("access.memberships.session", person_id)


def keep_memberships_read_with_session(person_id: int, found: list[tuple[Any, ...]]) -> None:
    """Keep for the request the rows of ``_MEMBERSHIPS_SQL`` about no e-service, as the database
    gave them, that the session's statement read for its person (``access.sessions``): the
    person's memberships are then read from them rather than by a statement of their own."""
    memo.remembered(_session_rows_key(person_id), lambda: found)


def _memberships(person_id: int, eservice: str | None) -> _Memberships:
    """The person's memberships in force (with their grants for ``eservice``, or all of them),
    read once per request (``common.memo``)."""
    return memo.remembered(
        ("access.memberships", person_id, eservice),
        lambda: _read_memberships(person_id, eservice),
    )


def _read_memberships(person_id: int, eservice: str | None) -> _Memberships:
    fields = [*columns(Grant, "eservice", "level"), *Employer._meta.concrete_fields]
    kept = memo.kept(_session_rows_key(person_id))
    if kept is not None:
        # The session's statement read them with every grant: a decision about one e-service
        # is taken from there too.
        if eservice is not None:
            every = _memberships(person_id, None)
            _keep_decisions(person_id, every, eservice)
            return every
        alias = connection.alias
        return _built(person_id, [converted(list(row), fields, alias, 2) for row in kept], None)
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    today = ops.adapt_datefield_value(timezone.localdate())
    params: list[object] = [person_id, now, now]
    if eservice is None:
        params[:0] = [Role.USER.value, today, today]
    else:
        params[:0] = [Role.USER.value, eservice, today, today]
    found = read(
        Employer, _memberships_sql(one_eservice=eservice is not None), params, fields, plain=2
    )
    return _built(person_id, found, eservice)


def _built(person_id: int, found: list[list[Any]], eservice: str | None) -> _Memberships:
    """The memberships of ``_MEMBERSHIPS_SQL``'s rows (converted), read about ``eservice``."""
    fields = list(Employer._meta.concrete_fields)
    attnames = [field.attname for field in fields]
    employers: dict[UUID, Employer] = {}
    shown: list[LayoutMembership] = []
    held: list[list[tuple[str, str]]] = []
    last = None
    for membership_id, role, code, level, *values in found:
        if membership_id == last:  # another grant of the same membership
            held[-1].append((code, level))
            continue
        last = membership_id
        employer = Employer.from_db(connection.alias, attnames, values)
        employer = employers.setdefault(employer.public_id, employer)
        held.append([] if code is None else [(code, level)])
        shown.append(
            LayoutMembership(
                role=role,
                employer=LayoutEmployer(
                    pk=employer.pk,
                    public_id=employer.public_id,
                    name=employer.name,
                    state=employer.state,
                ),
            )
        )
    if eservice is None:
        grants: dict[int, list[tuple[str, str]]] = {}
        for membership, its in zip(shown, held, strict=True):
            if its:
                grants.setdefault(membership.employer.pk, []).extend(its)
        return _Memberships(shown=shown, employers=employers, grants=grants, held=held)
    memberships = _Memberships(shown=shown, employers=employers, grants=None, held=held)
    # The same memberships answer the layout and a decision about no e-service ...
    memo.remembered(("access.memberships", person_id, None), lambda: memberships)
    # ... and the decision about the e-service at each of their employers.
    _keep_decisions(person_id, memberships, eservice)
    return memberships


def _keep_decisions(person_id: int, memberships: _Memberships, eservice: str) -> None:
    """Keep the decision about ``eservice`` at each of the memberships' employers, as
    ``_DECISION_SQL`` gives it: each membership's role with its grant's level for the e-service
    (None for none, and for an administrator's membership, which holds no grants)."""
    decisions: dict[int, list[tuple[str, str | None]]] = {}
    for membership, its in zip(memberships.shown, memberships.held, strict=True):
        level = next((level for code, level in its if code == eservice), None)
        decisions.setdefault(membership.employer.pk, []).append((membership.role, level))
    for pk, decision in decisions.items():
        memo.remembered(("access.decision", person_id, pk, eservice), decision.copy)


@cache
def _memberships_sql(*, one_eservice: bool) -> str:
    return _MEMBERSHIPS_SQL.format(
        e=column_list(Employer, "e"),
        grants=_GRANT_IN_FORCE if one_eservice else _GRANTS_IN_FORCE,
        membership_in_force=_MEMBERSHIP_IN_FORCE,
    )


def grants_in_force(person_id: int, employer_id: int) -> list[tuple[str, str]] | None:
    """The e-services and levels of the grants in force on the person's user memberships in force
    at the employer, from the memberships the request has read (``None`` if it read them about
    one e-service only, which leaves the other grants out)."""
    found = _memberships(person_id, None).grants
    return None if found is None else found.get(employer_id, [])


def employer_deciding(
    public_id: UUID | str, actor: Person | None, eservice: str | None
) -> Employer | None:
    """The employer with ``public_id`` (None if there is none) for a decision about ``actor``
    (in ``eservice``). The person's memberships in force are read with their employers (and
    their grants for the e-service) in one statement, which gives the layout its memberships,
    the page its employer and the decision its rows, all kept for the rest of the request
    (``common.memo``): an employer's page reads one statement where it read two. An employer
    where the person has no membership in force is read by itself (and the decision has no
    rows)."""
    if actor is None or not actor.is_active:
        return first_by(Employer, "public_id", public_id)
    if eservice is not None and registry.get(eservice) is None:
        eservice = None  # no such e-service: nothing is allowed in it (``can``)
    key = Employer._meta.get_field("public_id")
    try:
        wanted = key.to_python(public_id)
    except (ValidationError, ValueError, TypeError):  # not an id: no employer has it
        return None
    employer = _memberships(actor.pk, eservice).employers.get(wanted)
    if employer is None:
        employer = first_by(Employer, "public_id", wanted)
        if employer is not None and eservice is not None:
            memo.remembered(("access.decision", actor.pk, employer.pk, eservice), list)
    return employer


def _roles_and_levels(
    person_id: int, employer_id: int, eservice: str | None
) -> list[tuple[str, str | None]]:
    if eservice is None:
        # No grant is asked about: the roles are those of the person's memberships in force at
        # the employer, which the layout of the same page reads anyway (one statement for both;
        # the membership rules of _MEMBERSHIPS_SQL and _DECISION_SQL are the same).
        return [
            (membership.role, None)
            for membership in memberships_in_force_by_id(person_id)
            if membership.employer.pk == employer_id
        ]
    # A page asks more than once (the employer's check, then the actions it shows): the answer is
    # kept for the rest of the request, until it records a change (common.memo).
    return memo.remembered(
        ("access.decision", person_id, employer_id, eservice),
        lambda: _read_roles_and_levels(person_id, employer_id, eservice),
    )


def _read_roles_and_levels(
    person_id: int, employer_id: int, eservice: str | None
) -> list[tuple[str, str | None]]:
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    today = ops.adapt_datefield_value(timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(
            _DECISION_SQL,
            [Role.USER.value, eservice, today, today, person_id, employer_id, now, now],
        )
        rows: list[tuple[str, str | None]] = cursor.fetchall()
    return rows


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
