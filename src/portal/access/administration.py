"""Access administration (R3, R8): the writes an employer's access administrators make.

Every function here is a service in the project's sense: keyword-only, in one transaction, with
its audit event in that transaction and the other administrators told by mail through the outbox.
The rules that must always hold are enforced here, not in the pages or the API:

- a connected employer keeps at least one active access administrator (removing the last is
  refused; a new one must be named first);
- a grant belongs to a user membership, names a known e-service and a level, and ends on or after
  the day it starts;
- nothing is deleted: ending and revoking set end times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import cast

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import audit
from portal.access.models import Grant, Level, Membership, Role, administrators_reachable
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.common.rows import column_list, insert, instances
from portal.employers.models import Employer
from portal.eservices import registry
from portal.identity.eidas_identifiers import InvalidEidasIdentifier, normalise_eidas_identifier
from portal.identity.models import Person
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.messaging.services import outbox_enqueue

MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class GrantSpec:
    """What an administrator asks for: an e-service, a level and optional dates (inclusive)."""

    eservice: str
    level: str
    valid_from: date | None = None
    valid_until: date | None = None


class InvalidAccess(ApplicationError):
    """A request that breaks a rule of the model (unknown e-service, dates in the wrong order...)."""

    code = "invalid-access"


class LastAdministrator(ConflictError):
    code = "last-administrator"


# --- validation shared by the pages, the CSV import and the API -------------------------------


def personal_number_clean(text: str) -> str:
    try:
        return normalise_personal_number(text)
    except InvalidPersonalNumber:
        raise InvalidAccess(
            _("Personnumret är inte giltigt. Skriv det som ÅÅÅÅMMDD-NNNN.")
        ) from None


def eidas_identifier_clean(text: str) -> str:
    """A foreign e-ID's eIDAS person identifier (``DE/SE/1234567890``), normalised."""
    try:
        return normalise_eidas_identifier(text)
    except InvalidEidasIdentifier as error:
        raise InvalidAccess(error.message) from None


def grant_spec_check(spec: GrantSpec) -> None:
    """Raise ``InvalidAccess`` with a message for the person if ``spec`` cannot be granted."""
    if registry.get(spec.eservice) is None:
        raise InvalidAccess(
            _("E-tjänsten %(code)s finns inte. Välj en av e-tjänsterna i listan.")
            % {"code": spec.eservice}
        )
    if spec.level not in Level.values:
        raise InvalidAccess(_("Nivån ska vara ”se uppgifter” eller ”se och lämna uppgifter”."))
    if spec.valid_from and spec.valid_until and spec.valid_until < spec.valid_from:
        raise InvalidAccess(_("Slutdatumet kan inte vara före startdatumet."))
    if spec.valid_until and spec.valid_until < timezone.localdate():
        raise InvalidAccess(_("Slutdatumet har redan passerat."))


