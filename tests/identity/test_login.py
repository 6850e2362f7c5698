"""Login with BankID through the portal's pages, against the simulator over real sockets."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import Client

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.identity import services
from portal.identity.backends import PERSON_BACKEND
from portal.identity.bankid.qr import qr_auth_code
from portal.identity.models import EidTransaction, Login, Person, Session
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TOLVAN = "191212121212"
ASTRID = "198001011231"


@pytest.fixture(autouse=True)
def _poll_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    # The two-second collect interval is tested on its own; elsewhere each poll collects.
    monkeypatch.setattr(services, "POLL_INTERVAL", timedelta(0))


def start(client: Client, device: str = "other", next_url: str = "") -> EidTransaction:
    response = client.post("/logga-in/bankid/", {"device": device, "next": next_url})
    assert response.status_code == 302, response.content.decode()[:500]
    match = re.fullmatch(r"/e-legitimation/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    return EidTransaction.objects.get(public_id=match.group(1))


def control(simulator: Any, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    response = httpx.post(f"{simulator.app_url}/control{path}", json=body or {})
    assert response.status_code == 200, response.text
    return response


def status(client: Client, order: EidTransaction) -> dict[str, Any]:
    response = client.get(f"/e-legitimation/{order.public_id}/status")
    assert response.status_code == 200, response.content
    return dict(response.json())


def events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type))


def test_the_login_page_asks_which_device(client: Client, bankid: Any) -> None:
    html = client.get("/logga-in/").content.decode()
    assert "BankID på en annan enhet" in html
    assert "BankID på den här enheten" in html
    assert "Vill du identifiera dig eller skriva under med ett BankID på den här enheten" in html


def test_login_with_a_qr_code_from_start_to_finish(client: Client, bankid: Any) -> None:
    anonymous_session = client.get("/logga-in/").cookies
    order = start(client)
    page = client.get(f"/e-legitimation/{order.public_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert "Starta BankID-appen." in html
    assert order.secrets["qr_start_secret"] not in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html

    first = status(client, order)
    assert first["status"] == "pending"
    assert order.secrets["qr_start_secret"] not in str(first)
    assert first["qr"].startswith("<svg")

    control(bankid, f"/orders/{order.transaction_id}/open", {"personalNumber": TOLVAN})
    assert status(client, order)["message"].startswith("Söker efter BankID")
    session_before = client.cookies[settings.SESSION_COOKIE_NAME].value
    control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": TOLVAN})
    done = status(client, order)
    assert done["redirect"] == "/start/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != session_before, (
        "session id not rotated"
    )
    assert anonymous_session is not None

    account = client.get("/konto/")
    assert account.status_code == 200
    person = Person.objects.get(personal_number=TOLVAN)
    assert person.full_name == "Tolvan Tolvansson"
    assert "Tolvan Tolvansson" in account.content.decode()
    assert "19121212-****" in account.content.decode()
    login = Login.objects.get(person=person)
    assert (login.issuer, login.assurance, login.ip_address) == ("bankid", "loa3", "127.0.0.1")
    assert login.session_key == client.session.session_key
    # Later requests find the person through the portal's backend (one written-out statement).
    assert client.session[BACKEND_SESSION_KEY] == PERSON_BACKEND
    assert [e.event_type for e in AuditEvent.objects.order_by("id")] == [
        EventType.LOGIN_STARTED,
        EventType.LOGIN_SUCCEEDED,
    ]


def test_the_qr_code_is_the_animated_code_bankid_defines(
    client: Client, bankid: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The frames are bankid.<token>.<seconds>.<HMAC>, and the simulator's app accepts one."""
    shown: list[str] = []
    import segno  # noqa: PLC0415

    real_make = segno.make
    monkeypatch.setattr(
        "portal.identity.views.segno.make",
        lambda content, **kw: shown.append(content) or real_make(content, **kw),
    )
    order = start(client)
    status(client, order)
    token, secret = order.secrets["qr_start_token"], order.secrets["qr_start_secret"]
    prefix, frame_token, seconds, code = shown[-1].split(".")
    assert (prefix, frame_token) == ("bankid", token)
    assert code == qr_auth_code(secret, int(seconds))
    scanned = httpx.post(
        f"{bankid.app_url}/scan", data={"qr": shown[-1], "personal_number": ASTRID}
    )
    assert scanned.status_code in (200, 303)
    assert status(client, order)["redirect"] == "/start/"
    assert Person.objects.get(personal_number=ASTRID).given_name == "Astrid"


