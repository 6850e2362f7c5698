"""The employer's activity: what was done for it in the portal, by whom, for its administrators.

Both pages fetch the employer with ``access.selectors.employer_for`` (the check and the audited
refusal in one step) and read through ``audit.selectors``; the export (``audit.exports``) records
itself in the log before the first byte leaves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from html import escape
from uuid import UUID

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from portal import audit
from portal.access.constants import Permission
from portal.access.selectors import employer_for
from portal.audit.constants import EventType
from portal.audit.exports import activity_export, export_filename
from portal.audit.forms import ActivityFilterForm
from portal.audit.selectors import ActivityRow, activity_page
from portal.common.routes import read_only, requires
from portal.employers.models import Employer
from portal.identity.models import Person

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def _query(form: ActivityFilterForm) -> str:
    """The filters as typed, for the links of the page (without the page's own position)."""
    return urlencode(
        [(name, form.data[name]) for name in form.fields if form.data.get(name)], doseq=False
    )


#: The badge of each outcome (any other outcome is shown as its label alone).
_OUTCOME_BADGES = {
    "success": "badge--success",
    "denied": "badge--warning",
    "failure": "badge--error",
}


def _rows_html(rows: Sequence[ActivityRow]) -> SafeString:
    """The rows of the table of events: when, who, what, whom it concerned and how it went.

    Put together here rather than in the template: a page has up to a hundred events and the
    template engine spent some 100 µs on each. Every value shown is escaped (``html.escape``,
    which Django's ``escape`` is).
    """
    nothing = f'<span aria-label="{escape(_("Inget"))}">–</span>'
    shown = []
    for row in rows:
        who = escape(row.actor_label) + (f"<br>{escape(row.actor.masked)}" if row.actor else "")
        concerns = [
            *(
                [f"{escape(row.subject.name)}<br>{escape(row.subject.masked)}"]
                if row.subject
                else []
            ),
            *([escape(row.detail)] if row.detail else []),
        ]
        badge = _OUTCOME_BADGES.get(row.outcome)
        outcome = escape(row.outcome_label)
        shown.append(
            '<tr class="table__row">\n'
            f'    <th class="table__column" scope="row"><time datetime="{row.occurred_at.isoformat()}">'
            f"{row.occurred_at:%Y-%m-%d %H:%M:%S}</time></th>\n"
            f'    <td class="table__column">{who}</td>\n'
            f'    <td class="table__column">{escape(row.label)}</td>\n'
            f'    <td class="table__column">{"<br>".join(concerns) or nothing}</td>\n'
            '    <td class="table__column">'
            + (f'<span class="badge {badge}">{outcome}</span>' if badge else outcome)
            + "</td>\n  </tr>\n"
        )
    return mark_safe("".join(shown))  # noqa: S308 (every value in the rows escaped above)


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
    return _render(
        request,
        employer,
        form,
        {"page": page, "rows": _rows_html(page.rows), "paged": form.fore is not None},
    )


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