def reason_clean(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidAccess(_("Skriv varför ändringen görs. Skälet sparas i loggen."))
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidAccess(_("Skälet får vara högst %(max)d tecken.") % {"max": MAX_REASON_LENGTH})
    return reason


# --- writes -------------------------------------------------------------------------------


def person_add(
    *,
    employer: Employer,
    actor: Person,
    personal_number: str = "",
    eidas_identifier: str = "",
    email: str,
    administrator: bool,
    user: bool,
    grants: Sequence[GrantSpec] = (),
    reason: str,
    request: HttpRequest | None = None,
    notify: bool = True,
) -> Person:
    """Give a person access at ``employer``: the administrator role, the user role with grants, or
    both. The person need not have logged in before; their name is filled in from their e-ID at
    their first login. Refused if they already have access here (change it on their page).

    The person is named by exactly one of ``personal_number`` (a Swedish personal or
    coordination number) and ``eidas_identifier`` (the eIDAS person identifier of someone who
    logs in with a foreign e-ID through Sweden Connect); either finds the person the portal
    already knows, or creates them."""
    if personal_number.strip() and eidas_identifier.strip():
        raise InvalidAccess(
            _("Skriv antingen personens personnummer eller personens eIDAS-identitet.")
        )
    identity = (
        {"eidas_identifier": eidas_identifier_clean(eidas_identifier)}
        if eidas_identifier.strip()
        else {"personal_number": personal_number_clean(personal_number)}
    )
    reason = reason_clean(reason)
    if not (administrator or user):
        raise InvalidAccess(_("Välj minst en roll: behörighetsadministratör eller användare."))
    if grants and not user:
        raise InvalidAccess(_("Behörighet till e-tjänster kräver rollen användare."))
    for spec in grants:
        grant_spec_check(spec)
    if len({spec.eservice for spec in grants}) != len(grants):
        raise InvalidAccess(_("Samma e-tjänst är vald två gånger."))
    with transaction.atomic():
        _lock(employer)
        person, _created = Person.objects.get_or_create(**identity, defaults={"password": "!"})
        if Membership.objects.open().filter(employer=employer, person=person).exists():
            raise ConflictError(
                _("Personen har redan behörighet hos arbetsgivaren. Ändra den på personens sida."),
                code="already-member",
                extra={"person": str(person.public_id)},
            )
        changes = []
        if administrator:
            _membership_create(
                employer=employer, person=person, role=Role.ADMINISTRATOR, email=email,
                reason=reason, actor=actor, request=request,
            )  # fmt: skip
            changes.append(_change("administrator_added"))
        if user:
            membership = _membership_create(
                employer=employer, person=person, role=Role.USER, email=email,
                reason=reason, actor=actor, request=request,
            )  # fmt: skip
            changes.append(_change("user_added"))
            for spec in grants:
                grant = _grant_create(
                    membership=membership, spec=spec, reason=reason, actor=actor, request=request
                )
                changes.append(_grant_phrase(grant))
        if notify:
            _tell_administrators(employer=employer, actor=actor, person=person, changes=changes)
    return person


def role_add(
    *,
    employer: Employer,
    person: Person,
    role: Role,
    email: str = "",
    reason: str,
    actor: Person,
    request: HttpRequest | None = None,
    notify: bool = True,
) -> Membership:
    """Give a person who already has access here another role."""
    reason = reason_clean(reason)
    with transaction.atomic():
        _lock(employer)
        if Membership.objects.open().filter(employer=employer, person=person, role=role).exists():
            raise ConflictError(_("Personen har redan den rollen."), code="already-member")
        if not email:
            other = Membership.objects.open().filter(employer=employer, person=person).first()
            email = other.email if other else ""
        membership = _membership_create(
            employer=employer, person=person, role=role, email=email, reason=reason,
            actor=actor, request=request,
        )  # fmt: skip
        if notify:
            _tell_administrators(
                employer=employer,
                actor=actor,
                person=person,
                changes=[
                    _change("administrator_added" if role == Role.ADMINISTRATOR else "user_added")
                ],
            )
    return membership


def membership_end(
    *,
    membership: Membership,
    reason: str,
    actor: Person | None,
    request: HttpRequest | None = None,
) -> None:
    """End one role (and, for a user, every grant with it). The last active administrator cannot
    be removed: a new one must be named first."""
    reason = reason_clean(reason)
    with transaction.atomic():
        employer = _lock(membership.employer)
        membership = Membership.objects.select_related("person", "employer").get(pk=membership.pk)
        if membership.ended_at is not None:
            return
        refused = _leaves_no_administrator(employer=employer, leaving=[membership])
        if refused:
            _record_refusal(
                employer=employer, person=membership.person, actor=actor, request=request
            )
        else:
            _membership_end(membership=membership, reason=reason, actor=actor, request=request)
            kind = (
                "administrator_removed" if membership.role == Role.ADMINISTRATOR else "user_removed"
            )
            _tell_administrators(
                employer=employer, actor=actor, person=membership.person, changes=[_change(kind)]
            )
    if refused:
        raise LastAdministrator(_last_administrator_message())


def membership_email_change(
    *,
    employer: Employer,
    person: Person,
    email: str,
    actor: Person,
    request: HttpRequest | None = None,
) -> None:
    with transaction.atomic():
        memberships = list(
            Membership.objects.open().filter(employer=employer, person=person).select_for_update()
        )
        for membership in memberships:
            if membership.email == email:
                continue
            membership.email = email
            membership.save(update_fields=["email"])
            audit.record(
                EventType.MEMBERSHIP_CHANGED,
                actor=actor,
                request=request,
                object_type="employer",
                object_id=str(employer.public_id),
                data={"membership": membership.pk, "person": person.pk, "field": "email"},
            )


def grant_set(
    *,
    employer: Employer,
    person: Person,
    spec: GrantSpec,
    reason: str,
    actor: Person,
    request: HttpRequest | None = None,
    notify: bool = True,
) -> Grant:
    """Grant ``person`` access to an e-service, replacing any grant they have for it (a change of
    level or dates is a new grant; the old one is revoked, so history stays whole)."""
    reason = reason_clean(reason)
    grant_spec_check(spec)
    with transaction.atomic():
        _lock(employer)
        membership = _open_user_membership(employer, person)
        if membership is None:
            raise InvalidAccess(
                _("Personen har inte rollen användare. Ge personen den rollen först.")
            )
        # The membership's employer is ``employer`` (locked above): the events name it without
        # reading it again, and a replaced grant's membership is this one.
        membership.employer = employer
        for old in _open_grants(membership, spec.eservice):
            old.membership = membership
            _grant_end(grant=old, reason=reason, actor=actor, request=request, replaced=True)
        grant = _grant_create(
            membership=membership, spec=spec, reason=reason, actor=actor, request=request
        )
        if notify:
            _tell_administrators(
                employer=employer, actor=actor, person=person, changes=[_grant_phrase(grant)]
            )
    return grant


def grant_revoke(
    *, grant: Grant, reason: str, actor: Person, request: HttpRequest | None = None
) -> None:
    reason = reason_clean(reason)
    with transaction.atomic():
        grant = _locked_grant(grant.pk)
        if grant.ended_at is not None:
            return
        _grant_end(grant=grant, reason=reason, actor=actor, request=request)
        _tell_administrators(
            employer=grant.membership.employer,
            actor=actor,
            person=grant.membership.person,
            changes=[_change("grant_revoked", eservice=grant.eservice)],
        )


def access_remove_all(
    *,
    employer: Employer,
    person: Person,
    reason: str,
    actor: Person,
    request: HttpRequest | None = None,
) -> int:
    """Remove everything a person can do at ``employer`` at once, for someone who leaves. Takes
    effect on their very next request. Returns the number of roles ended."""
    reason = reason_clean(reason)
    with transaction.atomic():
        _lock(employer)
        memberships = list(
            Membership.objects.open()
            .filter(employer=employer, person=person)
            .select_related("employer")
            .select_for_update()
        )
        if not memberships:
            return 0
        refused = _leaves_no_administrator(employer=employer, leaving=memberships)
        if refused:
            _record_refusal(employer=employer, person=person, actor=actor, request=request)
        else:
            for membership in memberships:
                _membership_end(membership=membership, reason=reason, actor=actor, request=request)
            audit.record(
                EventType.ACCESS_REMOVED_ALL,
                actor=actor,
                request=request,
                object_type="employer",
                object_id=str(employer.public_id),
                data={
                    "person": person.pk,
                    "memberships": [m.pk for m in memberships],
                    "reason": reason,
                },
            )
            _tell_administrators(
                employer=employer, actor=actor, person=person, changes=[_change("removed_all")]
            )
    if refused:
        raise LastAdministrator(_last_administrator_message())
    return len(memberships)


def grants_record_expiry(*, today: date | None = None) -> int:
    """The daily task: record in the audit log each grant whose last day has passed, and tell the
    person. Expiry itself needs no task (every decision checks the dates); this only makes it
    visible. Returns the number of grants recorded."""
    day = today or timezone.localdate()
    count = 0
    expired = Grant.objects.filter(
        ended_at__isnull=True, expiry_recorded_at__isnull=True, valid_until__lt=day
    ).select_related("membership__employer", "membership__person")
    for grant in expired.iterator():
        with transaction.atomic():
            locked = Grant.objects.select_for_update().get(pk=grant.pk)
            if locked.expiry_recorded_at is not None:
                continue
            locked.expiry_recorded_at = timezone.now()
            locked.save(update_fields=["expiry_recorded_at"])
            employer = grant.membership.employer
            audit.record(
                EventType.GRANT_EXPIRED,
                actor=None,
                object_type="employer",
                object_id=str(employer.public_id),
                data={
                    "grant": grant.pk,
                    "eservice": grant.eservice,
                    "person": grant.membership.person_id,
                    "valid_until": grant.valid_until.isoformat() if grant.valid_until else None,
                },
            )
            address = grant.membership.contact_email
            if address:
                outbox_enqueue(
                    template="access_grant_expired",
                    to_email=address,
                    to_person=grant.membership.person,
                    context={
                        "employer": employer.name,
                        "eservice": str(_eservice_name(grant.eservice)),
                        "valid_until": grant.valid_until.isoformat() if grant.valid_until else "",
                    },
                    related_object_type="grant",
                    related_object_id=str(grant.public_id),
                    idempotency_key=f"grant-expired:{grant.public_id}",
                )
            count += 1
    return count


# --- written-out statements of the commonest changes (a grant and its revocation) -------------
# Building the ORM's queries cost more CPU than running them; each statement below stands for the
# ORM expression in its comment, and tests/access/test_change_queries.py holds it to it.

#: ``Employer.objects.select_for_update().get(pk=...)``.
_LOCK_SQL = "SELECT {e} FROM employers_employer e WHERE e.id = %s"
#: ``Membership.objects.open().filter(employer=..., person=..., role=Role.USER).first()``.
_OPEN_USER_MEMBERSHIP_SQL = (
    "SELECT {m} FROM access_membership m WHERE m.employer_id = %s AND m.person_id = %s"
    " AND m.role = %s AND m.ended_at IS NULL ORDER BY m.id LIMIT 1"
)
#: ``Grant.objects.open().filter(membership=..., eservice=...)``.
_OPEN_GRANTS_SQL = (
    "SELECT {g} FROM access_grant g WHERE g.membership_id = %s AND g.eservice = %s"
    " AND g.ended_at IS NULL ORDER BY g.id"
)
#: ``Grant.objects.select_for_update().select_related("membership__employer",
#: "membership__person").get(pk=...)``.
_LOCKED_GRANT_SQL = (
    "SELECT {g}, {m}, {e}, {p} FROM access_grant g"
    " JOIN access_membership m ON m.id = g.membership_id"
    " JOIN employers_employer e ON e.id = m.employer_id"
    " JOIN identity_person p ON p.id = m.person_id WHERE g.id = %s"
)
#: ``grant.save(update_fields=["ended_at", "ended_by", "end_reason"])``.
_GRANT_END_SQL = (
    "UPDATE access_grant SET ended_at = %s, ended_by_id = %s, end_reason = %s WHERE id = %s"
)


def _with_lock(sql: str) -> str:
    """``sql`` locking the rows it reads, where the database can (``select_for_update``)."""
    return sql + (" FOR UPDATE" if connection.features.has_select_for_update else "")


def _open_user_membership(employer: Employer, person: Person) -> Membership | None:
    found = instances(
        _OPEN_USER_MEMBERSHIP_SQL.format(m=column_list(Membership, "m")),
        [employer.pk, person.pk, Role.USER.value],
        Membership,
    )
    return found[0][0] if found else None


def _open_grants(membership: Membership, eservice: str) -> list[Grant]:
    return [
        grant
        for (grant,) in instances(
            _OPEN_GRANTS_SQL.format(g=column_list(Grant, "g")), [membership.pk, eservice], Grant
        )
    ]


def _locked_grant(pk: int) -> Grant:
    """The grant, locked, with its membership, the employer and the person."""
    found = instances(
        _with_lock(
            _LOCKED_GRANT_SQL.format(
                g=column_list(Grant, "g"),
                m=column_list(Membership, "m"),
                e=column_list(Employer, "e"),
                p=column_list(Person, "p"),
            )
        ),
        [pk],
        Grant,
        Membership,
        Employer,
        Person,
    )
    if not found:
        raise Grant.DoesNotExist
    grant, membership, employer, person = found[0]
    membership.employer, membership.person = employer, person
    grant.membership = membership
    return cast("Grant", grant)


# --- inside the services --------------------------------------------------------------------


def _lock(employer: Employer) -> Employer:
    """Serialise access changes per employer, so that two administrators removing each other at
    the same moment cannot leave the employer without one."""
    locked = instances(
        _with_lock(_LOCK_SQL.format(e=column_list(Employer, "e"))), [employer.pk], Employer
    )
    if not locked:
        raise Employer.DoesNotExist
    return cast("Employer", locked[0][0])


def _leaves_no_administrator(*, employer: Employer, leaving: Sequence[Membership]) -> bool:
    """Would ending ``leaving`` leave a connected employer without an active administrator?"""
    leaving_admins = {m.pk for m in leaving if m.role == Role.ADMINISTRATOR}
    if not leaving_admins or not employer.is_connected:
        return False
    return not (
        Membership.objects.active()
        .filter(employer=employer, role=Role.ADMINISTRATOR)
        .exclude(pk__in=leaving_admins)
        .exists()
    )


def _last_administrator_message() -> str:
    return _(
        "Arbetsgivaren måste alltid ha minst en behörighetsadministratör. Lägg till en ny "
        "behörighetsadministratör innan du tar bort den sista."
    )


def _record_refusal(
    *, employer: Employer, person: Person, actor: Person | None, request: HttpRequest | None
) -> None:
    """Record a refused removal in its own transaction (the change itself was rolled back)."""
    with transaction.atomic():
        audit.record(
            EventType.MEMBERSHIP_REFUSED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"person": person.pk, "rule": "last-administrator"},
        )