def test_bankid_on_this_device_links_to_the_app_with_the_autostart_token(
    client: Client, bankid: Any
) -> None:
    order = start(client, device="this")
    html = client.get(f"/e-legitimation/{order.public_id}/").content.decode()
    assert f"{bankid.app_url}/?autostarttoken={order.secrets['auto_start_token']}" in html
    assert "Starta BankID-appen" in html
    assert "<svg" not in html
    assert "Försöker starta BankID-appen." in html


def test_login_returns_to_the_page_asked_for(client: Client, bankid: Any) -> None:
    response = client.get("/konto/")
    assert response.status_code == 302
    assert response["Location"] == "/logga-in/?next=/konto/"
    order = start(client, next_url="/hjalp/")
    control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": TOLVAN})
    assert status(client, order)["redirect"] == "/hjalp/"


def test_next_never_leads_off_the_site(client: Client, bankid: Any) -> None:
    order = start(client, next_url="https://evil.example/")
    assert order.next_url == ""


@pytest.mark.parametrize(
    ("spec", "message", "state", "event"),
    [
        ("userCancel", "Åtgärden avbruten.", "cancelled", EventType.LOGIN_CANCELLED),
        ("expiredTransaction", "BankID-appen svarar inte.", "failed", EventType.LOGIN_FAILED),
        (
            "certificateErr",
            "Det BankID du försöker använda är för gammalt eller spärrat.",
            "failed",
            EventType.LOGIN_FAILED,
        ),
        ("userDeclinedCall", "Åtgärden avbruten.", "failed", EventType.LOGIN_FAILED),
        (
            "notSupportedByUserApp",
            "Din BankID-app behöver uppdateras.",
            "failed",
            EventType.LOGIN_FAILED,
        ),
        ("transactionRiskBlocked", "Okänt fel. Försök igen.", "failed", EventType.LOGIN_FAILED),
    ],
)
def test_each_failure_shows_bankids_message_and_is_audited(
    client: Client, bankid: Any, spec: str, message: str, state: str, event: EventType
) -> None:
    control(bankid, "/scripts", {"personalNumber": ASTRID, "spec": spec})
    order = start(client)
    control(bankid, f"/orders/{order.transaction_id}/open", {"personalNumber": ASTRID})
    result = status(client, order)
    assert result["status"] == state
    assert result["message"].startswith(message)
    page = client.get(f"/e-legitimation/{order.public_id}/").content.decode()
    assert "Försök igen" in page
    assert not client.get("/konto/").wsgi_request.user.is_authenticated
    recorded = events(event)
    assert len(recorded) == 1
    assert recorded[0].data["hint_code"] == spec


def test_start_failed_starts_a_new_order_then_gives_up(client: Client, bankid: Any) -> None:
    control(bankid, "/scripts", {"personalNumber": ASTRID, "spec": "startFailed"})
    order = start(client)
    refs = [order.transaction_id]
    for _ in range(services.MAX_RESTARTS):
        control(bankid, f"/orders/{refs[-1]}/open", {"personalNumber": ASTRID})
        assert status(client, order)["status"] == "pending"
        order.refresh_from_db()
        refs.append(order.transaction_id)
    assert len(set(refs)) == services.MAX_RESTARTS + 1
    control(bankid, f"/orders/{refs[-1]}/open", {"personalNumber": ASTRID})
    result = status(client, order)
    assert result["status"] == "failed"
    assert result["message"].startswith("Misslyckades att läsa av QR-koden.")


def test_a_second_tab_cancels_the_first_order(client: Client, bankid: Any) -> None:
    first = start(client)
    second = start(client)
    first.refresh_from_db()
    assert first.status == EidTransaction.Status.CANCELLED
    assert first.hint_code == "replaced"
    gone = httpx.get(f"{bankid.app_url}/control/orders").json()
    assert first.transaction_id not in str(gone)
    assert second.status == EidTransaction.Status.PENDING


