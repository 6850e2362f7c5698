"""The generated matrix: every route and API operation, tried by every kind of actor.

For each route the resolver knows, each actor (anonymous, a user without grants, a user who may
view, a user who may submit, the employer's administrator, another employer's administrator, and
each staff role) requests it with GET and with an empty POST (and DELETE for the API). What each
declared permission allows is written out below, by hand, so that a permission quietly given to
the wrong kind of actor fails here. A refused actor gets 403, 404 or 405 and never the employer's
data; every 403 is in the audit log.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.routes import AUTHENTICATED, PUBLIC, access_of
from tests.access.world import World, build_world
from tests.web.test_routes import PUBLIC_API_OPERATIONS, _walk

STAFF = {
    "case_worker",
    "partner_support",
    "terms_editor",
    "operations",
    "auditor",
    "staff_administrator",
}
ACTORS = ["anonymous", "admin", "user_none", "user_view", "user_submit", "other_admin"] + [
    f"staff:{role}" for role in sorted(STAFF)
]
EVERYONE_OF_THE_EMPLOYER = {"admin", "user_none", "user_view", "user_submit"}

#: Who each permission lets through, for the world's first employer and its sick_report service.
ALLOWED: dict[str, set[str]] = {
    "employers:employer:view": EVERYONE_OF_THE_EMPLOYER,
    "employers:employer:deregister": {"admin"},
    "terms:acceptance:create": {"admin"},
    "access:membership:view": {"admin"},
    "access:membership:manage": {"admin"},
    "audit:event:view": {"admin"},
    "eservices:eservice:view": {"user_view", "user_submit"},
    "eservices:eservice:submit": {"user_submit"},
    "backoffice:employer:view": {"staff:case_worker", "staff:partner_support", "staff:auditor"},
    "backoffice:employer:terminate": {"staff:case_worker"},
    "backoffice:deregistration:register": {"staff:case_worker"},
    "backoffice:enrolment:register": {"staff:case_worker"},
    "backoffice:enrolment:approve": {"staff:case_worker"},
    "backoffice:terms:publish": {"staff:terms_editor"},
    "backoffice:announcement:publish": {"staff:terms_editor"},
    "backoffice:inquiry:create": {"staff:case_worker"},
    "backoffice:home:view": {f"staff:{role}" for role in STAFF},
    "backoffice:staff:manage": {"staff:staff_administrator"},
    "backoffice:person:view": {"staff:case_worker", "staff:partner_support", "staff:auditor"},
    "backoffice:confirmation:resend": {"staff:case_worker", "staff:partner_support"},
    "backoffice:availability:manage": {"staff:operations"},
    "backoffice:queue:view": {"staff:case_worker", "staff:auditor"},
    "backoffice:queue:oversee": {"staff:auditor"},
}
#: The API's operations: reading access is ACCESS_VIEW, everything else ACCESS_MANAGE; both are
#: the administrator's alone.
API_ALLOWED = {"admin"}


def api_allowed(name: str, method: str) -> set[str]:
    """Who may use an API operation: the e-services' reads need a grant, their writes a submit
    grant; access administration is the administrator's."""
    if "eservice" in name:
        return {"user_submit"} if method in {"post", "delete"} else {"user_view", "user_submit"}
    if "intake" in name:
        return set()  # the agency's systems only, with a client credential: no person at all
    return API_ALLOWED


#: A body every API operation accepts the shape of, so that the answer is about authorisation
#: rather than validation.
API_BODY = {
    "reason": "matris",
    "eservice": "sick_report",
    "level": "view",
    "role": "user",
    "personal_number": "198001011231",
    "email": "matris@example.se",
    "administrator": False,
    "user": True,
    "grants": [],
}

# Routes whose ``public_id`` is an employer (the others name an enrolment, an order, a letter...).
EMPLOYER_ROUTES = ("access:", "audit:", "eservices:", "employers:employer", "employers:deregister")
EMPLOYER_ROUTE_NAMES = {
    "terms:notice",
    "backoffice:employer",
    "backoffice:terminate",
    "backoffice:register-deregistration",
    "backoffice:inquiry-new",
    "notices:subscription",
}


def _routes() -> list[tuple[str, str, Any]]:
    return [
        (route, name, callback)
        for route, name, callback in _walk(get_resolver().url_patterns)
        if name not in PUBLIC_API_OPERATIONS
    ]


