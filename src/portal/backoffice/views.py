"""The agency's screens: look an employer up, terminate its connection or withdraw that."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal import audit
from portal.access.constants import Permission
from portal.access.services import can, require
from portal.audit.constants import EventType
from portal.backoffice.forms import (
    EmployerIdField,
    IsoDateField,
    LookupReasonForm,
    PersonalNumberField,
    ReceivedOnField,
    case_number_field,
    mask_numbers,
)
from portal.backoffice.support_views import employer_support
from portal.common.errors import ApplicationError
from portal.common.routes import read_only, requires
from portal.employers.deregistration import deregistration_register_written, deregistration_release
from portal.employers.models import DeregistrationRequest, Employer, Enrolment, Termination
from portal.employers.paper import paper_enrolment_approve, paper_enrolment_register
from portal.employers.termination import termination_date, termination_notify, termination_withdraw
from portal.identity.models import Person
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.terms.models import TermsVersion
from portal.terms.services import earliest_effective_date, terms_publish


class LookupForm(LookupReasonForm):
    field_order = ("organisation_number", "reason")
    organisation_number = EmployerIdField()


class TerminationForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Skäl för uppsägningen"), max_length=2000, widget=forms.Textarea
    )


def _staff(request: HttpRequest, permission: Permission) -> Person:
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (requires() guarantees a person)
    require(person, permission, request=request)
    return person


@requires(Permission.BACKOFFICE_EMPLOYER_VIEW)
@require_http_methods(["GET", "HEAD", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    person = _staff(request, Permission.BACKOFFICE_EMPLOYER_VIEW)
    form = LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        employer = Employer.objects.filter(
            organisation_number=form.cleaned_data["organisation_number"]
        ).first()
        with transaction.atomic():
            audit.record(
                EventType.BACKOFFICE_LOOKUP,
                actor=person,
                request=request,
                object_type="employer",
                object_id=str(employer.public_id)
                if employer
                else mask_numbers(form.cleaned_data["organisation_number"]),
                data={"reason": form.cleaned_data["reason"], "found": employer is not None},
            )
        if employer is not None:
            _remember_lookup(request, employer, form.cleaned_data["reason"])
            return redirect("backoffice:employer", public_id=employer.public_id)
        form.add_error(
            "organisation_number", _("Ingen arbetsgivare med det numret finns i portalen.")
        )
    return render(
        request, "backoffice/lookup.html", {"form": form}, status=400 if form.errors else 200
    )


#: The session's record of the employers looked up with a reason (public id -> reason), so that
#: the pages an action returns to need no new reason.
LOOKUPS_SESSION_KEY = "backoffice_lookups"


def _remember_lookup(request: HttpRequest, employer: Employer, reason: str) -> str:
    reason = mask_numbers(reason.strip())[:200]
    lookups = dict(request.session.get(LOOKUPS_SESSION_KEY, {}))
    lookups[str(employer.public_id)] = reason
    request.session[LOOKUPS_SESSION_KEY] = lookups
    return reason


@requires(Permission.BACKOFFICE_EMPLOYER_VIEW)
@read_only
def employer(request: HttpRequest, public_id: str) -> HttpResponse:
    """An employer's page. Looking an employer up needs a reason: from the look-up form, from the
    link that led here (a work queue names its case) or typed on this page; it is recorded with
    the read."""
    person = _staff(request, Permission.BACKOFFICE_EMPLOYER_VIEW)
    found = Employer.objects.filter(public_id=public_id).first()
    if found is None:
        raise Http404
    given = request.GET.get("skal", "").strip()
    if given:
        reason = _remember_lookup(request, found, given)
    else:
        reason = request.session.get(LOOKUPS_SESSION_KEY, {}).get(str(found.public_id), "")
    if not reason:
        return render(
            request,
            "backoffice/employer_reason.html",
            {"employer_id": found.public_id, "error": "skal" in request.GET},
            status=400 if "skal" in request.GET else 200,
        )
    audit.record_read(
        EventType.BACKOFFICE_EMPLOYER_VIEWED,
        request=request,
        employer=found,
        data={"reason": reason},
    )
    return render(
        request,
        "backoffice/employer.html",
        {
            "employer": found,
            "running": found.terminations.filter(state=Termination.State.NOTIFIED).first(),
            "terminations": found.terminations.order_by("-notified_at"),
            "form": TerminationForm(),
            "deregistration_form": WrittenDeregistrationForm(),
            "deregistrations": found.deregistration_requests.order_by("-created_at"),
            "may_register_deregistration": found.is_connected
            and not found.deregistration_requests.filter(state__in=["received", "held"]).exists(),
            "termination_date": termination_date(),
            "may_terminate": found.state == "active",
            "staff": person,
            "inquiries": found.inquiries.select_related("answer").order_by("-created_at")[:20],
            "may_create_inquiry": found.is_connected
            and can(person, Permission.BACKOFFICE_INQUIRY_CREATE),
            **employer_support(found, person),
        },
    )


@requires(Permission.BACKOFFICE_EMPLOYER_TERMINATE)
@require_POST
def terminate(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _staff(request, Permission.BACKOFFICE_EMPLOYER_TERMINATE)
    found = Employer.objects.filter(public_id=public_id).first()
    if found is None:
        raise Http404
    form = TerminationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ange skälet till uppsägningen."))
        return redirect("backoffice:employer", public_id=found.public_id)
    termination = termination_notify(
        employer=found, reason=form.cleaned_data["reason"], actor=person, request=request
    )
    messages.success(
        request,
        _(
            "Anslutningen är uppsagd och upphör den %(date)s. Behörighetsadministratörerna har fått besked."
        )
        % {"date": termination.effective_on.isoformat()},
    )
    return redirect("backoffice:employer", public_id=found.public_id)


@requires(Permission.BACKOFFICE_EMPLOYER_TERMINATE)
@require_POST
def withdraw(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _staff(request, Permission.BACKOFFICE_EMPLOYER_TERMINATE)
    termination = Termination.objects.select_related("employer").filter(public_id=public_id).first()
    if termination is None:
        raise Http404
    termination_withdraw(termination=termination, actor=person, request=request)
    messages.success(request, _("Uppsägningen är återkallad. Arbetsgivaren är ansluten som förut."))
    return redirect("backoffice:employer", public_id=termination.employer.public_id)


class WrittenDeregistrationForm(forms.Form):
    received_on = ReceivedOnField()
    case_number = case_number_field()
    hold_for_staff = forms.BooleanField(
        label=gettext_lazy(
            "Vänta med avregistreringen tills en handläggare har gått igenom begäran"
        ),
        required=False,
    )


@requires(Permission.BACKOFFICE_DEREGISTRATION_REGISTER)
@require_POST
def register_deregistration(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _staff(request, Permission.BACKOFFICE_DEREGISTRATION_REGISTER)
    found = Employer.objects.filter(public_id=public_id).first()
    if found is None:
        raise Http404
    form = WrittenDeregistrationForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("backoffice:employer", public_id=found.public_id)
    deregistration = deregistration_register_written(
        employer=found,
        received_on=form.cleaned_data["received_on"],
        case_number=form.cleaned_data["case_number"],
        hold_for_staff=form.cleaned_data["hold_for_staff"],
        actor=person,
        request=request,
    )
    messages.success(
        request,
        _("Begäran väntar på handläggare.")
        if deregistration.state == DeregistrationRequest.State.HELD
        else _("Begäran är registrerad. Arbetsgivaren avregistreras inom några minuter."),
    )
    return redirect("backoffice:employer", public_id=found.public_id)


@requires(Permission.BACKOFFICE_DEREGISTRATION_REGISTER)
@require_POST
def release_deregistration(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _staff(request, Permission.BACKOFFICE_DEREGISTRATION_REGISTER)
    deregistration = (
        DeregistrationRequest.objects.select_related("employer").filter(public_id=public_id).first()
    )
    if deregistration is None:
        raise Http404
    deregistration_release(deregistration=deregistration, actor=person, request=request)
    messages.success(request, _("Arbetsgivaren är avregistrerad och bekräftelsen skickad."))
    return redirect("backoffice:employer", public_id=deregistration.employer.public_id)


@requires(Permission.BACKOFFICE_EMPLOYER_VIEW)
@read_only
def deregistration_letter(request: HttpRequest, public_id: str) -> HttpResponse:
    """The confirmation letter, for staff to print and post (a written request gets one by post)."""
    _staff(request, Permission.BACKOFFICE_EMPLOYER_VIEW)
    deregistration = (
        DeregistrationRequest.objects.select_related("employer", "requested_by")
        .filter(public_id=public_id)
        .first()
    )
    if deregistration is None:
        raise Http404
    audit.record_read(
        EventType.BACKOFFICE_DEREGISTRATION_VIEWED,
        request=request,
        employer=deregistration.employer,
        object_type="deregistration",
        object_id=str(deregistration.public_id),
    )
    return render(
        request, "employers/deregistration_letter.html", {"deregistration": deregistration}
    )


class PaperEnrolmentForm(forms.Form):
    organisation_number = EmployerIdField()
    signatories = forms.CharField(
        label=gettext_lazy("Firmatecknare som skrivit under"),
        max_length=200,
        help_text=gettext_lazy("Personnummer, flera åtskilda med kommatecken."),
    )
    administrator_personal_number = PersonalNumberField(
        label=gettext_lazy("Behörighetsadministratörens personnummer")
    )
    administrator_email = forms.EmailField(
        label=gettext_lazy("Behörighetsadministratörens e-postadress")
    )
    received_on = ReceivedOnField()
    case_number = case_number_field()
    scan_reference = forms.CharField(
        label=gettext_lazy("Var den skannade blanketten finns"), max_length=200
    )

    def clean_signatories(self) -> list[str]:
        numbers = []
        for part in self.cleaned_data["signatories"].split(","):
            try:
                numbers.append(normalise_personal_number(part))
            except InvalidPersonalNumber:
                raise forms.ValidationError(
                    _("%(value)s är inte ett giltigt personnummer.")
                    % {"value": part.strip() or "–"}
                ) from None
        return numbers


@requires(Permission.BACKOFFICE_ENROLMENT_REGISTER)
@require_http_methods(["GET", "HEAD", "POST"])
def paper_enrolments(request: HttpRequest) -> HttpResponse:
    person = _staff(request, Permission.BACKOFFICE_ENROLMENT_REGISTER)
    form = PaperEnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = paper_enrolment_register(
                organisation_number=data["organisation_number"],
                signatory_numbers=data["signatories"],
                administrator_personal_number=data["administrator_personal_number"],
                administrator_email=data["administrator_email"],
                received_on=data["received_on"],
                case_number=data["case_number"],
                scan_reference=data["scan_reference"],
                actor=person,
                request=request,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Blanketten är registrerad och väntar på granskning av en annan handläggare."),
            )
            return redirect("backoffice:paper-enrolment", public_id=enrolment.public_id)
    waiting = Enrolment.objects.filter(
        channel=Enrolment.Channel.PAPER, state=Enrolment.State.AWAITING_APPROVAL
    ).select_related("employer", "entered_by")
    return render(
        request,
        "backoffice/paper_enrolments.html",
        {"form": form, "waiting": waiting},
        status=400 if form.errors else 200,
    )


@requires(Permission.BACKOFFICE_ENROLMENT_APPROVE)
@require_http_methods(["GET", "HEAD", "POST"])
def paper_enrolment(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _staff(request, Permission.BACKOFFICE_ENROLMENT_APPROVE)
    enrolment = (
        Enrolment.objects.select_related("employer", "entered_by", "approved_by", "terms_version")
        .filter(public_id=public_id, channel=Enrolment.Channel.PAPER)
        .first()
    )
    if enrolment is None:
        raise Http404
    if request.method == "POST":
        paper_enrolment_approve(enrolment=enrolment, actor=person, request=request)
        messages.success(request, _("Anslutningen är godkänd. Arbetsgivaren är ansluten."))
        return redirect("backoffice:paper-enrolment", public_id=enrolment.public_id)
    audit.record_read(
        EventType.BACKOFFICE_ENROLMENT_VIEWED,
        request=request,
        employer=enrolment.employer,
        object_type="enrolment",
        object_id=str(enrolment.public_id),
    )
    return render(
        request,
        "backoffice/paper_enrolment.html",
        {"enrolment": enrolment, "may_approve": enrolment.entered_by_id != person.pk},
    )


class TermsVersionForm(forms.Form):
    version = forms.SlugField(
        label=gettext_lazy("Version"),
        max_length=32,
        help_text=gettext_lazy("Till exempel 2027-03."),
    )
    effective_from = IsoDateField(label=gettext_lazy("Gäller från"))
    title_sv = forms.CharField(label=gettext_lazy("Rubrik på svenska"), max_length=200)
    title_en = forms.CharField(label=gettext_lazy("Rubrik på engelska"), max_length=200)
    text_sv = forms.CharField(label=gettext_lazy("Text på svenska"), widget=forms.Textarea)
    text_en = forms.CharField(label=gettext_lazy("Text på engelska"), widget=forms.Textarea)
    changes_sv = forms.CharField(
        label=gettext_lazy("Ändringarna i korthet, på svenska"), max_length=1000
    )
    changes_en = forms.CharField(
        label=gettext_lazy("Ändringarna i korthet, på engelska"), max_length=1000
    )

    def clean_version(self) -> str:
        version = str(self.cleaned_data["version"])
        if TermsVersion.objects.filter(version=version).exists():
            raise forms.ValidationError(_("Versionen finns redan."))
        return version


@requires(Permission.BACKOFFICE_TERMS_PUBLISH)
@require_http_methods(["GET", "HEAD", "POST"])
def publish_terms(request: HttpRequest) -> HttpResponse:
    """A terms editor publishes a new version; administrators are told at once (R16)."""
    person = _staff(request, Permission.BACKOFFICE_TERMS_PUBLISH)
    form = TermsVersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                version = TermsVersion.objects.create(**form.cleaned_data, created_by=person)
                queued = terms_publish(version=version, actor=person, request=request)
        except ApplicationError as error:
            form.add_error("effective_from", error.message)
        else:
            messages.success(
                request,
                _("Version %(v)s är publicerad. %(count)s behörighetsadministratörer får besked.")
                % {"v": version.version, "count": queued},
            )
            return redirect("terms:version", version=version.version)
    return render(
        request,
        "backoffice/publish_terms.html",
        {"form": form, "earliest": earliest_effective_date()},
        status=400 if form.errors else 200,
    )
