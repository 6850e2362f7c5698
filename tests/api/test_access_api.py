"""Access administration through the JSON API: the same operations as the pages, for an HR
system, authenticated by the session (CSRF on), authorised by ``employer_for`` and refused as
problem details."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portal.access.models import Grant, Level, Membership, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.identity.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

NEW_PERSON = "19121212-1212"
NEW_PERSON_DIGITS = "191212121212"
PROBLEM = "application/problem+json"


def _employer(number: str = "5599011235", name: str = "Exempelbolaget AB") -> Employer:
    return Employer.objects.create(
        organisation_number=number, name=name, state=EmployerState.ACTIVE
    )


def _member(employer: Employer, person: Person, role: Role, **extra: Any) -> Membership:
    return Membership.objects.create(
        employer=employer, person=person, role=role, reason="Test", **extra
    )


def _grant(membership: Membership, eservice: str = "sick_report", **extra: Any) -> Grant:
    return Grant.objects.create(
        membership=membership, eservice=eservice, level=Level.SUBMIT, reason="Test", **extra
    )


def _logged_in(person: Person, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(person)
    return client


@pytest.fixture
def employer() -> Employer:
    return _employer()


@pytest.fixture
def admin(employer: Employer) -> Person:
    person = PersonFactory(given_name="Astrid", surname="Administratör")
    _member(employer, person, Role.ADMINISTRATOR, email="astrid@exempel.se")
    return person


@pytest.fixture
def api(admin: Person) -> Client:
    return _logged_in(admin)


@pytest.fixture
def user(employer: Employer) -> Person:
    person = PersonFactory(given_name="Ulla", surname="Användare")
    _grant(_member(employer, person, Role.USER, email="ulla@exempel.se"))
    return person


def base(employer: Employer) -> str:
    return f"/api/v1/employers/{employer.public_id}/access"


def post(client: Client, url: str, body: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **kwargs)


def delete(client: Client, url: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    if body is None:
        return client.delete(url, **kwargs)
    return client.delete(url, json.dumps(body), content_type="application/json", **kwargs)


def events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()[:800]
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    return body


# --- the OpenAPI document -------------------------------------------------------------------

OPERATIONS = [
    ("get", "/api/v1/employers/{employer_id}/access"),
    ("post", "/api/v1/employers/{employer_id}/access"),
    ("get", "/api/v1/employers/{employer_id}/access/{person_id}"),
    ("delete", "/api/v1/employers/{employer_id}/access/{person_id}"),
    ("post", "/api/v1/employers/{employer_id}/access/{person_id}/grants"),
    ("delete", "/api/v1/employers/{employer_id}/access/{person_id}/grants/{grant_id}"),
    ("post", "/api/v1/employers/{employer_id}/access/{person_id}/roles"),
    ("delete", "/api/v1/employers/{employer_id}/access/{person_id}/roles/{role}"),
]


def test_the_openapi_document_describes_every_access_operation(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["SessionAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": settings.SESSION_COOKIE_NAME,
    }
    problem_ref = "#/components/schemas/ProblemOut"
    for method, path in OPERATIONS:
        operation = document["paths"][path][method]
        assert operation["tags"] == ["access"]
        assert operation["summary"]
        assert operation["description"]
        assert operation["security"] == [{"SessionAuth": []}]
        for status in ("401", "403", "404", "422"):
            response = operation["responses"][status]
            assert response["content"][PROBLEM]["schema"]["$ref"] == problem_ref
            assert response["description"] != "Unknown Status Code"
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert len(successes) == 1
        if method != "get":
            assert "400" in operation["responses"]
    writes = [op for _m, op in OPERATIONS if op.endswith(("{grant_id}", "{role}"))]
    for path in writes:
        body = document["paths"][path]["delete"]["requestBody"]
        assert body["required"] is True
    person = document["components"]["schemas"]["PersonAccessOut"]["properties"]
    assert "masked_identifier" in person
    assert "personal_number" not in person
    assert {document["paths"][path][method]["operationId"] for method, path in OPERATIONS} == {
        "access_list",
        "access_person",
        "access_person_add",
        "access_grant_set",
        "access_grant_revoke",
        "access_role_add",
        "access_role_end",
        "access_remove_all",
    }
    # The public status stays public.
    assert "security" not in document["paths"]["/api/v1/status"]["get"]


# --- reading --------------------------------------------------------------------------------


def test_the_list_shows_everyone_with_their_roles_and_grants(
    api: Client, employer: Employer, admin: Person, user: Person
) -> None:
    newcomer = Person.objects.create_person(personal_number=NEW_PERSON_DIGITS)
    _member(employer, newcomer, Role.USER)
    response = api.get(base(employer))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["page"] == 1
    assert body["limit"] == 50
    by_id = {item["id"]: item for item in body["items"]}
    assert by_id[str(admin.public_id)]["roles"] == ["administrator"]
    assert by_id[str(admin.public_id)]["grants"] == []
    assert by_id[str(admin.public_id)]["email"] == "astrid@exempel.se"
    listed_user = by_id[str(user.public_id)]
    assert listed_user["name"] == "Ulla Användare"
    assert listed_user["roles"] == ["user"]
    assert listed_user["suspended"] is False
    (grant,) = listed_user["grants"]
    assert grant["eservice"] == "sick_report"
    assert grant["level"] == "submit"
    assert grant["valid_until"] is None
    assert grant["in_force"] is True
    assert grant["id"] == str(Grant.objects.get(membership__person=user).public_id)
    # Not logged in yet: no name, and only the masked number.
    assert by_id[str(newcomer.public_id)]["name"] == ""
    assert by_id[str(newcomer.public_id)]["masked_identifier"] == "19121212-****"
    text = response.content.decode()
    for person in (admin, user, newcomer):
        assert person.personal_number
        assert person.personal_number not in text
        assert person.personal_number[2:] not in text


def test_the_list_filters_and_pages(
    api: Client, employer: Employer, admin: Person, user: Person
) -> None:
    soon = _member(employer, PersonFactory(surname="Snartsson"), Role.USER)
    _grant(soon, "inquiries", valid_until=timezone.localdate() + timedelta(days=5))
    _member(employer, PersonFactory(surname="Utansson"), Role.USER)

    def ids(**query: str) -> list[str]:
        response = api.get(base(employer), query)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(role="administrator") == [str(admin.public_id)]
    assert ids(eservice="inquiries") == [str(soon.person.public_id)]
    assert ids(status="expiring") == [str(soon.person.public_id)]
    assert len(ids(status="no-grants")) == 1
    assert ids(search="Användare") == [str(user.public_id)]
    first, second = ids(limit="2"), ids(limit="2", page="2")
    assert len(first) == 2
    assert len(second) == 2
    assert not set(first) & set(second)
    assert ids(limit="2", page="3") == []
    assert api.get(base(employer), {"limit": "2"}).json()["count"] == 4


@pytest.mark.parametrize(
    "query", [{"role": "boss"}, {"status": "maybe"}, {"limit": "0"}, {"page": "0"}]
)
def test_the_list_refuses_unknown_filters(
    api: Client, employer: Employer, query: dict[str, str]
) -> None:
    body = assert_problem(api.get(base(employer), query), 422)
    assert body["errors"]


def test_one_person_and_unknown_ones(
    api: Client, employer: Employer, admin: Person, user: Person
) -> None:
    response = api.get(f"{base(employer)}/{user.public_id}")
    assert response.status_code == 200
    assert response.json()["roles"] == ["user"]
    assert response.json()["email"] == "ulla@exempel.se"
    assert_problem(api.get(f"{base(employer)}/{uuid.uuid4()}"), 404)
    stranger = PersonFactory()
    _member(_employer("5560360793", "Annat AB"), stranger, Role.USER)
    assert_problem(api.get(f"{base(employer)}/{stranger.public_id}"), 404)
    assert_problem(api.get(f"/api/v1/employers/{uuid.uuid4()}/access"), 404)
    assert_problem(api.get(f"/api/v1/employers/{uuid.uuid4()}/access/{user.public_id}"), 404)
    assert_problem(api.get("/api/v1/employers/not-a-uuid/access"), 422)


@pytest.mark.parametrize("people", [5, 50])
def test_the_list_takes_a_fixed_number_of_queries(
    api: Client,
    employer: Employer,
    admin: Person,
    people: int,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(people):
        membership = _member(employer, PersonFactory(), Role.USER)
        _grant(membership, "sick_report")
        _grant(membership, "inquiries")
    api.get(base(employer))  # the session's first request stores its start time; not counted
    # Session and person, employer and role, count, page, memberships, grants, and the read's
    # audit event (its insert, within a savepoint on PostgreSQL and SQLite alike).
    with django_assert_max_num_queries(11):
        response = api.get(base(employer), {"limit": "200"})
    assert response.status_code == 200
    assert response.json()["count"] == people + 1
    assert len(response.json()["items"]) == people + 1


# --- adding and changing --------------------------------------------------------------------


def test_an_administrator_adds_a_person_with_grants(
    api: Client, employer: Employer, admin: Person
) -> None:
    until = timezone.localdate() + timedelta(days=90)
    response = post(
        api,
        base(employer),
        {
            "personal_number": NEW_PERSON,
            "email": "ny@exempel.se",
            "user": True,
            "grants": [
                {"eservice": "sick_report", "level": "submit"},
                {"eservice": "inquiries", "level": "view", "valid_until": until.isoformat()},
            ],
            "reason": "Ny lönehandläggare",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(personal_number=NEW_PERSON_DIGITS)
    assert body["id"] == str(person.public_id)
    assert body["masked_identifier"] == "19121212-****"
    assert NEW_PERSON_DIGITS[2:] not in response.content.decode()
    assert body["roles"] == ["user"]
    assert body["email"] == "ny@exempel.se"
    assert {(g["eservice"], g["level"], g["valid_until"]) for g in body["grants"]} == {
        ("sick_report", "submit", None),
        ("inquiries", "view", until.isoformat()),
    }
    (created,) = events(EventType.MEMBERSHIP_CREATED)
    assert created.actor == admin
    assert created.data["person"] == person.pk
    assert NEW_PERSON_DIGITS not in json.dumps(created.data)
    assert len(events(EventType.GRANT_CREATED)) == 2

    again = post(
        api,
        base(employer),
        {"personal_number": NEW_PERSON, "administrator": True, "reason": "Igen"},
    )
    problem = assert_problem(again, 409)
    assert problem["person"] == str(person.public_id)
    assert Membership.objects.filter(person=person).count() == 1


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"personal_number": "19121212-1213"}, 400),  # wrong check digit
        ({"personal_number": "hello"}, 400),
        ({"grants": [{"eservice": "no_such_service", "level": "view"}]}, 400),
        ({"grants": [{"eservice": "sick_report", "level": "admin"}]}, 422),
        (
            {
                "grants": [
                    {
                        "eservice": "sick_report",
                        "level": "view",
                        "valid_from": "2031-05-02",
                        "valid_until": "2031-05-01",
                    }
                ]
            },
            400,
        ),
        ({"reason": "   "}, 400),
        ({"reason": None}, 422),
        ({"user": False}, 400),  # no role at all
        ({"email": "not an address"}, 422),
        ({"grants": "sick_report"}, 422),
        ({"eidas_identifier": "DE/SE/1234567890"}, 400),  # both identities at once
        ({"personal_number": "", "eidas_identifier": "DE/XX/123"}, 400),
        ({"personal_number": ""}, 400),  # neither
    ],
)
def test_bad_input_is_refused_and_nothing_is_added(
    api: Client, employer: Employer, changes: dict[str, Any], status: int
) -> None:
    body: dict[str, Any] = {
        "personal_number": NEW_PERSON,
        "user": True,
        "grants": [],
        "reason": "Ny",
    } | changes
    body = {key: value for key, value in body.items() if value is not None}
    problem = assert_problem(post(api, base(employer), body), status)
    assert problem.get("detail") or problem.get("errors")
    assert not Person.objects.filter(personal_number=NEW_PERSON_DIGITS).exists()
    assert not events(EventType.MEMBERSHIP_CREATED)
    assert "1212-1213" not in json.dumps(problem)


def test_an_administrator_adds_a_foreign_person_by_eidas_identifier(
    api: Client, employer: Employer
) -> None:
    response = post(
        api,
        base(employer),
        {
            "eidas_identifier": "de/se/1234567890",
            "user": True,
            "grants": [{"eservice": "sick_report", "level": "submit"}],
            "reason": "Ny kollega från Tyskland",
        },
    )
    assert response.status_code == 201, response.content
    person = Person.objects.get(eidas_identifier="DE/SE/1234567890")
    assert person.personal_number is None
    assert "1234567890" not in response.content.decode()
    assert response.json()["masked_identifier"].endswith("DE/SE/****7890")
    assert not events(EventType.MEMBERSHIP_CREATED)[0].data.get("eidas_identifier")


def test_a_grant_is_set_and_replaced(
    api: Client, employer: Employer, admin: Person, user: Person
) -> None:
    old = Grant.objects.get(membership__person=user)
    starts = timezone.localdate() + timedelta(days=1)
    response = post(
        api,
        f"{base(employer)}/{user.public_id}/grants",
        {
            "eservice": "sick_report",
            "level": "view",
            "valid_from": starts.isoformat(),
            "reason": "Bara läsa från i morgon",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["level"] == "view"
    assert body["valid_from"] == starts.isoformat()
    assert body["in_force"] is False
    old.refresh_from_db()
    assert old.ended_at is not None
    assert Grant.objects.open().get(membership__person=user).public_id == uuid.UUID(body["id"])


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"eservice": "no_such_service"}, 400),
        ({"valid_from": "2031-05-02", "valid_until": "2031-05-01"}, 400),
        ({"valid_until": "2001-01-01"}, 400),  # already past
        ({"level": "everything"}, 422),
        ({"valid_from": "tomorrow"}, 422),
        ({"reason": ""}, 400),
    ],
)
def test_a_bad_grant_is_refused(
    api: Client, employer: Employer, user: Person, changes: dict[str, Any], status: int
) -> None:
    body = {"eservice": "inquiries", "level": "view", "reason": "Svarar på frågor"} | changes
    assert_problem(post(api, f"{base(employer)}/{user.public_id}/grants", body), status)
    assert Grant.objects.filter(membership__person=user).count() == 1


def test_a_grant_needs_the_user_role(api: Client, employer: Employer, admin: Person) -> None:
    response = post(
        api,
        f"{base(employer)}/{admin.public_id}/grants",
        {"eservice": "inquiries", "level": "view", "reason": "Test"},
    )
    assert_problem(response, 400)


def test_a_grant_is_revoked_with_a_reason_in_the_body(
    api: Client, employer: Employer, user: Person
) -> None:
    grant = Grant.objects.get(membership__person=user)
    url = f"{base(employer)}/{user.public_id}/grants/{grant.public_id}"
    assert_problem(delete(api, url), 422)  # the reason is required
    assert_problem(delete(api, url, {"reason": " "}), 400)
    assert_problem(delete(api, f"{url[:-36]}{uuid.uuid4()}", {"reason": "Slutat"}), 404)
    response = delete(api, url, {"reason": "Byter avdelning"})
    assert response.status_code == 204
    assert response.content == b""
    grant.refresh_from_db()
    assert grant.ended_at is not None
    assert grant.end_reason == "Byter avdelning"
    assert events(EventType.GRANT_REVOKED)[-1].data["grant"] == grant.pk
    # Once more: nothing changes.
    assert delete(api, url, {"reason": "Igen"}).status_code == 204
    assert len(events(EventType.GRANT_REVOKED)) == 1


def test_roles_are_given_and_ended(
    api: Client, employer: Employer, admin: Person, user: Person
) -> None:
    url = f"{base(employer)}/{user.public_id}/roles"
    response = post(api, url, {"role": "administrator", "reason": "Ny chef"})
    assert response.status_code == 201, response.content
    assert response.json()["roles"] == ["administrator", "user"]
    assert response.json()["email"] == "ulla@exempel.se"
    assert_problem(post(api, url, {"role": "administrator", "reason": "Igen"}), 409)
    assert_problem(post(api, url, {"role": "owner", "reason": "Nej"}), 422)

    ended = delete(api, f"{url}/user", {"reason": "Bara administration nu"})
    assert ended.status_code == 204
    assert not Grant.objects.open().filter(membership__person=user).exists()
    assert api.get(f"{base(employer)}/{user.public_id}").json()["roles"] == ["administrator"]
    assert_problem(delete(api, f"{url}/user", {"reason": "Igen"}), 404)
    assert_problem(delete(api, f"{url}/owner", {"reason": "Nej"}), 422)


def test_the_last_administrator_cannot_be_removed(
    api: Client, employer: Employer, admin: Person
) -> None:
    problem = assert_problem(
        delete(api, f"{base(employer)}/{admin.public_id}/roles/administrator", {"reason": "Går"}),
        409,
    )
    assert "minst en behörighetsadministratör" in problem["detail"]
    assert_problem(delete(api, f"{base(employer)}/{admin.public_id}", {"reason": "Går"}), 409)
    assert Membership.objects.open().filter(person=admin).exists()
    refusals = events(EventType.MEMBERSHIP_REFUSED)
    assert [event.data["rule"] for event in refusals] == ["last-administrator"] * 2


def test_all_access_is_removed_at_once(
    api: Client, employer: Employer, admin: Person, user: Person
) -> None:
    post(api, f"{base(employer)}/{user.public_id}/roles", {"role": "administrator", "reason": "x"})
    url = f"{base(employer)}/{user.public_id}"
    assert_problem(delete(api, url), 422)
    response = delete(api, url, {"reason": "Slutar sin anställning"})
    assert response.status_code == 204
    assert not Membership.objects.open().filter(person=user).exists()
    assert not Grant.objects.open().filter(membership__person=user).exists()
    (removed,) = events(EventType.ACCESS_REMOVED_ALL)
    assert removed.data["person"] == user.pk
    # Still known here (the history), with nothing left; and gone from the list.
    after = api.get(url).json()
    assert after["roles"] == []
    assert after["grants"] == []
    assert [item["id"] for item in api.get(base(employer)).json()["items"]] == [
        str(admin.public_id)
    ]


# --- who may ---------------------------------------------------------------------------------


def _every_operation(employer: Employer, person: Person) -> list[tuple[str, str, dict[str, Any]]]:
    grant = Grant.objects.filter(membership__employer=employer).first()
    grant_id = grant.public_id if grant else uuid.uuid4()
    at = f"{base(employer)}/{person.public_id}"
    reason = {"reason": "Test"}
    return [
        ("get", base(employer), {}),
        ("get", at, {}),
        ("post", base(employer), {"personal_number": NEW_PERSON, "user": True} | reason),
        ("post", f"{at}/grants", {"eservice": "inquiries", "level": "view"} | reason),
        ("delete", f"{at}/grants/{grant_id}", reason),
        ("post", f"{at}/roles", {"role": "administrator"} | reason),
        ("delete", f"{at}/roles/user", reason),
        ("delete", at, reason),
    ]


def _call(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    if method == "get":
        return client.get(url)
    if method == "post":
        return post(client, url, body)
    return delete(client, url, body)


def test_anonymous_requests_get_401(client: Client, employer: Employer, user: Person) -> None:
    for method, url, body in _every_operation(employer, user):
        problem = assert_problem(_call(client, method, url, body), 401)
        assert problem["instance"] == url
    assert Membership.objects.open().count() == 1
    assert not events(EventType.ACCESS_DENIED)


@pytest.mark.parametrize("who", ["user", "other-administrator", "ended-administrator"])
def test_only_the_employers_administrators_may(
    employer: Employer, admin: Person, user: Person, who: str
) -> None:
    if who == "user":
        outsider = user
    elif who == "other-administrator":
        outsider = PersonFactory()
        _member(_employer("5560360793", "Annat AB"), outsider, Role.ADMINISTRATOR)
    else:
        outsider = PersonFactory()
        _member(employer, outsider, Role.ADMINISTRATOR, ended_at=timezone.now())
    client = _logged_in(outsider)
    operations = _every_operation(employer, user)
    for method, url, body in operations:
        problem = assert_problem(_call(client, method, url, body), 403)
        assert problem["type"].endswith("/forbidden")
    assert Membership.objects.open().filter(employer=employer).count() == 2
    assert Grant.objects.open().count() == 1
    denied = events(EventType.ACCESS_DENIED)
    assert len(denied) == len(operations)
    assert {event.actor_id for event in denied} == {outsider.pk}
    assert {event.object_id for event in denied} == {str(employer.public_id)}
    assert [event.data["action"] for event in denied] == [
        "access:membership:view",
        "access:membership:view",
    ] + ["access:membership:manage"] * 6


def test_a_session_post_without_the_csrf_token_is_refused(
    employer: Employer, admin: Person
) -> None:
    client = _logged_in(admin, enforce_csrf_checks=True)
    body = {"personal_number": NEW_PERSON, "user": True, "reason": "Ny"}
    assert client.get(base(employer)).status_code == 200  # reading needs no token
    problem = assert_problem(post(client, base(employer), body), 403)
    assert "CSRF" in problem["detail"]
    assert_problem(delete(client, f"{base(employer)}/{admin.public_id}", {"reason": "x"}), 403)
    assert not Person.objects.filter(personal_number=NEW_PERSON_DIGITS).exists()

    # The documentation page hands out the token, as a browser session gets it from a page.
    assert client.get("/api/v1/docs").status_code == 200
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = post(client, base(employer), body, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.content
