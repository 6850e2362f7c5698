"""The e-services in the API: submit with an Idempotency-Key, list and get; bad input refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from portal.eservices.models import Submission
from tests.access.world import World


def _base(world: World) -> str:
    return f"/api/v1/employers/{world.employer.public_id}/eservices/sick_report/submissions"


def _client(world: World, who: str = "user_submit") -> Client:
    client = Client()
    client.force_login(world.people[who])
    return client


def _body(**overrides: Any) -> dict[str, Any]:
    return {
        "employee_personal_number": "198503152343",
        "first_day": (timezone.localdate() - timedelta(days=16)).isoformat(),
        "extent": "half",
        "contact_name": "Lisa Lön",
        "contact_phone": "060123456",
        **overrides,
    }


def _post(client: Client, world: World, body: Any, key: str | None = "nyckel-0001") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        _base(world), data=json.dumps(body), content_type="application/json", **headers
    )


def test_submit_is_idempotent_and_the_submission_can_be_read(world: World) -> None:
    client = _client(world)
    first = _post(client, world, _body())
    assert first.status_code == 201, first.content
    reference = first.json()["reference"]
    again = _post(client, world, _body())
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == reference
    assert Submission.objects.count() == 1
    listed = client.get(_base(world)).json()["items"]
    assert [item["reference"] for item in listed] == [reference]
    one = client.get(f"{_base(world)}/{reference}").json()
    assert one["content"]["extent"] == "half"
    viewer = _client(world, "user_view")
    assert viewer.get(f"{_base(world)}/{reference}").status_code == 200
    assert _post(viewer, world, _body(), key="nyckel-0002").status_code == 403


@pytest.mark.parametrize(
    ("body", "key", "field"),
    [
        (_body(), None, "Idempotency-Key"),
        (_body(), "kort", "Idempotency-Key"),
        (_body(salary="40000"), "nyckel-1", "salary"),
        (_body(extent=3), "nyckel-2", "extent"),
        (_body(employee_personal_number="198503152344"), "nyckel-3", "employee_personal_number"),
        (_body(first_day="2099-01-01"), "nyckel-4", "first_day"),
        (
            _body(first_day=(timezone.localdate() - timedelta(days=3)).isoformat()),
            "nyckel-5",
            "first_day",
        ),
    ],
)
def test_bad_input_is_a_422_problem_and_nothing_is_stored(
    world: World, body: dict[str, Any], key: str | None, field: str
) -> None:
    response = _post(_client(world), world, body, key=key)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize("raw", ["[1, 2]", "not json", '{"a": ' * 50, '"text"'])
def test_a_body_that_is_not_an_object_is_a_4xx(world: World, raw: str) -> None:
    response = _client(world).post(
        _base(world), data=raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="nyckel-x1"
    )
    assert 400 <= response.status_code < 500
    assert not Submission.objects.exists()


def test_a_huge_body_is_refused(world: World) -> None:
    response = _post(_client(world), world, _body(contact_name="x" * 3_000_000))
    assert 400 <= response.status_code < 500
    assert not Submission.objects.exists()


def test_unknown_eservice_and_outsiders(world: World) -> None:
    base = f"/api/v1/employers/{world.employer.public_id}/eservices/payroll/submissions"
    assert _client(world).get(base).status_code == 404
    assert Client().get(_base(world)).status_code == 401
    assert _client(world, "other_admin").get(_base(world)).status_code == 403
