"""The public pages: start, terms, accessibility statement, technical requirements, help, status."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from portal.announcements import selectors as announcements
from portal.common.errors import problem_for_status, problem_response
from portal.common.routes import public, read_only
from portal.eservices.registry import all_eservices
from portal.notices.selectors import service_status

EID_ISSUER_NAMES = {
    "bankid": "BankID",
    "freja": "Freja+",
    "swedenconnect": "Sweden Connect (eIDAS)",
}


@public
@read_only
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/home.html",
        {"eservices": all_eservices(), "announcements": announcements.shown_to_everyone()},
    )


@public
@read_only
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "web/accessibility.html")


@public
@read_only
def technical_requirements(request: HttpRequest) -> HttpResponse:
    issuers = [EID_ISSUER_NAMES.get(code, code) for code in settings.EID_ALLOWED_ISSUERS]
    return render(request, "web/technical_requirements.html", {"issuers": issuers})


@public
@read_only
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/help.html")


@public
@read_only
def status(request: HttpRequest) -> HttpResponse:
    return render(request, "web/status.html", {"status": service_status()})


@public
@require_POST
def set_language(request: HttpRequest) -> HttpResponseBase:
    """The language switch: Django's view, which only follows a ``next`` on this site."""
    return django_set_language(request)


@public
@never_cache
@read_only
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive (it answers); says nothing about its dependencies."""
    return JsonResponse({"status": "ok"})


@public
@never_cache
@read_only
def readyz(request: HttpRequest) -> HttpResponse:
    """The process can serve: every configured database answers a query."""
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return problem_response(
                request,
                problem_for_status(503, f"database {alias!r} is unreachable"),
                {"Retry-After": "5"},
            )
    return JsonResponse({"status": "ready"})
