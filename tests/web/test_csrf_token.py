"""The CSRF token in the portal's forms (``portal.web.context_processors.csrf_token``) is what
Django's ``get_token`` gives: the cookie's secret under a fresh mask on every page, accepted by
Django's CSRF check, and the cookie renewed; without a cookie, Django's own token and cookie."""

from __future__ import annotations

from collections import Counter

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_TOKEN_LENGTH,
    _get_new_csrf_string,
    _unmask_cipher_token,
)
from django.template import engines
from django.test import Client, RequestFactory

from portal.web.context_processors import _mask, csrf_token
from tests.access.world import build_world

pytestmark = pytest.mark.django_db


def test_the_token_is_the_cookies_secret_masked_afresh() -> None:
    secret = _get_new_csrf_string()
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret
    tokens = {csrf_token(request) for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) == CSRF_TOKEN_LENGTH
        assert set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_every_character_of_the_mask_is_drawn_evenly() -> None:
    drawn = Counter("".join(_mask() for _ in range(20_000)))
    assert set(drawn) == set(CSRF_ALLOWED_CHARS)
    expected = 20_000 * 32 / len(CSRF_ALLOWED_CHARS)
    # Some 10 323 of each, give or take 102 (one standard deviation): 6 % is six of them, which
    # an even draw does not reach (with 4 000 masks and 8 %, some 3.7, one run in 60 did); a
    # character favoured by a skewed draw (the bytes 248-255 mapped onto the first eight) would
    # come some 13 % above the rest.
    assert all(abs(n - expected) < 0.06 * expected for n in drawn.values()), drawn


def test_without_a_cookie_django_makes_the_secret_and_the_cookie() -> None:
    request = RequestFactory().get("/")
    token = csrf_token(request)
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_the_templates_token_is_this_one_and_django_accepts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = build_world()
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["admin"])
    page = client.get("/start/", follow=True)
    secret = client.cookies["__Host-portal_csrf"].value
    html = page.content.decode()
    marker = 'name="csrfmiddlewaretoken" value="'
    tokens = [part.split('"', 1)[0] for part in html.split(marker)[1:]]
    assert tokens, "the layout's forms carry the token"
    assert all(_unmask_cipher_token(token) == secret for token in tokens)
    # A template rendered for a request uses the portal's processor, not Django's built-in one.
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret
    monkeypatch.setattr("portal.web.context_processors._mask", lambda: "a" * 32)
    rendered = engines["django"].from_string("{{ csrf_token }}").render({}, request)
    assert rendered.startswith("a" * 32)
    assert _unmask_cipher_token(rendered) == secret
    monkeypatch.undo()
    # The language form, sent with the page's token, is accepted (a refusal would be 403).
    answer = client.post("/sprak/", {"csrfmiddlewaretoken": tokens[-1], "language": "en"})
    assert answer.status_code == 302
