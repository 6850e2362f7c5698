"""The public terms pages: the version in force, the history, any version, and a comparison."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from portal.common.routes import public, read_only
from portal.terms import selectors


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