def test_the_same_person_in_two_browsers_gets_rfa3_in_the_older(bankid: Any) -> None:
    older_browser, newer_browser = Client(), Client()
    older, newer = start(older_browser), start(newer_browser)
    control(bankid, f"/orders/{older.transaction_id}/open", {"personalNumber": TOLVAN})
    control(bankid, f"/orders/{newer.transaction_id}/open", {"personalNumber": TOLVAN})
    result = status(older_browser, older)
    assert result["status"] == "cancelled"
    assert result["message"] == "Åtgärden avbruten. Försök igen."
    assert status(newer_browser, newer)["status"] == "pending"


def test_cancel(client: Client, bankid: Any) -> None:
    order = start(client)
    response = client.post(f"/e-legitimation/{order.public_id}/avbryt", follow=True)
    assert "Inloggningen avbröts." in response.content.decode()
    order.refresh_from_db()
    assert order.status == EidTransaction.Status.CANCELLED
    assert events(EventType.LOGIN_CANCELLED)[0].data["reason"] == "user"
    assert httpx.get(
        f"{bankid.app_url}/control/orders"
    ).json() == [] or order.transaction_id not in str(
        httpx.get(f"{bankid.app_url}/control/orders").json()
    )


def test_collect_is_asked_at_most_every_two_seconds(
    client: Client, bankid: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "POLL_INTERVAL", timedelta(seconds=2))
    from portal.identity.bankid.provider import shared_client  # noqa: PLC0415

    calls = []
    real_collect = shared_client().collect
    monkeypatch.setattr(
        shared_client(), "collect", lambda ref: calls.append(ref) or real_collect(ref)
    )
    order = start(client)
    for _ in range(5):
        status(client, order)
    assert len(calls) == 1


def test_forged_foreign_and_malformed_order_ids_are_refused_and_audited(
    client: Client, bankid: Any
) -> None:
    order = start(client)
    stranger = Client()
    stranger.get("/")
    for who, path, reason in [
        (client, "/e-legitimation/7d4a5b7e-5f0a-4c1e-9e6a-0c2b8f3b1a11/", "unknown-order"),
        (client, "/e-legitimation/not-a-uuid/", "malformed-id"),
        (stranger, f"/e-legitimation/{order.public_id}/", "session-mismatch"),
        (stranger, f"/e-legitimation/{order.public_id}/status", "session-mismatch"),
    ]:
        response = who.get(path)
        assert response.status_code == 404, path
        assert "Inloggningen hittades inte" in response.content.decode()
        assert events(EventType.EID_ORDER_REFUSED)[-1].data == {"reason": reason}
    assert stranger.post(f"/e-legitimation/{order.public_id}/avbryt").status_code == 404
    order.refresh_from_db()
    assert order.status == EidTransaction.Status.PENDING


def test_a_finished_order_cannot_be_replayed(client: Client, bankid: Any) -> None:
    order = start(client)
    control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": TOLVAN})
    assert status(client, order)["redirect"] == "/start/"
    replay = client.get(f"/e-legitimation/{order.public_id}/status")
    assert replay.status_code == 404
    assert events(EventType.EID_ORDER_REFUSED)[-1].data == {"reason": "replay"}
    assert Login.objects.count() == 1


def test_an_issuer_the_agency_does_not_allow_is_refused(
    client: Client, bankid: Any, settings: Any
) -> None:
    settings.EID_ALLOWED_ISSUERS = []
    assert "inte tillgänglig" in client.get("/logga-in/").content.decode()
    response = client.post("/logga-in/bankid/", {"device": "other"})
    assert response.status_code == 404
    assert "Den e-legitimationen kan inte användas här." in response.content.decode()
    assert events(EventType.LOGIN_REFUSED)[0].data == {
        "provider": "bankid",
        "reason": "issuer-not-allowed",
    }
    assert not EidTransaction.objects.exists()


def test_a_login_below_the_required_assurance_is_refused_and_audited(
    client: Client, bankid: Any, settings: Any
) -> None:
    order = start(client)
    settings.EID_MIN_ASSURANCE = "loa4"
    control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": TOLVAN})
    result = status(client, order)
    assert result["status"] == "refused"
    assert result["redirect"] == ""
    assert "inte tillräckligt hög tillitsnivå" in result["message"]
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "assurance-too-low"
    assert not Login.objects.exists()


def test_bankid_in_maintenance_gives_rfa5_and_no_500(client: Client, bankid: Any) -> None:
    control(bankid, "/mode", {"mode": "maintenance"})
    response = client.post("/logga-in/bankid/", {"device": "other"})
    assert response.status_code == 503
    assert "Internt tekniskt fel. Försök igen." in response.content.decode()
    assert events(EventType.LOGIN_FAILED)[0].data == {
        "provider": "bankid",
        "error": "maintenance",
        "stage": "start",
    }


