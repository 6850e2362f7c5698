"""The back-office's own writes: staff roles, and sending a confirmation again.

Each function records its audit event in the same transaction as the change. No personal identity
number goes into the log: people are referred to by their public id.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.audit.constants import EventType
from portal.backoffice.context_processors import forget_staff_member
from portal.backoffice.models import StaffRole
from portal.common.errors import ApplicationError, ConflictError
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.identity.numbers import normalise_personal_number
from portal.messaging.models import OutboxMessage
from portal.messaging.services import outbox_enqueue


class RoleAlreadyActive(ConflictError):
    """The person already holds the role."""

    code = "staff-role-active"


class LastStaffAdministrator(ConflictError):
    """Revoking the role would leave nobody to administer the staff."""

    code = "last-staff-administrator"


def staff_role_grant(
    *,
    personal_number: str,
    role: str,
    actor: Person | None,
    request: HttpRequest | None = None,
    via: str = "backoffice",
) -> StaffRole:
    """Give the person with ``personal_number`` a staff role (the person is created if they have
    never logged in). A role the person already holds is refused."""
    number = normalise_personal_number(personal_number)
    role = StaffRole.Role(role)
    with transaction.atomic():
        person, _created = Person.objects.get_or_create(
            personal_number=number, defaults={"password": "!"}
        )
        # Locks the person's row, so that two grants of the same role at once end with one.
        Person.objects.select_for_update().filter(pk=person.pk).first()
        if StaffRole.objects.filter(person=person, role=role, revoked_at__isnull=True).exists():
            raise RoleAlreadyActive(_("Personen har redan rollen %(role)s.") % {"role": role.label})
        granted = StaffRole.objects.create(person=person, role=role, granted_by=actor)
        _forget(person)
        audit.record(
            EventType.STAFF_ROLE_GRANTED,
            actor=actor,
            request=request,
            object_type="person",
            object_id=str(person.public_id),
            data={"role": role.value, "via": via},
        )
    return granted


def staff_role_revoke(
    *,
    person: Person,
    role: str,
    actor: Person | None,
    request: HttpRequest | None = None,
) -> StaffRole:
    """End the person's staff role. The last staff administrator's role is never revoked, so
    that someone is always left to grant roles."""
    role = StaffRole.Role(role)
    with transaction.atomic():
        if role == StaffRole.Role.STAFF_ADMINISTRATOR:
            # Every active staff administrator's row, locked: two administrators revoking each
            # other at the same moment cannot both succeed and leave nobody.
            administrators = list(
                StaffRole.objects.select_for_update()
                .filter(role=role, revoked_at__isnull=True)
                .values_list("person_id", flat=True)
            )
            if administrators == [person.pk]:
                raise LastStaffAdministrator(
                    _(
                        "Du kan inte ta bort den sista administratören för personal. Ge först "
                        "rollen till någon annan."
                    )
                )
        held = (
            StaffRole.objects.select_for_update()
            .filter(person=person, role=role, revoked_at__isnull=True)
            .first()
        )
        if held is None:
            raise ApplicationError(
                _("Personen har inte rollen %(role)s.") % {"role": role.label},
                code="staff-role-not-active",
            )
        held.revoked_at = timezone.now()
        held.save(update_fields=["revoked_at"])
        _forget(person)
        audit.record(
            EventType.STAFF_ROLE_REVOKED,
            actor=actor,
            request=request,
            object_type="person",
            object_id=str(person.public_id),
            data={"role": role.value, "own": actor is not None and actor.pk == person.pk},
        )
    return held


def _forget(person: Person) -> None:
    """The header's link to the back-office follows the change at once (now, and again after
    the commit, in case another request remembered the old answer in between)."""
    forget_staff_member(person)
    transaction.on_commit(lambda: forget_staff_member(person))


#: The confirmations support may send again: the connection's and the de-registration's.
CONFIRMATION_TEMPLATES = ("enrolment_completed", "deregistration_confirmed")


def confirmations_of(employer: Employer) -> list[OutboxMessage]:
    """The confirmations sent about the employer's enrolments and de-registrations, newest first."""
    enrolments = [str(pk) for pk in employer.enrolments.values_list("public_id", flat=True)]
    deregistrations = [
        str(pk) for pk in employer.deregistration_requests.values_list("public_id", flat=True)
    ]
    return list(
        OutboxMessage.objects.filter(template__in=CONFIRMATION_TEMPLATES)
        .filter(
            Q(related_object_type="enrolment", related_object_id__in=enrolments)
            | Q(related_object_type="deregistration", related_object_id__in=deregistrations)
        )
        .order_by("-created_at", "-id")[:50]
    )


def employer_of(message: OutboxMessage) -> Employer | None:
    """The employer a confirmation is about, or None if it is not a confirmation support may
    send again."""
    if message.template not in CONFIRMATION_TEMPLATES:
        return None
    if message.related_object_type == "enrolment":
        return Employer.objects.filter(enrolments__public_id=message.related_object_id).first()
    if message.related_object_type == "deregistration":
        return Employer.objects.filter(
            deregistration_requests__public_id=message.related_object_id
        ).first()
    return None


def confirmation_resend(
    *, message: OutboxMessage, actor: Person, request: HttpRequest | None = None
) -> OutboxMessage:
    """Send a confirmation again: a new message to the same recipient, rendered from the same
    type, details and language, so with the same content. Changes nothing else."""
    employer = employer_of(message)
    if employer is None:
        raise ApplicationError(
            _("Det här meddelandet kan inte skickas igen."), code="not-resendable"
        )
    with transaction.atomic():
        copy = outbox_enqueue(
            template=message.template,
            to_email=message.recipient_email,
            to_person=message.recipient_person,
            context=message.context,
            language=message.language,
            related_object_type=message.related_object_type,
            related_object_id=message.related_object_id,
        )
        audit.record(
            EventType.CONFIRMATION_RESENT,
            actor=actor,
            request=request,
            object_type="outbox-message",
            object_id=str(message.public_id),
            data={"template": message.template, "copy": str(copy.public_id)},
            employer=employer,
        )
    return copy