def _membership_create(
    *,
    employer: Employer,
    person: Person,
    role: Role,
    email: str,
    reason: str,
    actor: Person,
    request: HttpRequest | None,
) -> Membership:
    membership = Membership.objects.create(
        employer=employer,
        person=person,
        role=role,
        email=email,
        reason=reason,
        created_by=actor,
        last_reviewed_at=timezone.now(),
    )
    audit.record(
        EventType.MEMBERSHIP_CREATED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(employer.public_id),
        data={
            "membership": membership.pk,
            "role": str(role),
            "person": person.pk,
            "reason": reason,
        },
    )
    return membership


def _membership_end(
    *, membership: Membership, reason: str, actor: Person | None, request: HttpRequest | None
) -> None:
    for grant in Grant.objects.open().filter(membership=membership):
        _grant_end(grant=grant, reason=reason, actor=actor, request=request)
    membership.ended_at = timezone.now()
    membership.ended_by = actor
    membership.end_reason = reason
    membership.save(update_fields=["ended_at", "ended_by", "end_reason"])
    audit.record(
        EventType.MEMBERSHIP_ENDED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(membership.employer.public_id),
        data={
            "membership": membership.pk,
            "role": membership.role,
            "person": membership.person_id,
            "reason": reason,
        },
    )


def _grant_create(
    *,
    membership: Membership,
    spec: GrantSpec,
    reason: str,
    actor: Person,
    request: HttpRequest | None,
) -> Grant:
    grant = insert(
        Grant(
            membership=membership,
            eservice=spec.eservice,
            level=spec.level,
            valid_from=spec.valid_from or timezone.localdate(),
            valid_until=spec.valid_until,
            reason=reason,
            created_by=actor,
        )
    )
    audit.record(
        EventType.GRANT_CREATED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(membership.employer.public_id),
        data={
            "grant": grant.pk,
            "person": membership.person_id,
            "eservice": grant.eservice,
            "level": grant.level,
            "valid_from": grant.valid_from.isoformat(),
            "valid_until": grant.valid_until.isoformat() if grant.valid_until else None,
            "reason": reason,
        },
    )
    return grant


