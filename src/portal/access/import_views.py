"""The pages of the CSV import (upload, preview, apply or discard) and the CSV export of access.

Nothing is changed before the person has seen the preview and pressed "Genomför"; then everything
in the file is applied or nothing is (``csv_io.access_import_apply``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import csv_io, selectors
from portal.access.administration import MAX_REASON_LENGTH
from portal.access.constants import Permission
from portal.access.models import AccessImport, Level, Role
from portal.common.errors import ApplicationError
from portal.common.routes import read_only, requires
from portal.eservices import registry
from portal.identity.models import Person

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV-fil"),
        error_messages={
            "required": gettext_lazy("Välj en CSV-fil att ladda upp."),
            "empty": gettext_lazy(
                "Filen är tom. Den ska ha en rubrikrad och en rad per behörighet."
            ),
            "invalid": gettext_lazy("Välj en CSV-fil att ladda upp."),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("Skäl"),
        help_text=gettext_lazy(
            "Gäller rader där kolumnen skäl är tom, till exempel ”Nya medarbetare i januari”. "
            "Skälet sparas i loggen."
        ),
        max_length=MAX_REASON_LENGTH,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Högst %(size)d MB och %(rows)s rader, sparad som CSV UTF-8."
        ) % {
            "size": csv_io.MAX_BYTES // (1024 * 1024),
            "rows": csv_io.format_count(csv_io.MAX_ROWS),
        }


def _actor(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)  # noqa: S101 (requires() guarantees a logged-in person)
    return request.user


@requires(Permission.ACCESS_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def import_upload(request: HttpRequest, public_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            access_import = csv_io.access_import_preview(
                employer=employer,
                actor=_actor(request),
                upload=upload,
                filename=upload.name or "",
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except csv_io.CsvRefused as error:
            form.add_error("file", error.messages)
        else:
            return redirect(
                "access:import-preview",
                public_id=employer.public_id,
                import_id=access_import.public_id,
            )
    return render(
        request,
        "access/import.html",
        {
            "employer": employer,
            "form": form,
            "columns": csv_io.COLUMNS,
            "eservices": registry.all_eservices(),
            "max_rows": csv_io.format_count(csv_io.MAX_ROWS),
        },
        status=400 if form.errors else 200,
    )


@dataclass(frozen=True)
class _PreviewRow:
    line: int
    identifier: str
    name: str
    email: str
    role: str
    eservice: str
    level: str
    valid_from: str
    valid_until: str
    reason: str
    changes: list[str]
    errors: list[csv_io.RowError]


def _preview_rows(access_import: AccessImport, rows: list[csv_io.ImportRow]) -> list[_PreviewRow]:
    errors: dict[int, list[csv_io.RowError]] = {}
    for error in csv_io.import_errors(access_import):
        errors.setdefault(error.line, []).append(error)
    # The names of the employer's people (one query), to recognise whom a row is about.
    names = {
        csv_io.person_key_of(number, eidas): f"{given} {surname}".strip()
        for number, eidas, given, surname in Person.objects.filter(
            memberships__employer=access_import.employer, memberships__ended_at__isnull=True
        )
        .distinct()
        .values_list("personal_number", "eidas_identifier", "given_name", "surname")
    }
    result = []
    for row in rows:
        number = row.personal_number
        eservice = registry.get(row.eservice)
        result.append(
            _PreviewRow(
                line=row.line,
                identifier=f"{number[:8]}-{number[8:]}"
                if len(number) == 12 and number.isdigit()  # noqa: PLR2004 (normalised number)
                else number,
                name=names.get(csv_io.person_key(row), ""),
                email=row.email,
                role=str(Role(row.role).label) if row.role in Role.values else row.role,
                eservice=str(eservice.name) if eservice else row.eservice,
                level=str(Level(row.level).label) if row.level in Level.values else row.level,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                reason=row.reason,
                changes=csv_io.change_labels(row),
                errors=errors.get(row.line, []),
            )
        )
    return result


def _render_preview(
    request: HttpRequest,
    access_import: AccessImport,
    *,
    failure: str = "",
    failure_errors: list[csv_io.RowError] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = csv_io.import_rows(access_import)
    errors = csv_io.import_errors(access_import)
    return render(
        request,
        "access/import_preview.html",
        {
            "employer": access_import.employer,
            "access_import": access_import,
            "rows": _preview_rows(access_import, rows),
            "errors": errors,
            "error_lines": len({error.line for error in errors}),
            "summary": csv_io.summary(csv_io.counts(rows)),
            "may_apply": not errors and access_import.state == AccessImport.State.PREVIEWED,
            "failure": failure,
            "failure_errors": failure_errors or [],
        },
        status=status,
    )


@requires(Permission.ACCESS_MANAGE)
@read_only
def import_preview(request: HttpRequest, public_id: UUID, import_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    return _render_preview(request, csv_io.access_import_at(request, employer, import_id))


@requires(Permission.ACCESS_MANAGE)
@require_POST
def import_apply(request: HttpRequest, public_id: UUID, import_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    access_import = csv_io.access_import_at(request, employer, import_id)
    try:
        result = csv_io.access_import_apply(
            access_import=access_import, actor=_actor(request), request=request
        )
    except csv_io.ImportNotApplied as error:
        access_import.refresh_from_db()
        return _render_preview(
            request,
            access_import,
            failure=error.message,
            failure_errors=error.errors,
            status=int(error.status),
        )
    except ApplicationError as error:
        access_import.refresh_from_db()
        return _render_preview(request, access_import, failure=error.message, status=error.status)
    done = csv_io.summary(result)
    messages.success(
        request,
        _("Importen är genomförd: %(summary)s.") % {"summary": ", ".join(done)}
        if done
        else _("Importen är genomförd."),
    )
    return redirect("access:people", public_id=employer.public_id)


@requires(Permission.ACCESS_MANAGE)
@require_POST
def import_discard(request: HttpRequest, public_id: UUID, import_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    access_import = csv_io.access_import_at(request, employer, import_id)
    try:
        csv_io.access_import_discard(
            access_import=access_import, actor=_actor(request), request=request
        )
    except ApplicationError as error:
        return _render_preview(request, access_import, failure=error.message, status=error.status)
    messages.success(request, _("Importen är avbruten. Ingenting har ändrats."))
    return redirect("access:import", public_id=employer.public_id)


def _csv_response(lines: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Permission.ACCESS_VIEW)
@read_only
def export(request: HttpRequest, public_id: UUID) -> HttpResponseBase:
    """All access, as a CSV file in the import's columns (R3)."""
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_VIEW)
    filename = csv_io.export_filename(employer)
    if request.method == "HEAD":
        # Nothing leaves the portal, so nothing is recorded.
        return _csv_response(iter(()), filename)
    lines = csv_io.access_export(employer=employer, actor=_actor(request), request=request)
    return _csv_response((line.encode("utf-8") for line in lines), filename)


@requires(Permission.ACCESS_MANAGE)
@read_only
def import_template(request: HttpRequest, public_id: UUID) -> HttpResponseBase:
    """An example file with the columns and a row of each kind."""
    selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    lines = (line.encode("utf-8") for line in csv_io.template_lines())
    return _csv_response(lines, "behorigheter-mall.csv")
