"""Support look-ups (R11): what the partner customer centre sees of an employer and of a person,
and sending a confirmation again. Every look-up needs a reason and is audited; nothing here
changes anyone's access."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import F, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal import audit
from portal.access.constants import Permission
from portal.access.models import Grant, Membership, Role
from portal.access.services import can
from portal.audit.constants import EventType
from portal.audit.selectors import ActivityFilter, activity_page
from portal.backoffice.forms import LookupReasonForm, PersonalNumberField
from portal.backoffice.screens import staff_member
from portal.backoffice.services import confirmation_resend, confirmations_of, employer_of
from portal.common.routes import requires
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.messaging.models import OutboxMessage
from portal.terms.services import accepted_version

#: How many of the employer's latest audit events, and of a person's latest logins, are shown.
RECENT = 20


def employer_support(employer: Employer, staff: Person) -> dict[str, Any]:
    """What the back-office's employer page shows for support: the accepted terms version, the
    access administrators, the latest events and the confirmations that can be sent again."""
    return {
        "accepted_terms": accepted_version(employer),
        "administrators": list(
            Membership.objects.active()
            .filter(employer=employer, role=Role.ADMINISTRATOR)
            .select_related("person")
            .order_by("person__surname", "person__given_name", "pk")
        ),
        "recent_events": activity_page(employer, ActivityFilter(), size=RECENT).rows,
        "confirmations": confirmations_of(employer),
        "may_resend": can(staff, Permission.BACKOFFICE_CONFIRMATION_RESEND),
    }


class PersonLookupForm(LookupReasonForm):
    field_order = ("personal_number", "reason")
    personal_number = PersonalNumberField(
        label=gettext_lazy("Personnummer"),
        error_messages={"required": gettext_lazy("Ange personnumret.")},
    )


@requires(Permission.BACKOFFICE_PERSON_VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def person_lookup(request: HttpRequest) -> HttpResponse:
    """Look a person up by personal identity number, with a reason: their employers and roles,
    grants and latest logins. The answer is shown at once (the number never goes into a URL)."""
    staff = staff_member(request, Permission.BACKOFFICE_PERSON_VIEW)
    form = PersonLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = Person.objects.filter(personal_number=form.cleaned_data["personal_number"]).first()
        audit.record_read(
            EventType.BACKOFFICE_PERSON_VIEWED,
            request=request,
            object_type="person",
            object_id=str(found.public_id) if found else "",
            data={"reason": form.cleaned_data["reason"], "found": found is not None},
        )
        if found is not None:
            return render(
                request,
                "backoffice/person.html",
                {
                    **_person(found, staff),
                    # Opening one of the person's employers continues this look-up.
                    "person_lookup_reason": form.cleaned_data["reason"],
                },
            )
        form.add_error("personal_number", _("Ingen person med det personnumret finns i portalen."))
    return render(
        request,
        "backoffice/person_lookup.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _person(person: Person, staff: Person) -> dict[str, Any]:
    memberships = (
        Membership.objects.filter(person=person)
        .select_related("employer")
        .prefetch_related(Prefetch("grants", queryset=Grant.objects.order_by("eservice", "pk")))
        .order_by(F("ended_at").desc(nulls_first=True), "employer__name", "role")
    )
    return {
        "person": person,
        "memberships": list(memberships),
        "logins": list(person.logins.order_by("-logged_in_at")[:RECENT]),
        "may_view_employers": can(staff, Permission.BACKOFFICE_EMPLOYER_VIEW),
    }


@requires(Permission.BACKOFFICE_CONFIRMATION_RESEND)
@require_POST
def resend(request: HttpRequest, public_id: str) -> HttpResponse:
    """Send a confirmation again, to the same address, with the same content."""
    staff = staff_member(request, Permission.BACKOFFICE_CONFIRMATION_RESEND)
    message = OutboxMessage.objects.filter(public_id=public_id).first()
    employer = employer_of(message) if message is not None else None
    if message is None or employer is None:
        raise Http404
    confirmation_resend(message=message, actor=staff, request=request)
    messages.success(
        request,
        _("Bekräftelsen skickas igen till %(email)s.") % {"email": message.recipient_email},
    )
    return redirect("backoffice:employer", public_id=employer.public_id)
