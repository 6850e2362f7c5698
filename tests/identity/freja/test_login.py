"""Logging in with Freja eID+ through the portal's own pages, against the simulator over real
sockets: the QR code, the app on this device, approval, a declined login and a forged answer."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from portal.audit.constants import EventType
from portal.identity import services
from portal.identity.models import EidTransaction, Login
from tests.access.world import events

pytestmark = pytest.mark.django_db

TOLVAN = "191212121212"


@pytest.fixture(autouse=True)
def _poll_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "POLL_INTERVAL", timedelta(0))


def start(client: Client, device: str = "other") -> EidTransaction:
    response = client.post("/logga-in/freja/", {"device": device, "next": "/konto/"})
    assert response.status_code == 302, response.content.decode()[:500]
    match = re.fullmatch(r"/e-legitimation/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    return EidTransaction.objects.get(public_id=match.group(1))


def test_the_login_page_offers_freja(client: Client, freja_settings: Any) -> None:
    html = client.get("/logga-in/").content.decode()
    assert "Freja eID+ på en annan enhet" in html
    assert 'action="/logga-in/freja/"' in html


def test_a_person_logs_in_with_freja_by_qr_code(client: Client, freja_settings: Any) -> None:
    simulator = freja_settings
    order = start(client)
    page = client.get(f"/e-legitimation/{order.public_id}/").content.decode()
    assert "Logga in med Freja eID+" in page
    assert "portal-qr__image" in page
    simulator.state.approve(order.transaction_id, TOLVAN)
    result = client.get(f"/e-legitimation/{order.public_id}/status").json()
    assert result["redirect"] == "/konto/"
    login = Login.objects.get()
    assert (login.issuer, login.assurance, login.person.personal_number) == (
        "freja",
        "loa3",
        TOLVAN,
    )
    (succeeded,) = events(EventType.LOGIN_SUCCEEDED)
    assert succeeded.data["transaction"] == order.transaction_id
    assert succeeded.data["issuer"] == "freja"


def test_on_this_device_the_page_opens_the_app(client: Client, freja_settings: Any) -> None:
    simulator = freja_settings
    order = start(client, device="this")
    page = client.get(f"/e-legitimation/{order.public_id}/").content.decode()
    assert "Öppna Freja eID-appen" in page
    assert simulator.app_url in page
    assert "portal-qr__image" not in page


def test_a_declined_login_is_cancelled(client: Client, freja_settings: Any) -> None:
    simulator = freja_settings
    order = start(client)
    simulator.state.decline(order.transaction_id)
    result = client.get(f"/e-legitimation/{order.public_id}/status").json()
    assert result["status"] == "cancelled"
    assert not Login.objects.exists()
    assert len(events(EventType.LOGIN_CANCELLED)) == 1


def test_a_foreign_freja_identity_without_a_swedish_number_is_refused(
    client: Client, freja_settings: Any
) -> None:
    simulator = freja_settings
    order = start(client)
    simulator.state.approve(order.transaction_id, "123456789", country="NO")
    result = client.get(f"/e-legitimation/{order.public_id}/status").json()
    assert result["status"] == "refused"
    assert "inget personnummer" in result["message"]
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "missing-personal-number"
    assert not Login.objects.exists()
