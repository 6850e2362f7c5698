"""De-registration at the employer's request (R17).

An access administrator asks in the portal and signs the request with e-ID; the signature
handler records the request and moves the employer to "de-registration requested"; a background
task then de-registers it within minutes: every membership ends (so every session of its people
loses the employer on the next request, since access is decided per request), the submitted data
stays under the retention rules, and a confirmation goes to the administrators and the requester
by e-mail, with a printable letter in the portal.
"""

from __future__ import annotations

from datetime import date

import structlog
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.access.constants import Permission
from portal.access.models import Membership, Role
from portal.access.services import can, memberships_end_all
from portal.audit.constants import EventType
from portal.common.errors import ConflictError
from portal.employers.constants import EmployerAction
from portal.employers.models import DeregistrationRequest, Employer
from portal.employers.state import transition
from portal.identity.models import Person, Signature
from portal.identity.signing import register_signature_handler
from portal.messaging.services import outbox_enqueue

logger = structlog.get_logger(__name__)

DEREGISTRATION_OBJECT_TYPE = "deregistration"


def deregistration_visible_text(employer: Employer) -> str:
    """What the administrator sees in the BankID app (simpleMarkdownV1)."""
    return _(
        "# Avregistrera %(name)s\n\n"
        "Jag begär att *%(name)s* (%(number)s) avregistreras från e-tjänster för arbetsgivare. "
        "Alla behörigheter hos arbetsgivaren upphör."
    ) % {"name": employer.name, "number": employer.formatted_number}


def on_deregistration_signed(*, signature: Signature, request: HttpRequest | None) -> None:
    """Signature handler: an administrator signed a de-registration request."""
    employer = Employer.objects.filter(public_id=signature.object_id).first()
    person = signature.person
    if employer is None or not can(person, Permission.EMPLOYER_DEREGISTER, employer=employer):
        audit.record(
            EventType.DEREGISTRATION_REFUSED,
            actor=person,
            request=request,
            object_type="employer",
            object_id=signature.object_id,
            data={"reason": "not-allowed"},
        )
        return
    if employer.deregistration_requests.filter(state__in=["received", "held"]).exists():
        audit.record(
            EventType.DEREGISTRATION_REFUSED,
            actor=person,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"reason": "already-requested"},
        )
        return
    email = (
        Membership.objects.active()
        .filter(person=person, employer=employer)
        .exclude(email="")
        .values_list("email", flat=True)
        .first()
        or person.email
    )
    deregistration = DeregistrationRequest.objects.create(
        employer=employer,
        channel=DeregistrationRequest.Channel.ESERVICE,
        requested_by=person,
        requester_email=email,
        signature=signature,
        received_on=timezone.localdate(),
    )
    transition(
        employer=employer,
        action=EmployerAction.REQUEST_DEREGISTRATION,
        actor=person,
        request=request,
    )
    audit.record(
        EventType.DEREGISTRATION_REQUESTED,
        actor=person,
        request=request,
        object_type="employer",
        object_id=str(employer.public_id),
        data={"request": str(deregistration.public_id), "channel": "eservice"},
    )
    schedule_processing(deregistration)


def deregistration_register_written(
    *,
    employer: Employer,
    received_on: date,
    case_number: str,
    hold_for_staff: bool,
    actor: Person,
    request: HttpRequest | None = None,
) -> DeregistrationRequest:
    """Staff register a written request (letter, signed form). It is processed by the background
    task like one made in the portal, unless flagged to wait for a case worker."""
    with transaction.atomic():
        if employer.deregistration_requests.filter(state__in=["received", "held"]).exists():
            raise ConflictError(
                _("Det finns redan en begäran om avregistrering som inte är behandlad.")
            )
        deregistration = DeregistrationRequest.objects.create(
            employer=employer,
            channel=DeregistrationRequest.Channel.WRITTEN,
            state=DeregistrationRequest.State.HELD
            if hold_for_staff
            else DeregistrationRequest.State.RECEIVED,
            requested_by=None,
            received_on=received_on,
            case_number=case_number,
            registered_by=actor,
        )
        transition(
            employer=employer,
            action=EmployerAction.REQUEST_DEREGISTRATION,
            actor=actor,
            request=request,
        )
        audit.record(
            EventType.DEREGISTRATION_REQUESTED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={
                "request": str(deregistration.public_id),
                "channel": "written",
                "case_number": case_number,
                "held": hold_for_staff,
            },
        )
        if not hold_for_staff:
            schedule_processing(deregistration)
    return deregistration


def deregistration_release(
    *, deregistration: DeregistrationRequest, actor: Person, request: HttpRequest | None = None
) -> None:
    """A case worker has handled a held request: it is processed now."""
    with transaction.atomic():
        locked = DeregistrationRequest.objects.select_for_update().get(pk=deregistration.pk)
        if locked.state != DeregistrationRequest.State.HELD:
            raise ConflictError(_("Begäran väntar inte på handläggare."))
        locked.state = DeregistrationRequest.State.RECEIVED
        locked.save(update_fields=["state"])
        audit.record(
            EventType.DEREGISTRATION_RELEASED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(locked.employer.public_id),
            data={"request": str(locked.public_id)},
        )
    deregistration_process(deregistration=locked)


def schedule_processing(deregistration: DeregistrationRequest) -> None:
    from portal.employers.tasks import process_deregistration  # noqa: PLC0415 (tasks import this module)

    public_id = str(deregistration.public_id)
    transaction.on_commit(lambda: process_deregistration.enqueue(public_id))


def deregistration_process(*, deregistration: DeregistrationRequest) -> bool:
    """De-register the employer (the background task). Returns whether it was done now."""
    with transaction.atomic():
        locked = (
            DeregistrationRequest.objects.select_for_update()
            .select_related("employer")
            .get(pk=deregistration.pk)
        )
        if locked.state != DeregistrationRequest.State.RECEIVED:
            return False
        employer = locked.employer
        transition(
            employer=employer,
            action=EmployerAction.DEREGISTER,
            actor=None,
            data={"request": str(locked.public_id)},
        )
        now = timezone.now()
        memberships = memberships_end_all(employer=employer, reason="employer-deregistered")
        recipients: dict[str, Person | None] = {
            m.email or m.person.email: m.person for m in memberships if m.role == Role.ADMINISTRATOR
        }
        locked.state = DeregistrationRequest.State.PROCESSED
        locked.processed_at = now
        locked.save(update_fields=["state", "processed_at"])
        audit.record(
            EventType.DEREGISTRATION_PROCESSED,
            actor=None,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"request": str(locked.public_id), "memberships_ended": len(memberships)},
        )
        if locked.requester_email:
            recipients.setdefault(locked.requester_email, locked.requested_by)
        letter = reverse("employers:deregistration", kwargs={"public_id": locked.public_id})
        for email, person in recipients.items():
            if not email:
                continue
            outbox_enqueue(
                template="deregistration_confirmed",
                to_email=email,
                to_person=person if isinstance(person, Person) else None,
                context={
                    "employer": employer.name,
                    "number": employer.formatted_number,
                    "received_on": locked.received_on.isoformat(),
                    "letter": letter,
                    "base_url": _base_url(),
                },
                related_object_type="deregistration",
                related_object_id=str(locked.public_id),
                idempotency_key=f"deregistration-confirmed:{locked.public_id}:{email}",
            )
    deregistration.state = DeregistrationRequest.State.PROCESSED
    return True


def _base_url() -> str:
    from django.conf import settings  # noqa: PLC0415

    return str(settings.BASE_URL)


register_signature_handler(DEREGISTRATION_OBJECT_TYPE, on_deregistration_signed)
