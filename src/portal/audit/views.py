"""The employer's activity: what was done for it in the portal, by whom, for its administrators.

Both pages fetch the employer with ``access.selectors.employer_for`` (the check and the audited
refusal in one step) and read through ``audit.selectors``; the export (``audit.exports``) records
itself in the log before the first byte leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from portal import audit
from portal.access.constants import Permission
from portal.access.selectors import employer_for
from portal.audit.constants import EventType
from portal.audit.exports import activity_export, export_filename
from portal.audit.forms import ActivityFilterForm
from portal.audit.selectors import activity_page
from portal.common.routes import read_only, requires
from portal.employers.models import Employer
from portal.identity.models import Person

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def _query(form: ActivityFilterForm) -> str:
    """The filters as typed, for the links of the page (without the page's own position)."""
    return urlencode(
        [(name, form.data[name]) for name in form.fields if form.data.get(name)], doseq=False
    )


def _render(
    request: HttpRequest, employer: Employer, form: ActivityFilterForm, context: dict[str, object]
) -> HttpResponse:
    return render(
        request,
        "audit/activity.html",
        {
            "employer": employer,
            "form": form,
            "query": _query(form),
            "filtered": form.is_filtered(),
            **context,
        },
        status=400 if form.errors else 200,
    )


@requires(Permission.ACTIVITY_VIEW)
@read_only
def activity(request: HttpRequest, public_id: UUID) -> HttpResponse:
    employer = employer_for(request, public_id, Permission.ACTIVITY_VIEW)
    form = ActivityFilterForm(request.GET)
    if not form.is_valid():
        return _render(request, employer, form, {"page": None})
    filters = form.activity_filter()
    page = activity_page(employer, filters, before=form.fore)
    # Recorded after the read, so the page does not list its own showing (the next one will).
    audit.record_read(
        EventType.ACTIVITY_VIEWED,
        request=request,
        employer=employer,
        data={"filters": filters.audit_data(), "fore": form.fore},
    )
    return _render(request, employer, form, {"page": page, "paged": form.fore is not None})


@requires(Permission.ACTIVITY_VIEW)
@read_only
def activity_export_csv(request: HttpRequest, public_id: UUID) -> HttpResponseBase:
    employer = employer_for(request, public_id, Permission.ACTIVITY_VIEW)
    form = ActivityFilterForm(request.GET)
    if not form.is_valid():
        return _render(request, employer, form, {"page": None})
    if request.method == "HEAD":
        # Nothing leaves the portal, so nothing is recorded.
        lines: Iterator[bytes] = iter(())
    else:
        assert isinstance(request.user, Person)  # noqa: S101 (requires() means a logged-in person)
        lines = activity_export(
            employer=employer, filters=form.activity_filter(), actor=request.user, request=request
        )
    response = StreamingHttpResponse(lines, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(employer)}"'
    return response
