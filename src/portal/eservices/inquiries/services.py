"""Writes of the inquiries: creating one (staff or the intake API), linking its answer, and the
reminders before and after the due date. Each records its event in its own transaction, and
each e-mail is put in the outbox in that transaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.access.models import Grant, Membership, Role
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.employers.models import Employer
from portal.employers.register import InvalidEmployerId, normalise_employer_id
from portal.eservices.inquiries import CODE
from portal.eservices.inquiries.forms import MAX_DUE, MAX_PERIOD
from portal.eservices.inquiries.models import Inquiry
from portal.eservices.models import IntakeClient, Submission, new_reference
from portal.identity.models import Person
from portal.identity.numbers import (
    InvalidPersonalNumber,
    mask_personal_number,
    normalise_personal_number,
)
from portal.messaging.services import outbox_enqueue

REFERENCE_PREFIX = "FRG"
MAX_QUESTION = 2000


class InquiryRefused(ApplicationError):
    """The inquiry cannot be made as asked (the messages are per field)."""

    status = 422  # type: ignore[assignment]
    code = "inquiry-refused"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()), extra={"errors": errors})
        self.errors = errors


def employer_by_number(number: str) -> Employer:
    """The connected employer with this organisation number (any usual form), or a refusal."""
    try:
        normalised = normalise_employer_id(number)
    except InvalidEmployerId as error:
        raise InquiryRefused({"organisation_number": str(error)}) from None
    employer = Employer.objects.filter(organisation_number=normalised).first()
    if employer is None or not employer.is_connected:
        raise InquiryRefused(
            {"organisation_number": _("Ingen ansluten arbetsgivare har det numret.")}
        )
    return employer


def _validated(
    *,
    employer: Employer,
    kind: str,
    employee_personal_number: str,
    due_date: date | None,
    period_from: date | None,
    period_to: date | None,
    question: str,
    today: date,
) -> tuple[str, str]:
    """The kind and the normalised personal number, or a refusal with every problem."""
    errors: dict[str, str] = {}
    if not employer.is_connected:
        errors["employer"] = _("Arbetsgivaren är inte ansluten till e-tjänsterna.")
    if kind not in Inquiry.Kind.values:
        errors["kind"] = _("Frågan ska gälla inkomst (income) eller frånvaro (absence).")
    number = ""
    try:
        number = normalise_personal_number(employee_personal_number)
    except InvalidPersonalNumber:
        errors["employee_personal_number"] = _("Personnumret är inte giltigt.")
    if due_date is None:
        errors["due_date"] = _("Skriv sista dag för svar.")
    elif due_date <= today:
        errors["due_date"] = _("Sista dag för svar måste ligga efter i dag.")
    elif due_date > today + MAX_DUE:
        errors["due_date"] = _("Sista dag för svar kan ligga högst %(days)s dagar fram.") % {
            "days": MAX_DUE.days
        }
    if len(question) > MAX_QUESTION:
        errors["question"] = _("Frågan får vara högst %(max)s tecken.") % {"max": MAX_QUESTION}
    errors |= _period_problems(kind, period_from, period_to, today)
    if errors:
        raise InquiryRefused(errors)
    return kind, number


def _period_problems(
    kind: str, period_from: date | None, period_to: date | None, today: date
) -> dict[str, str]:
    """An absence inquiry asks about a period that has passed (at most a year); an income
    inquiry about none."""
    errors: dict[str, str] = {}
    if kind == Inquiry.Kind.ABSENCE:
        if period_from is None:
            errors["period_from"] = _("Skriv periodens första dag.")
        if period_to is None:
            errors["period_to"] = _("Skriv periodens sista dag.")
        if period_from and period_to:
            if period_to < period_from:
                errors["period_to"] = _("Periodens sista dag kan inte vara före den första.")
            elif period_to > today:
                errors["period_to"] = _("Perioden kan inte sluta i framtiden.")
            elif period_to - period_from >= MAX_PERIOD:
                errors["period_to"] = _("Perioden kan vara högst ett år.")
    elif kind == Inquiry.Kind.INCOME and (period_from or period_to):
        field = "period_from" if period_from else "period_to"
        errors[field] = _("En fråga om inkomst gäller ingen period; lämna perioden tom.")
    return errors


def inquiry_create(
    *,
    employer: Employer,
    kind: str,
    employee_personal_number: str,
    due_date: date | None,
    period_from: date | None = None,
    period_to: date | None = None,
    question: str = "",
    staff: Person | None = None,
    client: IntakeClient | None = None,
    idempotency_key: str = "",
    request: HttpRequest | None = None,
    today: date | None = None,
) -> tuple[Inquiry, bool]:
    """Ask ``employer`` about an employee, from a staff member or a case-handling system; the
    users with a grant for the e-service are told by e-mail. Every field is checked first and
    nothing is stored while any is wrong (``InquiryRefused``, with a message per field).

    With an ``idempotency_key`` (a system's retry), the same client and key always get the
    inquiry already made (and ``False``), never a second one.
    """
    if (staff is None) == (client is None):
        msg = "an inquiry is made by a staff member or a client, exactly one"
        raise ValueError(msg)
    if client is not None and idempotency_key:
        existing = Inquiry.objects.filter(
            created_by_client=client, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing, False
    day = today or timezone.localdate()
    kind, number = _validated(
        employer=employer,
        kind=kind,
        employee_personal_number=employee_personal_number,
        due_date=due_date,
        period_from=period_from,
        period_to=period_to,
        question=question.strip(),
        today=day,
    )
    absence = kind == Inquiry.Kind.ABSENCE
    assert due_date is not None  # noqa: S101 (checked above)
    try:
        with transaction.atomic():
            inquiry = Inquiry.objects.create(
                reference=new_reference(REFERENCE_PREFIX),
                employer=employer,
                kind=kind,
                employee_personal_number=number,
                period_from=period_from if absence else None,
                period_to=period_to if absence else None,
                question=question.strip(),
                due_date=due_date,
                created_by_staff=staff,
                created_by_client=client,
                idempotency_key=idempotency_key if client is not None else "",
            )
            recipients = _recipients(employer)
            audit.record(
                EventType.INQUIRY_CREATED,
                actor=staff,
                request=request,
                employer=employer,
                object_type="inquiry",
                object_id=str(inquiry.public_id),
                data={
                    "reference": inquiry.reference,
                    "kind": kind,
                    "employee": mask_personal_number(number),
                    "due_date": inquiry.due_date.isoformat(),
                    "client": client.name if client is not None else None,
                    "notified": len(recipients),
                },
            )
            _tell(inquiry, recipients, template="inquiry_received", occasion="notice")
    except IntegrityError:
        # The same client and key at the same moment from a second request: the first won.
        winner = (
            Inquiry.objects.filter(
                created_by_client=client, idempotency_key=idempotency_key
            ).first()
            if client is not None and idempotency_key
            else None
        )
        if winner is None:
            raise
        return winner, False
    return inquiry, True


def _recipients(employer: Employer) -> list[Membership]:
    """The employer's users in force with a grant in force for the e-service and an e-mail
    address, one membership per person."""
    with_grant = Grant.objects.in_force().filter(eservice=CODE).values("membership")
    memberships = (
        Membership.objects.active()
        .filter(employer=employer, role=Role.USER, pk__in=with_grant)
        .select_related("person")
        .order_by("pk")
    )
    return [membership for membership in memberships if membership.contact_email]


def _link(inquiry: Inquiry) -> str:
    from portal.eservices.inquiries.handler import inquiry_url  # noqa: PLC0415

    return str(settings.BASE_URL) + inquiry_url(inquiry.employer, inquiry.reference)


def _tell(inquiry: Inquiry, recipients: list[Membership], *, template: str, occasion: str) -> None:
    """Put one e-mail per recipient in the outbox (in the caller's transaction), each once."""
    context: dict[str, Any] = {
        "employer": inquiry.employer.name,
        "reference": inquiry.reference,
        "kind": str(inquiry.get_kind_display()),
        "due_date": inquiry.due_date.isoformat(),
        "link": _link(inquiry),
    }
    if template == "inquiry_reminder":
        context["overdue"] = occasion == "after"
    for membership in recipients:
        outbox_enqueue(
            template=template,
            to_email=membership.contact_email,
            to_person=membership.person,
            context=context,
            related_object_type="inquiry",
            related_object_id=str(inquiry.public_id),
            idempotency_key=f"inquiry:{inquiry.public_id}:{occasion}:{membership.pk}",
        )


def inquiry_answer_link(*, submission: Submission, request: HttpRequest | None) -> Inquiry:
    """Link a received answer to its inquiry (in the submission's transaction). An inquiry has
    one answer; a correction is a later version of it, and an answer is never withdrawn."""
    reference = str(submission.content.get("inquiry", ""))
    inquiry = (
        Inquiry.objects.select_for_update()
        .filter(employer=submission.employer, reference=reference)
        .first()
    )
    if inquiry is None:
        raise ApplicationError(_("Det finns ingen sådan förfrågan hos arbetsgivaren."))
    if submission.kind == Submission.Kind.WITHDRAWAL:
        raise ApplicationError(
            _("Ett svar på en förfrågan kan inte återkallas. Rätta svaret om något blev fel."),
            code="not-withdrawable",
        )
    if submission.version == 1:
        if inquiry.answer_id is not None:
            # Two people answered at the same moment: the first answer stands.
            raise ConflictError(
                _("Förfrågan har redan besvarats. Rätta svaret om något blev fel."),
                code="already-answered",
            )
        inquiry.answer = submission
        inquiry.save(update_fields=["answer"])
    elif inquiry.answer is None or inquiry.answer.case_id != submission.case_id:
        raise ConflictError(_("En rättelse måste gälla samma förfrågan."), code="other-inquiry")
    audit.record(
        EventType.INQUIRY_ANSWERED,
        actor=submission.submitted_by,
        request=request,
        employer=submission.employer,
        object_type="inquiry",
        object_id=str(inquiry.public_id),
        data={
            "reference": inquiry.reference,
            "answer": submission.reference,
            "version": submission.version,
            "after_due_date": timezone.localdate(submission.submitted_at) > inquiry.due_date,
        },
    )
    return inquiry


def inquiry_reminders(today: date | None = None) -> tuple[int, int]:
    """Remind the users of unanswered inquiries: once ``PORTAL_INQUIRY_REMIND_DAYS_BEFORE`` days
    before the due date (not when the inquiry came so late that its notice was as recent), and
    once after the due date has passed. A daily task; a run again the same day, or a day missed,
    never sends a reminder twice. Returns how many inquiries were reminded before and after."""
    day = today or timezone.localdate()
    window = timedelta(days=settings.INQUIRY_REMIND_DAYS_BEFORE)
    before = 0
    for inquiry in Inquiry.objects.filter(
        answer__isnull=True,
        reminder_before_sent_at__isnull=True,
        due_date__gte=day,
        due_date__lte=day + window,
    ).order_by("due_date", "pk"):
        if timezone.localdate(inquiry.created_at) >= inquiry.due_date - window:
            continue  # the notice itself came within the reminder's days
        before += _remind(inquiry.pk, occasion="before", day=day)
    after = sum(
        _remind(pk, occasion="after", day=day)
        for pk in Inquiry.objects.filter(
            answer__isnull=True, reminder_after_sent_at__isnull=True, due_date__lt=day
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    return before, after


def _remind(pk: int, *, occasion: str, day: date) -> int:
    field = f"reminder_{occasion}_sent_at"
    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().select_related("employer").get(pk=pk)
        if inquiry.answer_id is not None or getattr(inquiry, field) is not None:
            return 0  # answered, or reminded by a run at the same time
        if not inquiry.employer.is_connected:
            return 0
        setattr(inquiry, field, timezone.now())
        inquiry.save(update_fields=[field])
        recipients = _recipients(inquiry.employer)
        audit.record(
            EventType.INQUIRY_REMINDED,
            actor=None,
            employer=inquiry.employer,
            object_type="inquiry",
            object_id=str(inquiry.public_id),
            data={
                "reference": inquiry.reference,
                "occasion": occasion,
                "due_date": inquiry.due_date.isoformat(),
                "on": day.isoformat(),
                "notified": len(recipients),
            },
        )
        _tell(inquiry, recipients, template="inquiry_reminder", occasion=occasion)
    return 1
