"""Inquiries in the JSON API, for the agency's case-handling systems (not for people).

Authenticated as the intake feed is, with a client credential (``Authorization: Bearer
<secret>``). ``POST /intake/inquiries`` asks an employer about an employee; the employer's users
answer in the portal, and the answer reaches the system through the intake feed as a submission
of the ``inquiries`` e-service whose content names the inquiry. ``GET /intake/inquiries/{reference}``
tells whether it is answered, and by which submission.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Router, Schema, Status
from pydantic import ConfigDict, Field

from portal.api.intake import ClientCredential
from portal.api.schemas import ProblemOut
from portal.common.errors import NotFoundError
from portal.eservices.inquiries import selectors, services
from portal.eservices.inquiries.models import Inquiry
from portal.eservices.models import IntakeClient

router = Router(tags=["intake"], auth=ClientCredential())

MIN_KEY, MAX_KEY = 8, 128


class InquiryIn(Schema):
    """An inquiry to a connected employer about one employee."""

    model_config = ConfigDict(extra="forbid")

    organisation_number: str = Field(
        max_length=20, description="The employer's organisation number, e.g. 559901-1235."
    )
    kind: str = Field(max_length=16, description="income or absence")
    employee_personal_number: str = Field(
        max_length=20, description="The employee's personal or coordination number."
    )
    period_from: date | None = Field(
        default=None, description="absence: the first day of the period asked about"
    )
    period_to: date | None = Field(
        default=None, description="absence: the last day of the period asked about"
    )
    due_date: date = Field(description="The last day for the answer; after today.")
    question: str = Field(
        default="", max_length=2000, description="A question or explanation to the employer."
    )


class InquiryOut(Schema):
    reference: str = Field(description="The inquiry's reference number, e.g. FRG-7K4Q-9XWD.")
    kind: str
    organisation_number: str
    due_date: date
    created_at: datetime
    status: str = Field(description="open, overdue or answered")
    answer_reference: str | None = Field(
        description="The answer's submission (its first version), in the intake feed."
    )
    answered_at: datetime | None


def _client(request: HttpRequest) -> IntakeClient:
    client = request.auth  # type: ignore[attr-defined]
    assert isinstance(client, IntakeClient)  # noqa: S101 (the auth class returns one)
    return client


def _out(inquiry: Inquiry) -> InquiryOut:
    answer = inquiry.answer
    if answer is not None:
        status = "answered"
    elif inquiry.due_date < timezone.localdate():
        status = "overdue"
    else:
        status = "open"
    return InquiryOut(
        reference=inquiry.reference,
        kind=inquiry.kind,
        organisation_number=inquiry.employer.organisation_number,
        due_date=inquiry.due_date,
        created_at=inquiry.created_at,
        status=status,
        answer_reference=answer.reference if answer else None,
        answered_at=answer.submitted_at if answer else None,
    )


@router.post(
    "/intake/inquiries",
    response={200: InquiryOut, 201: InquiryOut, 401: ProblemOut, 422: ProblemOut},
    summary="Ask an employer about an employee",
    description=(
        "Creates an inquiry (income: monthly salary, employment extent and start date; absence: "
        "the days absent within period_from–period_to) with a due date after today. The "
        "employer's users with a grant for the inquiries e-service are told by e-mail and "
        "reminded before and after the due date. 422 with `errors` per field for a bad value "
        "(and for unknown fields). With an Idempotency-Key header, a retry with the same key "
        "returns the inquiry already made (200, header Idempotent-Replayed: true)."
    ),
    operation_id="intake_inquiry_create",
    url_name="intake_inquiry_create",
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "minLength": MIN_KEY, "maxLength": MAX_KEY},
                "description": "Unique per inquiry; a retry with the same key is safe.",
            }
        ]
    },
)
def inquiry_create(
    request: HttpRequest, response: HttpResponse, payload: Body[InquiryIn]
) -> Status[InquiryOut]:
    client = _client(request)
    key = request.headers.get("Idempotency-Key", "")
    if key and not MIN_KEY <= len(key) <= MAX_KEY:
        raise services.InquiryRefused({"Idempotency-Key": _("8–128 tecken.")})
    if key:
        existing = Inquiry.objects.filter(created_by_client=client, idempotency_key=key).first()
        if existing is not None:
            response["Idempotent-Replayed"] = "true"
            return Status(200, _out(existing))
    employer = services.employer_by_number(payload.organisation_number)
    inquiry, created = services.inquiry_create(
        employer=employer,
        kind=payload.kind,
        employee_personal_number=payload.employee_personal_number,
        period_from=payload.period_from,
        period_to=payload.period_to,
        due_date=payload.due_date,
        question=payload.question,
        client=client,
        idempotency_key=key,
        request=request,
    )
    if not created:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if created else 200, _out(inquiry))


@router.get(
    "/intake/inquiries/{reference}",
    response={200: InquiryOut, 401: ProblemOut, 404: ProblemOut},
    summary="An inquiry's status",
    description="Whether the inquiry is open, overdue or answered, and its answer's reference "
    "(the answer's content comes through the intake feed).",
    operation_id="intake_inquiry",
    url_name="intake_inquiry",
)
def inquiry(request: HttpRequest, reference: str) -> InquiryOut:
    client = _client(request)
    found = Inquiry.objects.filter(reference=reference).select_related("employer", "answer").first()
    if found is None:
        raise NotFoundError(_("Det finns ingen förfrågan med det referensnumret."))
    details: dict[str, Any] = {"client": client.name}
    selectors.inquiry_read(request, found.employer, found, **details)
    return _out(found)
