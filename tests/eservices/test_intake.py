"""The intake feed: every received submission reaches the agency's systems once, in a fixed
order, through a reader that may be down for a while."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.eservices.intake import intake_client_create, intake_publish
from portal.eservices.models import IntakeMessage
from tests.access.world import World
from tests.api.test_eservices_api import _body, _post


def _submit(world: World, n: int) -> None:
    client = Client()
    client.force_login(world.people["user_submit"])
    for i in range(n):
        number = ["198503152343", "191212121212", "199006223458", "198001011231"][i]
        response = _post(
            client, world, _body(employee_personal_number=number), key=f"intake-{i:04}"
        )
        assert response.status_code == 201, response.content


def _reader(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_a_reader_gets_every_submission_once_in_order_and_resumes(world: World) -> None:
    _client, secret = intake_client_create(name="Handläggningssystemet")
    _submit(world, 3)
    assert IntakeMessage.objects.count() == 3
    reader = _reader(secret)
    feed = reader.get("/api/v1/intake/messages?limit=2").json()
    assert [m["position"] for m in feed["items"]] == [1, 2]
    assert feed["items"][0]["employer"]["organisation_number"] == world.employer.organisation_number
    assert feed["items"][0]["content"]["extent"] == "half"
    # The reader goes down before acknowledging: it gets the same messages again.
    again = reader.get("/api/v1/intake/messages?limit=2").json()
    assert [m["position"] for m in again["items"]] == [1, 2]
    ack = reader.post(
        "/api/v1/intake/acknowledgements", {"position": 2}, content_type="application/json"
    )
    assert ack.json()["acknowledged"] == 2
    rest = reader.get("/api/v1/intake/messages").json()
    assert [m["position"] for m in rest["items"]] == [3]
    assert (
        reader.get("/api/v1/intake/messages?after=0&limit=500").json()["items"][0]["position"] == 1
    )
    # Acknowledgements never go back, and cannot go beyond the feed.
    reader.post("/api/v1/intake/acknowledgements", {"position": 1}, content_type="application/json")
    assert reader.get("/api/v1/intake/messages").json()["acknowledged"] == 2
    beyond = reader.post(
        "/api/v1/intake/acknowledgements", {"position": 99}, content_type="application/json"
    )
    assert beyond.status_code == 422
    assert beyond["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.filter(event_type=EventType.INTAKE_READ).exists()
    assert AuditEvent.objects.filter(event_type=EventType.INTAKE_ACKNOWLEDGED).count() == 1


def test_positions_are_contiguous_and_never_change(world: World) -> None:
    _submit(world, 2)
    intake_publish()  # the background task may have done it already
    first = dict(IntakeMessage.objects.values_list("id", "position"))
    assert sorted(first.values()) == [1, 2]
    intake_publish()
    assert dict(IntakeMessage.objects.values_list("id", "position")) == first


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "Basic abc"}],
)
def test_without_a_valid_credential_the_feed_is_closed(
    world: World, headers: dict[str, str]
) -> None:
    intake_client_create(name="System")
    _submit(world, 1)
    assert Client(**headers).get("/api/v1/intake/messages").status_code == 401
    # A person's session is not a client credential either.
    person = Client()
    person.force_login(world.people["admin"])
    assert person.get("/api/v1/intake/messages").status_code == 401


def test_the_command_prints_the_secret_once(db: Any, capsys: Any) -> None:
    call_command("intake_client", "Ärendesystemet")
    out = capsys.readouterr().out
    secret = out.rsplit(": ", 1)[1].strip()
    assert _reader(secret).get("/api/v1/intake/messages").status_code == 200
    assert AuditEvent.objects.filter(event_type=EventType.INTAKE_CLIENT_CREATED).exists()
