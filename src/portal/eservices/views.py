"""The start page of each e-service, for a person with a grant for it at the employer.

The e-services' own forms (sick-leave reports, inquiries, grants) hang under this page.
"""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from portal.access.constants import Permission
from portal.access.selectors import employer_for
from portal.access.services import can
from portal.common.routes import read_only, requires
from portal.eservices import registry


@requires(Permission.ESERVICE_VIEW)
@read_only
def eservice_page(request: HttpRequest, public_id: UUID, code: str) -> HttpResponse:
    eservice = registry.get(code)
    if eservice is None:
        raise Http404
    employer = employer_for(request, public_id, Permission.ESERVICE_VIEW, eservice=code)
    return render(
        request,
        "eservices/eservice.html",
        {
            "employer": employer,
            "eservice": eservice,
            "may_submit": can(
                request.user,  # type: ignore[arg-type]
                Permission.ESERVICE_SUBMIT,
                employer=employer,
                eservice=code,
            ),
        },
    )
