"""Reads of the inquiries (the employer is already authorised), each recorded in the audit log:
an inquiry names an employee."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from portal import audit
from portal.audit.constants import EventType
from portal.employers.models import Employer
from portal.eservices.inquiries import CODE
from portal.eservices.inquiries.models import Inquiry
from portal.eservices.models import Draft
from portal.identity.models import Person
from portal.identity.numbers import mask_personal_number

#: How many answered inquiries the inbox shows (the newest).
ANSWERED_SHOWN = 50


def inbox(
    request: HttpRequest, employer: Employer, *, person: Person | None = None
) -> dict[str, Any]:
    """The employer's open inquiries, the nearest due date first (each marked when ``person``
    has a draft of its answer), and the answered ones, the newest answer first."""
    today = timezone.localdate()
    open_inquiries = list(
        Inquiry.objects.filter(employer=employer, answer__isnull=True).order_by(
            "due_date", "created_at", "pk"
        )
    )
    drafted = (
        set(
            Draft.objects.filter(person=person, employer=employer, eservice=CODE)
            .exclude(key="")
            .values_list("key", flat=True)
        )
        if person is not None and open_inquiries
        else set()
    )
    for inquiry in open_inquiries:
        inquiry.has_draft = inquiry.reference in drafted  # type: ignore[attr-defined]
        inquiry.masked = mask_personal_number(inquiry.employee_personal_number)  # type: ignore[attr-defined]
        inquiry.overdue = inquiry.due_date < today  # type: ignore[attr-defined]
        inquiry.days_left = (inquiry.due_date - today).days  # type: ignore[attr-defined]
    answered = list(
        Inquiry.objects.filter(employer=employer, answer__isnull=False)
        .select_related("answer__submitted_by")
        .order_by("-answer__submitted_at", "-pk")[:ANSWERED_SHOWN]
    )
    for inquiry in answered:
        inquiry.masked = mask_personal_number(inquiry.employee_personal_number)  # type: ignore[attr-defined]
    if open_inquiries or answered:
        audit.record_read(
            EventType.INQUIRIES_LISTED,
            request=request,
            employer=employer,
            data={"inquiries": [i.reference for i in [*open_inquiries, *answered][:100]]},
        )
    return {
        "open_inquiries": open_inquiries,
        "answered_inquiries": answered,
        "overdue_count": sum(inquiry.due_date < today for inquiry in open_inquiries),
    }


def inquiry_read(
    request: HttpRequest, employer: Employer, inquiry: Inquiry, **details: Any
) -> None:
    """Record that the person (or system) behind ``request`` read ``inquiry``."""
    audit.record_read(
        EventType.INQUIRY_VIEWED,
        request=request,
        employer=employer,
        object_type="inquiry",
        object_id=str(inquiry.public_id),
        data={"reference": inquiry.reference, **details},
    )
