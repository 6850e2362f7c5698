"""The agency's page for making an inquiry to an employer (mounted in the back-office)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.access.constants import Permission
from portal.access.services import require
from portal.common.routes import requires
from portal.employers.models import Employer
from portal.eservices.inquiries.forms import InquiryForm
from portal.eservices.inquiries.services import InquiryRefused, inquiry_create
from portal.identity.models import Person


@requires(Permission.BACKOFFICE_INQUIRY_CREATE)
@require_http_methods(["GET", "HEAD", "POST"])
def inquiry_new(request: HttpRequest, public_id: str) -> HttpResponse:
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (requires() guarantees a person)
    require(person, Permission.BACKOFFICE_INQUIRY_CREATE, request=request)
    employer = Employer.objects.filter(public_id=public_id).first()
    if employer is None:
        raise Http404
    form = InquiryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inquiry, _created = inquiry_create(
                employer=employer,
                kind=data["kind"],
                employee_personal_number=data["employee_personal_number"],
                period_from=data["period_from"],
                period_to=data["period_to"],
                due_date=data["due_date"],
                question=data["question"],
                staff=person,
                request=request,
            )
        except InquiryRefused as refused:
            for field, message in refused.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request,
                _("Förfrågan %(reference)s är skickad till arbetsgivaren.")
                % {"reference": inquiry.reference},
            )
            return redirect("backoffice:employer", public_id=employer.public_id)
    return render(
        request,
        "backoffice/inquiry_new.html",
        {"employer": employer, "form": form},
        status=400 if form.errors else 200,
    )
