"""The Content-Security-Policy header, built once per process, is the header django-csp builds;
what changes it for one response, a nonce, or a change of the setting is still honoured."""

from __future__ import annotations

from typing import Any

import pytest
from csp.constants import NONCE, SELF
from csp.decorators import csp_update
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from portal.common.middleware import ContentSecurityPolicyMiddleware


def _through(middleware: type[CSPMiddleware], view: Any, request: HttpRequest) -> HttpResponse:
    return middleware(view)(request)


def _page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sida")


@csp_update({"img-src": ["https://kartor.example"]})
def _page_with_maps(request: HttpRequest) -> HttpResponse:
    return HttpResponse("karta")


def _page_with_nonce(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "view", [_page, _page_with_maps, _page_with_nonce], ids=["plain", "updated", "nonce"]
)
def test_the_header_is_the_one_django_csp_builds(view: Any, rf: RequestFactory) -> None:
    ours = _through(ContentSecurityPolicyMiddleware, view, rf.get("/"))
    theirs = _through(CSPMiddleware, view, rf.get("/"))
    if view is not _page_with_nonce:  # a nonce is new for every request
        assert ours["Content-Security-Policy"] == theirs["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in ours["Content-Security-Policy"]


def test_a_response_that_changes_the_policy_gets_its_own(rf: RequestFactory) -> None:
    plain = _through(ContentSecurityPolicyMiddleware, _page, rf.get("/"))
    maps = _through(ContentSecurityPolicyMiddleware, _page_with_maps, rf.get("/"))
    assert "https://kartor.example" in maps["Content-Security-Policy"]
    assert "https://kartor.example" not in plain["Content-Security-Policy"]
    again = _through(ContentSecurityPolicyMiddleware, _page, rf.get("/"))
    assert again["Content-Security-Policy"] == plain["Content-Security-Policy"] == build_policy()


def test_a_nonce_made_by_the_page_is_in_its_header(rf: RequestFactory, settings: Any) -> None:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}
    response = _through(ContentSecurityPolicyMiddleware, _page_with_nonce, rf.get("/"))
    nonce = response.content.decode().split("nonce='")[1].split("'")[0]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_a_nonce_asked_for_after_the_header_is_written_is_refused(rf: RequestFactory) -> None:
    from csp.exceptions import CSPNonceError  # noqa: PLC0415

    request = rf.get("/")
    _through(ContentSecurityPolicyMiddleware, _page, request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]


def test_a_changed_setting_is_seen(rf: RequestFactory, settings: Any) -> None:
    _through(ContentSecurityPolicyMiddleware, _page, rf.get("/"))
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF], "img-src": ["*"]}}
    changed = _through(ContentSecurityPolicyMiddleware, _page, rf.get("/"))
    parts = set(changed["Content-Security-Policy"].split("; "))
    assert parts == {"default-src 'self'", "img-src *"}
