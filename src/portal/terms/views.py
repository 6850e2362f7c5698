"""The public terms pages: the version in force, the history, any version, and a comparison."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.access.constants import Permission
from portal.access.services import require
from portal.common.routes import public, read_only, requires
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.terms import selectors, services


@public
@read_only
def terms_page(request: HttpRequest) -> HttpResponse:
    current = selectors.current_version()
    history = list(selectors.published_versions().order_by("-effective_from", "-id"))
    return render(
        request,
        "terms/terms.html",
        {
            "current": current,
            "upcoming": list(selectors.upcoming_versions()),
            "history": history,
            "previous": next(
                (v for v in history if current and v.effective_from < current.effective_from), None
            ),
        },
    )


@public
@read_only
def version_page(request: HttpRequest, version: str) -> HttpResponse:
    terms = selectors.published_versions().filter(version=version).first()
    if terms is None:
        raise Http404
    return render(
        request, "terms/version.html", {"terms": terms, "current": selectors.current_version()}
    )


@public
@read_only
def compare_page(request: HttpRequest) -> HttpResponse:
    """``?fran=<version>&till=<version>``: what changed between two published versions."""
    versions = {v.version: v for v in selectors.published_versions()}
    old = versions.get(request.GET.get("fran", ""))
    new = versions.get(request.GET.get("till", ""))
    error = ""
    if (request.GET.get("fran") or request.GET.get("till")) and (old is None or new is None):
        error = "unknown"
    return render(
        request,
        "terms/compare.html",
        {
            "versions": sorted(versions.values(), key=lambda v: v.effective_from),
            "old": old,
            "new": new,
            "lines": selectors.diff(old, new) if old and new else [],
            "error": error,
        },
        status=400 if error else 200,
    )


@requires(Permission.TERMS_ACKNOWLEDGE)
@require_http_methods(["GET", "HEAD", "POST"])
def notice(request: HttpRequest, public_id: str) -> HttpResponse:
    """For an employer's administrator: what changes in the new terms, against the version the
    employer accepted; acknowledge for the employer, or ask to be de-registered instead."""
    employer = Employer.objects.filter(public_id=public_id).first()
    if employer is None:
        raise Http404
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (requires() guarantees a person)
    require(person, Permission.TERMS_ACKNOWLEDGE, employer=employer, request=request)
    new = services.pending_change(employer)
    if request.method == "POST":
        if new is not None and request.POST.get("version") == new.version:
            services.terms_acknowledge(
                employer=employer, version=new, actor=person, request=request
            )
            messages.success(
                request,
                _("Du har bekräftat villkoren version %(v)s för %(name)s.")
                % {"v": new.version, "name": employer.name},
            )
        return redirect("employers:employer", public_id=employer.public_id)
    old = services.accepted_version(employer)
    return render(
        request,
        "terms/notice.html",
        {
            "employer": employer,
            "old": old,
            "new": new,
            "lines": selectors.diff(old, new) if old and new else [],
        },
    )
