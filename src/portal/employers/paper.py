"""Paper enrolment: the form "Underlag för att använda e-tjänster för arbetsgivare" (R7).

A case worker enters the form: the employer, the signatories who signed it, the first access
administrator, the received date, the case number and where the scanned form is kept. The
register check is the same as the e-service's. A second case worker, never the one who entered
it, approves it (four eyes); then the result is the same as the e-service's: the employer is
active, the administrator's membership exists, the terms acceptance is recorded (channel: the
form), confirmations go out, all audited.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from portal.employers.constants import EmployerAction, EmployerState
from portal.employers.models import Employer, Enrolment
from portal.employers.register import CompanyStatus, get_register
from portal.employers.services import _complete, rule_to_json
from portal.employers.state import transition
from portal.identity.models import Person
from portal.terms.selectors import current_version


def paper_enrolment_register(
    *,
    organisation_number: str,
    signatory_numbers: Collection[str],
    administrator_personal_number: str,
    administrator_email: str,
    received_on: date,
    case_number: str,
    scan_reference: str,
    actor: Person,
    request: HttpRequest | None = None,
) -> Enrolment:
    """Enter a paper form; it waits for a second case worker's approval."""
    # RegisterUnavailable is an ApplicationError: the page shows its message.
    company = get_register().lookup(organisation_number)
    if company is None:
        raise ApplicationError(
            _("Organisationsnumret finns inte i företagsregistret."), code="not-found"
        )
    if company.status != CompanyStatus.ACTIVE:
        raise ApplicationError(
            _("Företaget är inte aktivt i företagsregistret."), code="not-active"
        )
    if not company.registered_as_employer:
        raise ApplicationError(
            _("Företaget är inte registrerat som arbetsgivare."), code="not-employer"
        )
    if not company.signatory_rule.is_satisfied_by(set(signatory_numbers)):
        raise ApplicationError(
            _(
                "De som skrivit under blanketten räcker inte för att teckna firman enligt registret: %(rule)s"
            )
            % {"rule": company.signatory_rule.description},
            code="not-signatory",
        )
    terms = current_version()
    if terms is None:
        raise ApplicationError(_("Inga villkor är publicerade."), code="no-terms")
    try:
        with transaction.atomic():
            employer, _created = Employer.objects.get_or_create(
                organisation_number=company.organisation_number,
                defaults={"name": company.name, "legal_form": str(company.legal_form)},
            )
            if employer.is_connected:
                raise ConflictError(_("%(name)s är redan anslutet.") % {"name": company.name})
            if employer.state != EmployerState.PENDING:
                transition(
                    employer=employer,
                    action=EmployerAction.START_ENROLMENT,
                    actor=actor,
                    request=request,
                )
            signatory, _created = Person.objects.get_or_create(
                personal_number=min(signatory_numbers), defaults={"password": "!"}
            )
            enrolment = Enrolment.objects.create(
                employer=employer,
                channel=Enrolment.Channel.PAPER,
                state=Enrolment.State.AWAITING_APPROVAL,
                initiated_by=signatory,
                entered_by=actor,
                terms_version=terms,
                administrator_personal_number=administrator_personal_number,
                administrator_email=administrator_email,
                signatory_rule=rule_to_json(company.signatory_rule),
                company_snapshot={
                    "name": company.name,
                    "legal_form": str(company.legal_form),
                    "signed_by": sorted(signatory_numbers),
                },
                expires_at=timezone.now() + timedelta(days=settings.ENROLMENT_SIGNATURE_DAYS),
                received_on=received_on,
                case_number=case_number,
                scan_reference=scan_reference,
            )
            audit.record(
                EventType.ENROLMENT_STARTED,
                actor=actor,
                request=request,
                object_type="employer",
                object_id=str(employer.public_id),
                data={
                    "enrolment": str(enrolment.public_id),
                    "channel": "paper",
                    "case_number": case_number,
                },
            )
            return enrolment
    except IntegrityError:
        raise ConflictError(
            _("En anslutning av %(name)s pågår redan.") % {"name": company.name},
            code="enrolment-in-progress",
        ) from None


def paper_enrolment_approve(
    *, enrolment: Enrolment, actor: Person, request: HttpRequest | None = None
) -> None:
    """The second case worker approves: the employer becomes active, as after the e-service.

    Four eyes: the one who entered the form may not approve it; the attempt is refused (403) and
    recorded, like any refusal."""
    with transaction.atomic():
        locked = (
            Enrolment.objects.select_for_update()
            .select_related("employer", "terms_version")
            .get(pk=enrolment.pk)
        )
        if (
            locked.channel != Enrolment.Channel.PAPER
            or locked.state != Enrolment.State.AWAITING_APPROVAL
        ):
            raise ConflictError(_("Anslutningen väntar inte på granskning."))
        if locked.entered_by_id != actor.pk:
            locked.approved_by = actor
            locked.save(update_fields=["approved_by"])
            _complete(enrolment=locked, actor=actor, request=request)
            return
    with transaction.atomic():
        audit.record(
            EventType.ACCESS_DENIED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(locked.employer.public_id),
            data={
                "action": "backoffice:enrolment:approve",
                "reason": "four-eyes",
                "enrolment": str(locked.public_id),
            },
        )
    raise PermissionDeniedError(
        _(
            "Den som registrerade blanketten kan inte själv godkänna den. En annan handläggare granskar."
        ),
        code="four-eyes",
    )
