"""Connecting an employer through the e-service "Anslut ditt företag" (R6, R7).

The register says who may sign for the company; each of them signs the enrolment with e-ID, and
that signature is the acceptance of the terms version shown. When the signatures the register
requires are in, the employer becomes active, the first access administrator's membership is
created, and confirmations are sent, all in one transaction with their audit events.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.access.models import Membership, Role
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError, ServiceUnavailableError
from portal.employers.constants import EmployerAction, EmployerState
from portal.employers.models import Employer, Enrolment, EnrolmentSignature
from portal.employers.register import (
    Company,
    CompanyStatus,
    RegisterUnavailable,
    Signatory,
    SignatoryRule,
    get_register,
)
from portal.employers.state import transition
from portal.identity.eidas_identifiers import person_masked
from portal.identity.models import Person, Signature
from portal.identity.numbers import mask_personal_number
from portal.identity.signing import register_signature_handler
from portal.messaging.services import outbox_enqueue
from portal.terms.models import TermsAcceptance, TermsVersion

logger = structlog.get_logger(__name__)

ENROLMENT_OBJECT_TYPE = "enrolment"


class EnrolmentRefused(ApplicationError):
    """The person cannot connect this employer; ``code`` says why, the message what to do."""

    code = "enrolment-refused"


@dataclass(frozen=True)
class Eligibility:
    company: Company
    employer: Employer | None
    #: An enrolment already waiting for signatures, which this person may sign.
    open_enrolment: Enrolment | None = None
    #: The employer is connected already: the signatory may name another access administrator.
    connected: bool = False
    #: Its active access administrators' names, when connected.
    administrators: tuple[str, ...] = ()


def _refuse(
    *,
    person: Person,
    request: HttpRequest | None,
    reason: str,
    orgnr: str,
    message: str,
    **extra: Any,
) -> EnrolmentRefused:
    with transaction.atomic():
        audit.record(
            EventType.ENROLMENT_REFUSED,
            actor=person,
            request=request,
            object_type="organisation",
            object_id=orgnr,
            data={"reason": reason},
        )
    return EnrolmentRefused(message, code=reason, extra=extra)


def rule_from_json(data: dict[str, Any]) -> SignatoryRule:
    return SignatoryRule(
        signatories=tuple(
            Signatory(
                personal_number=s["personal_number"],
                name=s["name"],
                signs_alone=bool(s["signs_alone"]),
            )
            for s in data.get("signatories", [])
        ),
        jointly_required=int(data.get("jointly_required", 0)),
        description=str(data.get("description", "")),
    )


def rule_to_json(rule: SignatoryRule) -> dict[str, Any]:
    return {
        "signatories": [
            {"personal_number": s.personal_number, "name": s.name, "signs_alone": s.signs_alone}
            for s in rule.signatories
        ],
        "jointly_required": rule.jointly_required,
        "description": rule.description,
    }


def foreign_eid_message() -> str:
    """Why a person who logged in with a foreign e-ID cannot connect an employer or sign as its
    signatory, and what they can do instead."""
    return _(
        "Du har loggat in med en utländsk e-legitimation. Företagsregistret anger firmatecknare "
        "med svenskt personnummer, så vi kan inte se att du får teckna firman. Därför kan du inte "
        "ansluta arbetsgivaren eller skriva under anslutningen som firmatecknare. Be någon som får "
        "teckna firman att ansluta arbetsgivaren. Sedan kan en behörighetsadministratör ge dig "
        "behörighet med din eIDAS-identitet, och då kan du använda e-tjänsterna och själv vara "
        "behörighetsadministratör."
    )


def enrolment_check(
    *, person: Person, organisation_number: str, request: HttpRequest | None = None
) -> Eligibility:
    """May ``person`` connect the employer with this (normalised) number? Refusals are audited and
    say what the person can do instead.

    Someone known only by a foreign e-ID (no Swedish personal identity number) is refused before
    the register is asked: signatories are registered by personal number, so they can never be
    found among them."""
    if not person.personal_number:
        raise _refuse(
            person=person,
            request=request,
            orgnr=organisation_number,
            reason="foreign-eid",
            message=foreign_eid_message(),
        )
    try:
        company = get_register().lookup(organisation_number)
    except RegisterUnavailable:
        logger.warning("company_register_unavailable")
        raise ServiceUnavailableError(
            _("Vi kan inte nå företagsregistret just nu. Försök igen om en stund."),
            code="register-unavailable",
        ) from None
    refuse = functools.partial(_refuse, person=person, request=request, orgnr=organisation_number)
    if company is None:
        raise refuse(
            reason="not-found",
            message=_(
                "Organisationsnumret finns inte i företagsregistret. Kontrollera numret och försök igen."
            ),
        )
    if company.status != CompanyStatus.ACTIVE:
        raise refuse(
            reason="not-active",
            message=_(
                "%(name)s är inte aktivt i företagsregistret (%(status)s) och kan inte anslutas."
            )
            % {"name": company.name, "status": company.status.display_name},
        )
    if not company.registered_as_employer:
        raise refuse(
            reason="not-employer",
            message=_(
                "%(name)s är inte registrerat som arbetsgivare hos Skatteverket. Registrera företaget som "
                "arbetsgivare först och försök sedan igen."
            )
            % {"name": company.name},
        )
    if not company.signatory_rule.is_signatory(person.personal_number):
        raise refuse(
            reason="not-signatory",
            message=_(
                "Du är inte registrerad som firmatecknare för %(name)s. Be någon som får teckna firman att "
                "ansluta företaget, eller använd blanketten om ni ansluter med fullmakt."
            )
            % {"name": company.name},
        )
    employer = Employer.objects.filter(organisation_number=organisation_number).first()
    administrators: tuple[str, ...] = ()
    if employer is not None and employer.is_connected:
        administrators = tuple(
            m.person.full_name or person_masked(m.person)
            for m in Membership.objects.active()
            .filter(employer=employer, role=Role.ADMINISTRATOR)
            .select_related("person")
        )
    open_enrolment = None
    if employer is not None:
        open_enrolment = employer.enrolments.filter(
            state=Enrolment.State.AWAITING_SIGNATURES
        ).first()
        if open_enrolment is not None and open_enrolment.expires_at <= timezone.now():
            enrolment_expire(enrolment=open_enrolment)
            open_enrolment = None
    return Eligibility(
        company=company,
        employer=employer,
        open_enrolment=open_enrolment,
        connected=employer is not None and employer.is_connected,
        administrators=administrators,
    )


def enrolment_start(
    *,
    request: HttpRequest,
    person: Person,
    company: Company,
    administrator_personal_number: str,
    administrator_email: str,
    initiator_email: str,
    co_signer_emails: dict[str, str],
    terms_version: TermsVersion,
) -> Enrolment:
    """Create the employer (or take it up again) and an enrolment waiting for signatures. For an
    employer that is connected already, the enrolment only names another access administrator.

    Idempotent for the person who started it: a second submit returns the same enrolment. Two
    signatories starting at the same moment end with one enrolment (a partial unique index)."""
    try:
        with transaction.atomic():
            employer, _created = Employer.objects.get_or_create(
                organisation_number=company.organisation_number,
                defaults={"name": company.name, "legal_form": str(company.legal_form)},
            )
            existing = employer.enrolments.filter(state=Enrolment.State.AWAITING_SIGNATURES).first()
            if existing is not None:
                if existing.initiated_by_id == person.pk:
                    return existing
                raise ConflictError(
                    _("En anslutning av %(name)s pågår redan och väntar på underskrifter.")
                    % {"name": company.name},
                    code="enrolment-in-progress",
                )
            kind = Enrolment.Kind.ADMINISTRATOR if employer.is_connected else Enrolment.Kind.CONNECT
            if kind == Enrolment.Kind.CONNECT and employer.state != EmployerState.PENDING:
                transition(
                    employer=employer,
                    action=EmployerAction.START_ENROLMENT,
                    actor=person,
                    request=request,
                )
            enrolment = Enrolment.objects.create(
                employer=employer,
                kind=kind,
                channel=Enrolment.Channel.ESERVICE,
                initiated_by=person,
                terms_version=terms_version,
                administrator_personal_number=administrator_personal_number,
                administrator_email=administrator_email,
                signatory_rule=rule_to_json(company.signatory_rule),
                company_snapshot={
                    "name": company.name,
                    "legal_form": str(company.legal_form),
                    "initiator_email": initiator_email,
                    "co_signer_emails": co_signer_emails,
                },
                expires_at=timezone.now() + timedelta(days=settings.ENROLMENT_SIGNATURE_DAYS),
            )
            audit.record(
                EventType.ENROLMENT_STARTED,
                actor=person,
                request=request,
                object_type="employer",
                object_id=str(employer.public_id),
                data={
                    "enrolment": str(enrolment.public_id),
                    "terms_version": terms_version.version,
                    "administrator": mask_personal_number(administrator_personal_number),
                },
            )
            _schedule_expiry(enrolment)
            return enrolment
    except IntegrityError:
        # Someone else's enrolment of the same employer won the race.
        raise ConflictError(
            _("En anslutning av %(name)s pågår redan och väntar på underskrifter.")
            % {"name": company.name},
            code="enrolment-in-progress",
        ) from None


def _schedule_expiry(enrolment: Enrolment) -> None:
    from portal.employers.tasks import expire_enrolment  # noqa: PLC0415 (tasks import services)

    public_id = str(enrolment.public_id)
    transaction.on_commit(
        lambda: expire_enrolment.using(run_after=enrolment.expires_at).enqueue(public_id)
    )


def enrolment_visible_text(enrolment: Enrolment) -> str:
    """What the signatory sees in the BankID app (simpleMarkdownV1)."""
    employer = enrolment.employer
    if enrolment.kind == Enrolment.Kind.ADMINISTRATOR:
        return _(
            "# Ny behörighetsadministratör för %(name)s\n\n"
            "Jag utser %(administrator)s till behörighetsadministratör för *%(name)s* (%(number)s) "
            "i e-tjänster för arbetsgivare."
        ) % {
            "name": employer.name,
            "number": employer.formatted_number,
            "administrator": mask_personal_number(enrolment.administrator_personal_number),
        }
    return _(
        "# Anslut %(name)s\n\n"
        "Jag ansluter *%(name)s* (%(number)s) till e-tjänster för arbetsgivare och godkänner villkoren "
        "version %(version)s för arbetsgivarens räkning.\n\n"
        "Första behörighetsadministratör: %(administrator)s"
    ) % {
        "name": employer.name,
        "number": employer.formatted_number,
        "version": enrolment.terms_version.version,
        "administrator": mask_personal_number(enrolment.administrator_personal_number),
    }


def signers(enrolment: Enrolment) -> set[str]:
    return {
        number
        for number in EnrolmentSignature.objects.filter(enrolment=enrolment).values_list(
            "person__personal_number", flat=True
        )
        if number
    }


def on_enrolment_signed(*, signature: Signature, request: HttpRequest | None) -> None:
    """Signature handler: a signatory signed an enrolment (runs in the signature's transaction)."""
    enrolment = Enrolment.objects.select_for_update().filter(public_id=signature.object_id).first()
    person = signature.person
    reason = ""
    if enrolment is None:
        reason = "unknown-enrolment"
    elif enrolment.state != Enrolment.State.AWAITING_SIGNATURES:
        reason = f"enrolment-{enrolment.state}"
    elif enrolment.expires_at <= timezone.now():
        reason = "enrolment-expired"
    elif not person.personal_number:
        reason = "foreign-eid"
    elif not rule_from_json(enrolment.signatory_rule).is_signatory(person.personal_number):
        reason = "not-signatory"
    elif EnrolmentSignature.objects.filter(enrolment=enrolment, person=person).exists():
        reason = "already-signed"
    if reason:
        audit.record(
            EventType.ENROLMENT_REFUSED,
            actor=person,
            request=request,
            object_type="enrolment",
            object_id=signature.object_id,
            data={"reason": reason},
        )
        return
    assert enrolment is not None  # noqa: S101 (reason covers None)
    EnrolmentSignature.objects.create(enrolment=enrolment, person=person, signature=signature)
    audit.record(
        EventType.ENROLMENT_SIGNED,
        actor=person,
        request=request,
        object_type="employer",
        object_id=str(enrolment.employer.public_id),
        data={"enrolment": str(enrolment.public_id), "signature": signature.pk},
    )
    rule = rule_from_json(enrolment.signatory_rule)
    signed = signers(enrolment)
    if rule.is_satisfied_by(signed):
        _complete(enrolment=enrolment, actor=person, request=request)
    elif len(signed) == 1:
        _ask_co_signers(enrolment=enrolment, rule=rule, initiator=person)


def _ask_co_signers(*, enrolment: Enrolment, rule: SignatoryRule, initiator: Person) -> None:
    emails: dict[str, str] = enrolment.company_snapshot.get("co_signer_emails", {})
    link = reverse("employers:enrolment", kwargs={"public_id": enrolment.public_id})
    for signatory in rule.signatories:
        if signatory.personal_number == initiator.personal_number:
            continue
        known = (
            Person.objects.filter(personal_number=signatory.personal_number)
            .values_list("email", flat=True)
            .first()
        )
        email = emails.get(signatory.personal_number) or known
        if not email:
            continue
        outbox_enqueue(
            template="enrolment_co_sign",
            to_email=email,
            context={
                "employer": enrolment.employer.name,
                "initiator": initiator.full_name,
                "expires": enrolment.expires_at.date().isoformat(),
                "link": link,
                "base_url": settings.BASE_URL,
            },
            related_object_type="enrolment",
            related_object_id=str(enrolment.public_id),
            idempotency_key=f"enrolment-co-sign:{enrolment.public_id}:{signatory.personal_number}",
        )


def _complete(*, enrolment: Enrolment, actor: Person, request: HttpRequest | None) -> None:
    employer = enrolment.employer
    if enrolment.kind == Enrolment.Kind.ADMINISTRATOR:
        _complete_administrator(enrolment=enrolment, actor=actor, request=request)
        return
    transition(employer=employer, action=EmployerAction.ACTIVATE, actor=actor, request=request)
    administrator, _created = Person.objects.get_or_create(
        personal_number=enrolment.administrator_personal_number,
        defaults={"password": "!", "email": enrolment.administrator_email},
    )
    membership = Membership.objects.create(
        employer=employer,
        person=administrator,
        role=Role.ADMINISTRATOR,
        email=enrolment.administrator_email,
        reason=_("Första behörighetsadministratör, utsedd vid anslutningen"),
        created_by=actor,
    )
    audit.record(
        EventType.MEMBERSHIP_CREATED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(employer.public_id),
        data={"membership": membership.pk, "role": Role.ADMINISTRATOR, "person": administrator.pk},
    )
    first_signature = enrolment.signatures.order_by("signed_at", "pk").first()
    acceptance = TermsAcceptance.objects.create(
        employer=employer,
        terms_version=enrolment.terms_version,
        channel=TermsAcceptance.Channel.PAPER
        if enrolment.channel == Enrolment.Channel.PAPER
        else TermsAcceptance.Channel.ESERVICE,
        accepted_by=enrolment.initiated_by,
        signature=first_signature.signature if first_signature else None,
    )
    audit.record(
        EventType.TERMS_ACCEPTED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(employer.public_id),
        data={
            "terms_version": enrolment.terms_version.version,
            "acceptance": acceptance.pk,
            "channel": str(acceptance.channel),
        },
    )
    enrolment.state = Enrolment.State.COMPLETED
    enrolment.completed_at = timezone.now()
    enrolment.save(update_fields=["state", "completed_at"])
    audit.record(
        EventType.ENROLMENT_COMPLETED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(employer.public_id),
        data={"enrolment": str(enrolment.public_id)},
    )
    _confirm(enrolment=enrolment, administrator=administrator)


def _complete_administrator(
    *, enrolment: Enrolment, actor: Person, request: HttpRequest | None
) -> None:
    """The signatories named another access administrator of a connected employer."""
    from portal.access.administration import role_add  # noqa: PLC0415 (access imports employers)

    employer = enrolment.employer
    administrator, _created = Person.objects.get_or_create(
        personal_number=enrolment.administrator_personal_number,
        defaults={"password": "!", "email": enrolment.administrator_email},
    )
    already = (
        Membership.objects.open()
        .filter(employer=employer, person=administrator, role=Role.ADMINISTRATOR)
        .exists()
    )
    # Nothing to add if the employer left the portal meanwhile or the person is one already.
    if employer.is_connected and not already:
        role_add(
            employer=employer,
            person=administrator,
            role=Role.ADMINISTRATOR,
            email=enrolment.administrator_email,
            reason=_("Utsedd av firmatecknare med BankID"),
            actor=actor,
            request=request,
        )
    enrolment.state = Enrolment.State.COMPLETED
    enrolment.completed_at = timezone.now()
    enrolment.save(update_fields=["state", "completed_at"])
    audit.record(
        EventType.ENROLMENT_COMPLETED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(employer.public_id),
        data={"enrolment": str(enrolment.public_id), "kind": str(enrolment.kind)},
    )
    _confirm(enrolment=enrolment, administrator=administrator)


def _confirm(*, enrolment: Enrolment, administrator: Person) -> None:
    """Confirmation to every signatory who gave an address, and to the administrator."""
    recipients: dict[str, Person | None] = {}
    initiator_email = enrolment.company_snapshot.get("initiator_email", "")
    if initiator_email:
        recipients[initiator_email] = enrolment.initiated_by
    emails: dict[str, str] = enrolment.company_snapshot.get("co_signer_emails", {})
    for signature in enrolment.signatures.select_related("person"):
        email = emails.get(signature.person.personal_number or "") or signature.person.email
        if email:
            recipients.setdefault(email, signature.person)
    recipients.setdefault(enrolment.administrator_email, administrator)
    for email, person in recipients.items():
        outbox_enqueue(
            template="enrolment_completed",
            to_email=email,
            to_person=person,
            context={
                "employer": enrolment.employer.name,
                "number": enrolment.employer.formatted_number,
                "terms_version": enrolment.terms_version.version,
                "administrator_is_recipient": person is not None and person.pk == administrator.pk,
                "new_administrator": enrolment.kind == Enrolment.Kind.ADMINISTRATOR,
                "base_url": settings.BASE_URL,
            },
            related_object_type="enrolment",
            related_object_id=str(enrolment.public_id),
            idempotency_key=f"enrolment-completed:{enrolment.public_id}:{email}",
        )


def enrolment_expire(*, enrolment: Enrolment) -> bool:
    """An enrolment that did not get its signatures within the time: it lapses (a background task
    at ``expires_at``, or whoever looks at it first). Returns whether it expired now."""
    with transaction.atomic():
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if (
            locked.state != Enrolment.State.AWAITING_SIGNATURES
            or locked.expires_at > timezone.now()
        ):
            return False
        locked.state = Enrolment.State.EXPIRED
        locked.save(update_fields=["state"])
        if locked.kind == Enrolment.Kind.CONNECT:
            transition(employer=locked.employer, action=EmployerAction.LAPSE, actor=None)
        audit.record(
            EventType.ENROLMENT_EXPIRED,
            actor=None,
            object_type="employer",
            object_id=str(locked.employer.public_id),
            data={"enrolment": str(locked.public_id)},
        )
    enrolment.state = Enrolment.State.EXPIRED
    return True


register_signature_handler(ENROLMENT_OBJECT_TYPE, on_enrolment_signed)
