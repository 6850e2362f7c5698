"""Every route that can change something refuses a request without a CSRF token: tried for each
route the resolver knows, as a logged-in administrator (whose session would otherwise let most
of them through), with each state-changing method. A read-only route (``read_only``: exempt from
the check because it changes nothing) answers 405 instead. The routes that take a change without
a token are written out here with why, so that a new one fails until someone says why it is
safe."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from portal.common.routes import is_read_only
from tests.access.test_route_matrix import _path
from tests.access.world import World
from tests.web.test_routes import _walk

pytestmark = pytest.mark.django_db

#: Routes exempt from Django's CSRF check, and why that is safe.
EXEMPT = {
    # An identity provider's answer arrives by a cross-site POST (SAML HTTP-POST binding). It
    # changes nothing by itself: it is accepted only for a pending login of this very browser
    # session (the order's public id and session binding), signed by the identity provider.
    "identity:callback",
    # The metrics endpoint reads and changes nothing; a POST from anyone but Prometheus gets the
    # same 404 as an unknown address.
    "metrics",
}


def _routes() -> list[tuple[str, str, Any]]:
    return [
        (route, name, callback)
        for route, name, callback in _walk(get_resolver().url_patterns)
        if not route.startswith("api/")  # the API: bearer tokens or the session's CSRF, below
    ]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_every_route_refuses_a_change_without_a_csrf_token(world: World, method: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["admin"])
    accepted = []
    for route, name, callback in _routes():
        if name in EXEMPT:
            continue
        response = getattr(client, method)(_path(route, name, world), {})
        # 403: the CSRF check refused it; 405: a read-only route, exempt as it changes nothing.
        expected = 405 if is_read_only(callback) else 403
        if response.status_code != expected:
            accepted.append((name, response.status_code))
    assert accepted == []


def test_only_read_only_routes_and_the_listed_ones_skip_the_csrf_check() -> None:
    exempt = {
        name
        for _route, name, callback in _routes()
        if getattr(callback, "csrf_exempt", False) and not is_read_only(callback)
    }
    assert exempt == EXEMPT
