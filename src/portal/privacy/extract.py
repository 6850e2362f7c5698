"""The register extract (GDPR article 15): what the portal holds about one person, as JSON and as
a PDF to keep.

It covers the person's own data: identity, staff roles, memberships and grants (with who made
them and why), logins, signatures, the submissions they made (reference, e-service, employer and
time; not the content, which is about others, such as the employee), the e-mails sent to them,
their subscriptions to service notices, and the number of audit events they caused. The extract is recorded in the audit log.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from portal import audit
from portal.access.models import Grant, Membership
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.backoffice.models import StaffRole
from portal.eservices.models import Submission
from portal.eservices.registry import get as eservice_get
from portal.identity.models import Login, Person, Signature
from portal.messaging.models import OutboxMessage
from portal.notices.models import NoticeSubscription

#: At most this many rows of each long list (the newest); the counts are always complete.
MAX_ROWS = 1000


def _time(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _day(value: Any) -> str | None:
    return value.isoformat() if value else None


def _eservice_name(code: str) -> str:
    eservice = eservice_get(code)
    return str(eservice.name) if eservice else code


def register_extract(person: Person) -> dict[str, Any]:
    """Everything the portal holds about ``person``, as JSON-ready data."""
    memberships = Membership.objects.filter(person=person).select_related("employer")
    grants = Grant.objects.filter(membership__person=person).select_related("membership__employer")
    logins = Login.objects.filter(person=person).order_by("-logged_in_at")
    signatures = Signature.objects.filter(person=person).order_by("-signed_at")
    submissions = (
        Submission.objects.filter(submitted_by=person)
        .select_related("employer")
        .order_by("-submitted_at")
    )
    messages = OutboxMessage.objects.filter(recipient_person=person).order_by("-created_at")
    return {
        "extract": {
            "made_at": timezone.localtime().isoformat(),
            "controller": str(settings.AGENCY_NAME),
        },
        "person": {
            "personal_number": person.personal_number,
            "eidas_identifier": person.eidas_identifier,
            "given_name": person.given_name,
            "surname": person.surname,
            "email": person.email,
            "active": person.is_active,
            "created_at": _time(person.created_at),
        },
        "staff_roles": [
            {
                "role": role.role,
                "granted_at": _time(role.granted_at),
                "revoked_at": _time(role.revoked_at),
            }
            for role in StaffRole.objects.filter(person=person).order_by("granted_at")
        ],
        "memberships": [
            {
                "employer": membership.employer.name,
                "organisation_number": membership.employer.organisation_number,
                "role": membership.role,
                "email": membership.email,
                "valid_from": _time(membership.valid_from),
                "valid_until": _time(membership.valid_until),
                "reason": membership.reason,
                "ended_at": _time(membership.ended_at),
                "end_reason": membership.end_reason,
                "suspended_at": _time(membership.suspended_at),
            }
            for membership in memberships.order_by("created_at")
        ],
        "grants": [
            {
                "employer": grant.membership.employer.name,
                "eservice": grant.eservice,
                "eservice_name": _eservice_name(grant.eservice),
                "level": grant.level,
                "valid_from": _day(grant.valid_from),
                "valid_until": _day(grant.valid_until),
                "reason": grant.reason,
                "ended_at": _time(grant.ended_at),
                "end_reason": grant.end_reason,
            }
            for grant in grants.order_by("created_at")
        ],
        "logins": {
            "count": logins.count(),
            "items": [
                {
                    "at": _time(login.logged_in_at),
                    "issuer": login.issuer,
                    "assurance": login.assurance,
                    "ip_address": login.ip_address,
                    "user_agent": login.user_agent,
                    "ended_at": _time(login.ended_at),
                    "end_reason": login.end_reason,
                }
                for login in logins[:MAX_ROWS]
            ],
        },
        "signatures": {
            "count": signatures.count(),
            "items": [
                {
                    "signed_at": _time(signature.signed_at),
                    "issuer": signature.issuer,
                    "object_type": signature.object_type,
                    "text": signature.visible_text,
                }
                for signature in signatures[:MAX_ROWS]
            ],
        },
        "submissions": {
            "count": submissions.count(),
            "items": [
                {
                    "reference": submission.reference,
                    "eservice": submission.eservice,
                    "eservice_name": _eservice_name(submission.eservice),
                    "employer": submission.employer.name,
                    "kind": submission.kind,
                    "version": submission.version,
                    "received_at": _time(submission.submitted_at),
                }
                for submission in submissions[:MAX_ROWS]
            ],
        },
        "emails": {
            "count": messages.count(),
            "items": [
                {
                    "template": message.template,
                    "to": message.recipient_email,
                    "subject": message.subject,
                    "created_at": _time(message.created_at),
                    "status": message.status,
                }
                for message in messages[:MAX_ROWS]
            ],
        },
        "notice_subscriptions": [
            {
                "employer": subscription.employer.name,
                "language": subscription.language,
                "created_at": _time(subscription.created_at),
            }
            for subscription in NoticeSubscription.objects.filter(person=person)
            .select_related("employer")
            .order_by("created_at")
        ],
        "audit_events_caused": AuditEvent.objects.filter(actor=person).count(),
    }


def register_extract_record(
    *, person: Person | None, request: HttpRequest | None, made_for: Person, reason: str = ""
) -> None:
    """Record that an extract about ``made_for`` was made (by ``person`` themselves, or, with
    ``person`` None, from the command line for a written request, with its case number)."""
    with transaction.atomic():
        audit.record(
            EventType.REGISTER_EXTRACT_MADE,
            actor=person,
            request=request,
            object_type="person",
            object_id=str(made_for.public_id),
            data={"for_self": person is not None and person.pk == made_for.pk, "reason": reason},
        )


_REPLACEMENTS = str.maketrans({"–": "-", "—": "-", "”": '"', "“": '"', "’": "'", "…": "..."})


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.translate(_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")


def extract_pdf(data: dict[str, Any]) -> bytes:
    """The extract as a PDF: one section per kind of data, every field labelled."""
    pdf = FPDF(format="A4")
    pdf.set_title(_text(_("Registerutdrag")))
    pdf.set_author(_text(data["extract"]["controller"]))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.multi_cell(0, 9, _text(_("Registerutdrag")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    pdf.multi_cell(
        0,
        5,
        _text(
            _("Uppgifter om dig i e-tjänsterna för arbetsgivare, %(date)s. Ansvarig: %(who)s.")
            % {"date": data["extract"]["made_at"][:16], "who": data["extract"]["controller"]}
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    sections: list[tuple[str, Any]] = [
        (_("Du"), [data["person"]]),
        (_("Personalroller hos myndigheten"), data["staff_roles"]),
        (_("Roller hos arbetsgivare"), data["memberships"]),
        (_("Behörigheter till e-tjänster"), data["grants"]),
        (_("Inloggningar"), data["logins"]["items"]),
        (_("Underskrifter"), data["signatures"]["items"]),
        (_("Uppgifter du har skickat in"), data["submissions"]["items"]),
        (_("E-post till dig"), data["emails"]["items"]),
        (_("Prenumerationer på driftmeddelanden"), data["notice_subscriptions"]),
    ]
    for title, rows in sections:
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 13)
        pdf.multi_cell(0, 7, _text(title), new_x="LMARGIN", new_y="NEXT")
        if not rows:
            pdf.set_font("helvetica", "", 10)
            pdf.multi_cell(0, 5, _text(_("Inga.")), new_x="LMARGIN", new_y="NEXT")
        for row in rows:
            pdf.set_font("helvetica", "", 9)
            line = "; ".join(
                f"{key}: {value}" for key, value in row.items() if value not in ("", None)
            )
            pdf.multi_cell(0, 4.5, _text(line), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    pdf.ln(3)
    pdf.set_font("helvetica", "", 10)
    pdf.multi_cell(
        0,
        5,
        _text(
            _("Händelser i loggen som du har orsakat: %(count)d.")
            % {"count": data["audit_events_caused"]}
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
