"""The security baseline: headers, cookies, session lifetime and caching."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY


def _csp(response: Any) -> dict[str, str]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def test_the_content_security_policy_allows_no_inline_script(client: Client, db: Any) -> None:
    csp = _csp(client.get("/"))
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert "unsafe-inline" not in str(csp)
    assert "unsafe-eval" not in str(csp)


def test_the_baseline_headers_are_on_every_page(client: Client, db: Any) -> None:
    for path in ("/", "/hjalp/", "/finns-inte/", "/api/v1/status"):
        response = client.get(path)
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], path
        assert len(response["X-Request-ID"]) == 32, path


def test_a_well_formed_request_id_from_the_proxy_is_kept(client: Client, db: Any) -> None:
    response = client.get("/", headers={"x-request-id": "lb-0123456789abcdef"})
    assert response["X-Request-ID"] == "lb-0123456789abcdef"
    response = client.get("/", headers={"x-request-id": "<script>"})
    assert response["X-Request-ID"] != "<script>"


def test_cookies_are_host_bound_secure_and_hidden_from_scripts(client: Client, person: Any) -> None:
    client.force_login(person)
    response = client.get("/")  # the first request stamps the session, which sets the cookie
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_COOKIE_NAME.startswith("__Host-")
    assert session_cookie["secure"]
    assert session_cookie["httponly"]
    assert session_cookie["path"] == "/"
    assert not session_cookie["domain"]
    csrf_cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert settings.CSRF_COOKIE_NAME.startswith("__Host-")
    assert csrf_cookie["secure"]
    assert csrf_cookie["httponly"]
    assert csrf_cookie["samesite"] == "Lax"
    assert csrf_cookie["path"] == "/"


def test_a_logged_in_person_gets_nothing_cached(client: Client, person: Any) -> None:
    client.force_login(person)
    response = client.get("/")
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control
    assert "no-cache" in cache_control


@pytest.mark.django_db
def test_anonymous_public_pages_are_not_forced_uncached(client: Client) -> None:
    assert "no-store" not in client.get("/villkor/").get("Cache-Control", "")


def _age_session(client: Client, *, started: float, seen: float) -> None:
    session = client.session
    session[SESSION_STARTED_KEY] = started
    session[SESSION_SEEN_KEY] = seen
    session.save()


@pytest.mark.django_db
def test_a_session_ends_after_twenty_idle_minutes(client: Client, person: Any) -> None:
    client.force_login(person)
    client.get("/")
    now = time.time()
    _age_session(client, started=now - 21 * 60, seen=now - 19 * 60)
    assert client.get("/").wsgi_request.user.is_authenticated
    _age_session(client, started=now - 22 * 60, seen=now - 21 * 60)
    response = client.get("/")
    assert not response.wsgi_request.user.is_authenticated
    assert "Du har loggats ut" in response.content.decode()
    event = AuditEvent.objects.get(event_type=EventType.SESSION_EXPIRED)
    assert event.actor == person
    assert event.data == {"reason": "idle"}


@pytest.mark.django_db
def test_a_session_ends_eight_hours_after_login_however_active(client: Client, person: Any) -> None:
    client.force_login(person)
    client.get("/")
    now = time.time()
    _age_session(client, started=now - 8 * 3600 + 60, seen=now - 5)
    assert client.get("/").wsgi_request.user.is_authenticated
    _age_session(client, started=now - 8 * 3600 - 60, seen=now - 5)
    assert not client.get("/").wsgi_request.user.is_authenticated
    assert AuditEvent.objects.get(event_type=EventType.SESSION_EXPIRED).data == {
        "reason": "max-lifetime"
    }


def test_the_session_cookie_lives_only_as_long_as_the_idle_timeout() -> None:
    assert settings.SESSION_COOKIE_AGE == 20 * 60
    assert settings.SESSION_MAX_SECONDS == 8 * 3600