def _grant_end(
    *,
    grant: Grant,
    reason: str,
    actor: Person | None,
    request: HttpRequest | None,
    replaced: bool = False,
) -> None:
    grant.ended_at = timezone.now()
    grant.ended_by = actor
    grant.end_reason = reason
    with connection.cursor() as cursor:
        cursor.execute(
            _GRANT_END_SQL,
            [
                connection.ops.adapt_datetimefield_value(grant.ended_at),
                actor.pk if actor else None,
                reason,
                grant.pk,
            ],
        )
        if cursor.rowcount != 1:  # as save(update_fields=...) refuses a row that is gone
            raise DatabaseError("the grant to end is gone")
    audit.record(
        EventType.GRANT_REVOKED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(grant.membership.employer.public_id),
        data={
            "grant": grant.pk,
            "person": grant.membership.person_id,
            "eservice": grant.eservice,
            "reason": reason,
            "replaced": replaced,
        },
    )


def _eservice_name(code: str) -> str:
    eservice = registry.get(code)
    return str(eservice.name) if eservice else code


def _change(
    kind: str, *, eservice: str = "", level: str = "", until: date | None = None
) -> dict[str, str]:
    """One change, as the mail template to the other administrators renders it (in the
    recipient's language)."""
    with translation.override("sv"):
        name = _eservice_name(eservice) if eservice else ""
    return {
        "kind": kind,
        "eservice": name,
        "level": level,
        "until": until.isoformat() if until else "",
    }


def _grant_phrase(grant: Grant) -> dict[str, str]:
    return _change(
        "grant_added", eservice=grant.eservice, level=grant.level, until=grant.valid_until
    )


def _tell_administrators(
    *,
    employer: Employer,
    actor: Person | None,
    person: Person,
    changes: Sequence[dict[str, str]],
) -> None:
    """Mail every other active administrator of ``employer`` about a change (R3: they share the
    responsibility, so none of them is surprised)."""
    if not changes:
        return
    recipients = administrators_reachable(employer, leaving_out=actor)
    link = settings.BASE_URL + reverse(
        "access:person",
        kwargs={"public_id": employer.public_id, "person_id": person.public_id},
    )
    name = person.full_name
    by = actor.full_name if actor else ""
    for membership in recipients:
        outbox_enqueue(
            template="access_changed",
            to_email=membership.contact_email,
            to_person=membership.person,
            context={
                "employer": employer.name,
                "person": name,
                "changes": list(changes),
                "by": by,
                "link": link,
            },
            related_object_type="employer",
            related_object_id=str(employer.public_id),
        )
