"""The e-service "Anslut ditt företag" and the person's overview of their employers."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal import audit
from portal.access.constants import Permission
from portal.access.models import Membership
from portal.access.reviews import review_status
from portal.access.selectors import employer_for, eservices_for
from portal.access.services import memberships_in_force, permissions
from portal.announcements.selectors import shown_at_employer, shown_to_person
from portal.audit.constants import EventType
from portal.common.routes import authenticated, read_only, requires
from portal.employers import selectors, services
from portal.employers.deregistration import DEREGISTRATION_OBJECT_TYPE, deregistration_visible_text
from portal.employers.forms import EnrolmentForm, OrganisationNumberForm
from portal.employers.models import DeregistrationRequest, Enrolment, EnrolmentSignature
from portal.employers.register import InvalidEmployerId, normalise_employer_id
from portal.identity import services as identity_services
from portal.identity.models import EidTransaction, Person
from portal.terms.selectors import current_version


def _person(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)  # noqa: S101 (authenticated guarantees it)
    return request.user


@authenticated
@read_only
def overview(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    memberships = (
        Membership.objects.active()
        .filter(person=person)
        .select_related("employer")
        .order_by("employer__name")
    )
    waiting = [
        enrolment
        for enrolment in Enrolment.objects.filter(
            state=Enrolment.State.AWAITING_SIGNATURES
        ).select_related("employer")
        if person.personal_number
        and services.rule_from_json(enrolment.signatory_rule).is_signatory(person.personal_number)
        and person.personal_number not in services.signers(enrolment)
    ]
    return render(
        request,
        "employers/overview.html",
        {
            "memberships": memberships,
            "waiting": waiting,
            "announcements": shown_to_person(
                person, {membership.employer for membership in memberships}
            ),
        },
    )


@authenticated
@require_http_methods(["GET", "HEAD", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    form = OrganisationNumberForm(request.POST or None)
    # Someone with a foreign e-ID is told at once why they cannot connect an employer; a POST
    # all the same gets the service's audited refusal, with the same explanation.
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["organisation_number"]
        eligibility = services.enrolment_check(
            person=_person(request), organisation_number=number, request=request
        )
        if eligibility.open_enrolment is not None:
            return redirect("employers:enrolment", public_id=eligibility.open_enrolment.public_id)
        return redirect("employers:enrol-details", organisation_number=number)
    person = _person(request)
    return render(
        request,
        "employers/enrol.html",
        {
            "form": form,
            "foreign_eid": services.foreign_eid_message() if not person.personal_number else "",
        },
        status=400 if form.errors else 200,
    )


@authenticated
@require_http_methods(["GET", "HEAD", "POST"])
def enrol_details(request: HttpRequest, organisation_number: str) -> HttpResponse:
    person = _person(request)
    try:
        number = normalise_employer_id(organisation_number)
    except InvalidEmployerId:
        raise Http404 from None
    eligibility = services.enrolment_check(
        person=person, organisation_number=number, request=request
    )
    if eligibility.open_enrolment is not None:
        return redirect("employers:enrolment", public_id=eligibility.open_enrolment.public_id)
    company = eligibility.company
    terms = current_version()
    form = EnrolmentForm(
        request.POST or None,
        rule=company.signatory_rule,
        person_number=person.personal_number or "",
    )
    if request.method == "POST" and form.is_valid() and terms is not None:
        enrolment = services.enrolment_start(
            request=request,
            person=person,
            company=company,
            administrator_personal_number=form.cleaned_data["administrator_personal_number"],
            administrator_email=form.cleaned_data["administrator_email"],
            initiator_email=form.cleaned_data["your_email"],
            co_signer_emails=form.co_signer_emails(),
            terms_version=terms,
        )
        return _start_signing(request, enrolment)
    return render(
        request,
        "employers/enrol_details.html",
        {
            "company": company,
            "form": form,
            "terms": terms,
            "signs_alone": company.signatory_rule.can_sign_alone(person.personal_number or ""),
            "connected": eligibility.connected,
            "administrators": eligibility.administrators,
        },
        status=400 if form.errors else 200,
    )


def _start_signing(request: HttpRequest, enrolment: Enrolment) -> HttpResponse:
    order = identity_services.eid_order_start(
        request=request,
        provider_code="bankid",
        purpose=EidTransaction.Purpose.SIGN,
        same_device=request.POST.get("device") == "this",
        next_url=reverse("employers:enrolment", kwargs={"public_id": enrolment.public_id}),
        visible_text=services.enrolment_visible_text(enrolment),
        object_type=services.ENROLMENT_OBJECT_TYPE,
        object_id=str(enrolment.public_id),
    )
    return redirect("identity:order", public_id=order.public_id)


def _enrolment_for(request: HttpRequest, public_id: str) -> Enrolment:
    """The enrolment, if this person started it or may sign it; otherwise 404."""
    person = _person(request)
    enrolment = (
        Enrolment.objects.select_related("employer", "terms_version")
        .filter(public_id=public_id)
        .first()
    )
    if enrolment is None or not (
        enrolment.initiated_by_id == person.pk
        or (
            person.personal_number
            and services.rule_from_json(enrolment.signatory_rule).is_signatory(
                person.personal_number
            )
        )
    ):
        raise Http404
    if enrolment.state == Enrolment.State.AWAITING_SIGNATURES:
        services.enrolment_expire(enrolment=enrolment)
    return enrolment


@authenticated
@read_only
def enrolment_page(request: HttpRequest, public_id: str) -> HttpResponse:
    enrolment = _enrolment_for(request, str(public_id))
    person = _person(request)
    signed = services.signers(enrolment)
    rule = services.rule_from_json(enrolment.signatory_rule)
    return render(
        request,
        "employers/enrolment.html",
        {
            "enrolment": enrolment,
            "rule": rule,
            "signatures": EnrolmentSignature.objects.filter(enrolment=enrolment).select_related(
                "person"
            ),
            "may_sign": enrolment.state == Enrolment.State.AWAITING_SIGNATURES
            and bool(person.personal_number)
            and person.personal_number not in signed,
        },
    )


@authenticated
@require_POST
def enrolment_sign(request: HttpRequest, public_id: str) -> HttpResponse:
    enrolment = _enrolment_for(request, str(public_id))
    if enrolment.state != Enrolment.State.AWAITING_SIGNATURES:
        return redirect("employers:enrolment", public_id=enrolment.public_id)
    return _start_signing(request, enrolment)


ACTING_FOR = "acting_for"


@authenticated
@read_only
def start(request: HttpRequest) -> HttpResponse:
    """Where a login lands: straight to the employer if the person acts for only one, otherwise
    the list to choose from (or to connect one)."""
    # Every login passes here: the memberships in force are read as the layout reads them.
    employer_ids = {
        m.employer.public_id
        for m in memberships_in_force(_person(request))
        if m.employer.is_connected
    }
    if len(employer_ids) == 1:
        return redirect("employers:employer", public_id=employer_ids.pop())
    return redirect("employers:overview")


@requires(Permission.EMPLOYER_VIEW)
@read_only
def employer_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    person = _person(request)
    employer = employer_for(request, public_id, Permission.EMPLOYER_VIEW)
    audit.record_read(EventType.EMPLOYER_VIEWED, request=request, employer=employer)
    # The employer on screen is the one the person acts for, until they choose another (the
    # session is written only when that changes).
    if request.session.get(ACTING_FOR) != str(employer.public_id):
        request.session[ACTING_FOR] = str(employer.public_id)
    allowed = permissions(person, employer=employer)
    may_administer = Permission.ACCESS_VIEW in allowed
    usable = eservices_for(person, employer)
    facts = selectors.page_facts(employer)
    return render(
        request,
        "employers/employer.html",
        {
            "employer": employer,
            "administrators": facts.administrators,
            "acceptances": facts.acceptances,
            "may_deregister": Permission.EMPLOYER_DEREGISTER in allowed,
            "may_administer": may_administer,
            "review": review_status(employer) if may_administer else None,
            "eservices": usable,
            "announcements": shown_at_employer(person, employer, usable=usable),
            "open_deregistration": facts.open_deregistration,
        },
    )


@requires(Permission.EMPLOYER_DEREGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def deregister(request: HttpRequest, public_id: UUID) -> HttpResponse:
    employer = employer_for(request, public_id, Permission.EMPLOYER_DEREGISTER)
    # The request is signed with BankID, which needs a Swedish personal identity number.
    may_sign = bool(_person(request).personal_number)
    if request.method == "POST" and not may_sign:
        return render(
            request,
            "employers/deregister.html",
            {"employer": employer, "may_sign": may_sign},
            status=400,
        )
    if request.method == "POST":
        order = identity_services.eid_order_start(
            request=request,
            provider_code="bankid",
            purpose=EidTransaction.Purpose.SIGN,
            same_device=request.POST.get("device") == "this",
            next_url=reverse("employers:employer", kwargs={"public_id": employer.public_id}),
            visible_text=deregistration_visible_text(employer),
            object_type=DEREGISTRATION_OBJECT_TYPE,
            object_id=str(employer.public_id),
        )
        return redirect("identity:order", public_id=order.public_id)
    return render(
        request, "employers/deregister.html", {"employer": employer, "may_sign": may_sign}
    )


@authenticated
@read_only
def deregistration_page(request: HttpRequest, public_id: str) -> HttpResponse:
    """The confirmation letter of a de-registration, for the person who asked for it."""
    deregistration = (
        DeregistrationRequest.objects.select_related("employer", "requested_by")
        .filter(public_id=public_id, requested_by=_person(request))
        .first()
    )
    if deregistration is None:
        raise Http404
    return render(
        request, "employers/deregistration_letter.html", {"deregistration": deregistration}
    )