def _path(route: str, name: str, world: World) -> str:
    assert world.grant is not None
    values = {
        "public_id": str(world.employer.public_id)
        if name.startswith(EMPLOYER_ROUTES) or name in EMPLOYER_ROUTE_NAMES
        else str(uuid.uuid4()),
        "employer_id": str(world.employer.public_id),
        "person_id": str(world.people["user_submit"].public_id),
        "grant_id": str(world.grant.public_id),
        "import_id": str(uuid.uuid4()),
        "reference": "SJK-XXXX-XXXX",
        "attachment_id": str(uuid.uuid4()),
        "code": "sick_report",
        "role": "user",
        "version": "1",
        "organisation_number": world.employer.organisation_number,
        "provider": "bankid",
    }
    path = "/" + route.replace("^", "").replace("$", "")
    for key, value in values.items():
        for converter in ("uuid", "str", "slug", "int", ""):
            token = f"<{converter}:{key}>" if converter else f"<{key}>"
            path = path.replace(token, value)
    assert "<" not in path, f"the matrix does not know how to fill {path}"
    return path


def _client(world: World, actor: str) -> Client:
    client = Client()
    if actor != "anonymous":
        client.force_login(world.people[actor])
    return client


def _denials() -> int:
    return AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()


@pytest.mark.parametrize("name", sorted({name for _route, name, _cb in _routes()}))
def test_every_route_for_every_actor(name: str, db: Any, bankid: Any) -> None:
    world = build_world()
    for route, route_name, callback in _routes():
        if route_name != name:
            continue
        path = _path(route, name, world)
        is_api = name.startswith("api-v1:")
        declared = "api" if is_api else str(access_of(callback))
        methods = ("get", "post", "delete") if is_api else ("get", "post")
        for actor in ACTORS:
            for method in methods:
                before = _denials()
                response = getattr(_client(world, actor), method)(
                    path,
                    **({"content_type": "application/json", "data": API_BODY} if is_api else {}),
                )
                allowed = api_allowed(name, method) if is_api else ALLOWED.get(declared, set())
                _assert_answer(
                    world,
                    actor,
                    declared,
                    response,
                    f"{method.upper()} {path} as {actor}",
                    before,
                    allowed,
                )


def _assert_answer(
    world: World,
    actor: str,
    declared: str,
    response: Any,
    where: str,
    denials_before: int,
    allowed: set[str],
) -> None:
    status = response.status_code
    where = f"{where}: {status}"
    is_api = declared == "api"
    assert status < 500, where
    if declared == PUBLIC:
        return
    if actor == "anonymous":
        assert status in ({401, 405} if is_api else {302, 405}), where
        if status == 302:
            assert response["Location"].startswith("/logga-in/"), where
        return
    if declared == AUTHENTICATED:
        return
    if actor in allowed:
        assert status not in {401, 403}, where
        if status == 302:
            assert not response["Location"].startswith("/logga-in/"), where
        return
    assert status in ({401, 403, 404, 405} if is_api else {403, 404, 405}), where
    body = response.content.decode(errors="replace")
    target = world.people["user_submit"]
    secrets = [world.employer.name]
    if world.people[actor] != target:
        secrets.append(target.given_name)
    for secret in secrets:
        assert secret not in body, f"{where} shows {secret!r}"
    if status == 403:
        assert _denials() == denials_before + 1, f"{where} was not audited"


def test_the_matrix_knows_every_declared_permission() -> None:
    declared = {
        access_of(callback)
        for _route, name, callback in _routes()
        if not name.startswith("api-v1:")
    } - {PUBLIC, AUTHENTICATED}
    assert declared <= set(ALLOWED), declared - set(ALLOWED)


def test_staff_permissions_in_the_matrix_are_the_catalogues() -> None:
    """The hand-written expectations for staff agree with the catalogue (in both directions)."""
    from portal.access.constants import STAFF_PERMISSIONS  # noqa: PLC0415

    for permission, actors in ALLOWED.items():
        if not permission.startswith("backoffice:"):
            continue
        expected = {
            f"staff:{role}" for role, perms in STAFF_PERMISSIONS.items() if permission in perms
        }
        assert actors == expected, permission
