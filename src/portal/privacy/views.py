"""The person's own register extract: a page that says what it holds, and the extract itself as
JSON (machine-readable) and PDF (to keep). Each download is recorded in the audit log."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.common.routes import authenticated, read_only
from portal.identity.models import Person
from portal.privacy.extract import extract_pdf, register_extract, register_extract_record


def _person(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)  # noqa: S101 (authenticated guarantees a person)
    return request.user


@authenticated
@read_only
def my_data(request: HttpRequest) -> HttpResponse:
    """What the extract holds, and the two downloads (nothing personal is shown here)."""
    return render(
        request,
        "privacy/my_data.html",
        {
            "settings_draft_days": settings.DRAFT_DAYS,
            "settings_login_days": settings.LOGIN_RETENTION_DAYS,
            "settings_audit_years": settings.AUDIT_RETENTION_YEARS,
        },
    )


def _filename(extension: str) -> str:
    return f"registerutdrag-{timezone.localdate().isoformat()}.{extension}"


@authenticated
@read_only
def extract_json(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    data = register_extract(person)
    register_extract_record(person=person, request=request, made_for=person)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("json")}"'
    response["Cache-Control"] = "private, no-store"
    return response


@authenticated
@read_only
def extract_pdf_download(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    content = extract_pdf(register_extract(person))
    register_extract_record(person=person, request=request, made_for=person)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename("pdf")}"'
    response["Cache-Control"] = "private, no-store"
    return response