def test_bankid_unreachable_gives_rfa5(client: Client, bankid: Any, settings: Any) -> None:
    from portal.identity.bankid.provider import reset_shared_client  # noqa: PLC0415

    settings.BANKID_API_URL = "https://127.0.0.1:9/rp/v6.0"
    reset_shared_client()
    response = client.post("/logga-in/bankid/", {"device": "other"})
    assert response.status_code == 503
    assert "Internt tekniskt fel. Försök igen." in response.content.decode()


def test_slow_bankid_is_given_up_in_bounded_time(
    client: Client, bankid: Any, settings: Any
) -> None:
    import time  # noqa: PLC0415

    from portal.identity.bankid.provider import reset_shared_client  # noqa: PLC0415

    settings.BANKID_TIMEOUT_SECONDS = 1
    reset_shared_client()
    control(bankid, "/mode", {"mode": "slow", "seconds": 3})
    started = time.monotonic()
    response = client.post("/logga-in/bankid/", {"device": "other"})
    assert response.status_code == 503
    # Three tries of one second each, with short pauses between: well under a worker's timeout.
    assert time.monotonic() - started < 8


def test_bankid_failing_while_the_person_waits_is_given_up_after_a_few_tries(
    client: Client, bankid: Any
) -> None:
    order = start(client)
    control(bankid, "/mode", {"mode": "internalError"})
    for _ in range(services.MAX_POLL_FAILURES - 1):
        assert status(client, order)["status"] == "pending"
    result = status(client, order)
    assert result["status"] == "failed"
    assert result["message"] == "Internt tekniskt fel. Försök igen."


def test_logout_ends_the_session(client: Client, bankid: Any) -> None:
    order = start(client)
    control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": TOLVAN})
    status(client, order)
    response = client.post("/logga-ut/", follow=True)
    assert "Du är utloggad." in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert Login.objects.get().end_reason == "logout"
    assert events(EventType.SESSION_ENDED)[0].data == {"reason": "logout"}


def test_log_out_everywhere_ends_the_other_sessions_too(bankid: Any) -> None:
    phone, laptop = Client(), Client()
    for browser in (phone, laptop):
        order = start(browser)
        control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": TOLVAN})
        status(browser, order)
        assert browser.get("/konto/").status_code == 200
    response = laptop.post("/logga-ut/overallt/", follow=True)
    assert "Du är utloggad på alla enheter (2 sessioner)." in response.content.decode()
    assert phone.get("/konto/").status_code == 302
    assert laptop.get("/konto/").status_code == 302
    assert events(EventType.SESSIONS_ENDED_EVERYWHERE)[0].data == {"sessions": 2}


def test_log_out_everywhere_ends_a_session_without_a_login_record(bankid: Any) -> None:
    """A session that names the person ends too, though no login record holds its key (its
    record purged, say); another person's session stays."""
    laptop, tablet, someone = Client(), Client(), Client()
    order = start(laptop)
    control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": TOLVAN})
    status(laptop, order)
    person = Login.objects.get().person
    tablet.force_login(person, backend=PERSON_BACKEND)
    someone.force_login(PersonFactory(), backend=PERSON_BACKEND)
    for browser in (tablet, someone):
        assert browser.get("/konto/").status_code == 200
    response = laptop.post("/logga-ut/overallt/", follow=True)
    assert "Du är utloggad på alla enheter (2 sessioner)." in response.content.decode()
    assert tablet.get("/konto/").status_code == 302
    assert someone.get("/konto/").status_code == 200
    assert not Session.objects.filter(person=person).exists()


def test_logout_needs_a_post(client: Client, person: Any) -> None:
    client.force_login(person)
    assert client.get("/logga-ut/").status_code == 405


def test_a_person_with_a_coordination_number_logs_in(client: Client, bankid: Any) -> None:
    order = start(client)
    control(bankid, f"/orders/{order.transaction_id}/approve", {"personalNumber": "197001632392"})
    assert status(client, order)["redirect"] == "/start/"
    person = Person.objects.get(personal_number="197001632392")
    assert person.full_name == "Dragan Testović"
    assert "19700163-****" in client.get("/konto/").content.decode()
