"""The portal's URLs and the floor of the load bench: ``/bench/golv/``, a minimal logged-in view
that goes through the portal's whole middleware (the session, the logged-in person, the session
lifetime, the security headers) and answers "ok"; and ``/bench/sida/``, the same with an empty
page in the portal's layout (what the layout itself costs, for bench/pages.py). They exist only
in the bench's settings (bench/settings.py), so nothing is added to the portal itself."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from portal.config import urls as portal

handler400 = portal.handler400
handler403 = portal.handler403
handler404 = portal.handler404
handler500 = portal.handler500


@login_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain; charset=utf-8")


@cache
def _empty_page() -> Any:
    """The empty page, compiled once (as the template loader keeps the portal's own pages)."""
    return engines["django"].from_string(
        '{% extends "layout.html" %}{% block title %}Golv{% endblock %}'
        "{% block content %}<h1>Golv</h1>{% endblock %}"
    )


@login_required
def floor_in_layout(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_empty_page().render({}, request))


urlpatterns = [
    path("bench/golv/", floor, name="bench-floor"),
    path("bench/sida/", floor_in_layout, name="bench-floor-in-layout"),
    *portal.urlpatterns,
]
