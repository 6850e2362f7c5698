"""The BankID RP API v6.0 client against the simulator, over real sockets with mutual TLS."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from portal.identity.bankid import messages
from portal.identity.bankid.client import (
    ERROR_CODES,
    BankIDClient,
    BankIDError,
    OrderRequest,
    Requirement,
    WebContext,
)
from portal.identity.bankid.pki import TestPki
from portal.identity.bankid.simulator import server_ssl_context

FULL_REQUEST = OrderRequest(
    end_user_ip="192.0.2.44",
    requirement=Requirement(
        pin_code=True,
        mrtd=True,
        card_reader="class1",
        certificate_policies=("1.2.752.78.1.5",),
        personal_number="198001011231",
    ),
    user_visible_data="Logga in på **E-tjänster för arbetsgivare**",
    user_non_visible_data=b"\x00binary\xff",
    user_visible_data_format="simpleMarkdownV1",
    return_url="https://portal.example.se/e-legitimation/abc/",
    return_risk=True,
    web=WebContext(
        device_identifier="d" * 64, referring_domain="portal.example.se", user_agent="Mozilla/5.0"
    ),
)


def client_for(pki: TestPki, base_url: str, **kwargs: Any) -> BankIDClient:
    return BankIDClient(
        base_url=base_url,
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key),
        ca_cert=str(pki.ca_cert),
        **kwargs,
    )


@pytest.fixture
def client(bankid: Any, bankid_pki: TestPki) -> Iterator[BankIDClient]:
    bankid_client = client_for(bankid_pki, bankid.api_url, retry_delay=0.01)
    yield bankid_client
    bankid_client.close()


def test_every_request_field_is_sent_in_the_apis_form() -> None:
    body = FULL_REQUEST.as_json()
    assert body == {
        "endUserIp": "192.0.2.44",
        "requirement": {
            "pinCode": True,
            "mrtd": True,
            "cardReader": "class1",
            "certificatePolicies": ["1.2.752.78.1.5"],
            "personalNumber": "198001011231",
        },
        "userVisibleData": base64.b64encode(
            "Logga in på **E-tjänster för arbetsgivare**".encode()
        ).decode(),
        "userNonVisibleData": base64.b64encode(b"\x00binary\xff").decode(),
        "userVisibleDataFormat": "simpleMarkdownV1",
        "returnUrl": "https://portal.example.se/e-legitimation/abc/",
        "returnRisk": True,
        "web": {
            "deviceIdentifier": "d" * 64,
            "referringDomain": "portal.example.se",
            "userAgent": "Mozilla/5.0",
        },
    }
    assert OrderRequest(end_user_ip="::1").as_json() == {"endUserIp": "::1"}


def test_auth_with_every_field_is_accepted_and_completes(client: BankIDClient, bankid: Any) -> None:
    order = client.auth(FULL_REQUEST)
    assert "qr_start_secret" not in repr(order)
    stored = bankid.state._orders[order.order_ref].request
    assert (stored.end_user_ip, stored.personal_number, stored.mrtd, stored.return_risk) == (
        "192.0.2.44",
        "198001011231",
        True,
        True,
    )
    assert stored.return_url == FULL_REQUEST.return_url
    assert client.collect(order.order_ref).status == "pending"
    httpx.post(
        f"{bankid.app_url}/control/orders/{order.order_ref}/approve",
        json={"personalNumber": "198001011231"},
    ).raise_for_status()
    done = client.collect(order.order_ref)
    while done.status == "pending":  # the mrtd step comes first
        done = client.collect(order.order_ref)
    assert done.status == "complete"
    assert done.completion is not None
    assert done.completion.personal_number == "198001011231"
    assert (done.completion.given_name, done.completion.surname) == ("Astrid", "Demosson")
    assert done.completion.ip_address == "192.0.2.44"
    assert done.completion.risk == "low"
    assert done.completion.mrtd_step_up is True
    assert done.completion.signature
    assert done.completion.ocsp_response


def test_sign_needs_visible_text(client: BankIDClient) -> None:
    with pytest.raises(BankIDError) as raised:
        client.sign(OrderRequest(end_user_ip="192.0.2.1"))
    assert raised.value.code == "invalidParameters"
    order = client.sign(OrderRequest(end_user_ip="192.0.2.1", user_visible_data="Jag godkänner."))
    assert client.collect(order.order_ref).status == "pending"


def test_cancel_ends_the_order(client: BankIDClient) -> None:
    order = client.auth(OrderRequest(end_user_ip="192.0.2.1"))
    client.cancel(order.order_ref)
    with pytest.raises(BankIDError) as raised:
        client.collect(order.order_ref)
    assert raised.value.code == "invalidParameters"
    assert raised.value.status == 400


def test_already_in_progress(client: BankIDClient) -> None:
    request = OrderRequest(
        end_user_ip="192.0.2.1", requirement=Requirement(personal_number="198503152343")
    )
    first = client.auth(request)
    with pytest.raises(BankIDError) as raised:
        client.auth(request)
    assert raised.value.code == "alreadyInProgress"
    assert messages.error_message(raised.value.code) == "RFA4"
    assert client.collect(first.order_ref).hint_code == "cancelled"


@pytest.mark.parametrize(
    ("mode", "code", "attempts"),
    [
        ("maintenance", "maintenance", 3),
        ("internalError", "internalError", 1),
        ("tooManyRequests", "tooManyRequests", 1),
        ("unauthorized", "unauthorized", 1),
        ("requestTimeout", "requestTimeout", 3),
    ],
)
def test_errors_are_reported_and_only_retryable_ones_retried(
    client: BankIDClient, bankid: Any, mode: str, code: str, attempts: int
) -> None:
    httpx.post(f"{bankid.app_url}/control/mode", json={"mode": mode}).raise_for_status()
    sent: list[str] = []
    client._http.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    with pytest.raises(BankIDError) as raised:
        client.auth(OrderRequest(end_user_ip="192.0.2.1"))
    assert raised.value.code == code
    assert sent == ["/rp/v6.0/auth"] * attempts


def test_an_unknown_path_is_not_found(bankid: Any, bankid_pki: TestPki) -> None:
    wrong = client_for(bankid_pki, bankid.api_url.replace("/rp/v6.0", "/rp/v5.1"))
    try:
        with pytest.raises(BankIDError) as raised:
            wrong.collect("3b3b9a36-9f2a-4d0f-9e0b-5f3c8b1a2c4d")
        assert raised.value.code == "notFound"
    finally:
        wrong.close()


def test_a_server_with_another_ca_is_refused(
    bankid: Any, bankid_pki: TestPki, tmp_path: Any
) -> None:
    from portal.identity.bankid.pki import ensure_test_pki  # noqa: PLC0415

    other = ensure_test_pki(tmp_path / "other-pki")
    pinned_elsewhere = BankIDClient(
        base_url=bankid.api_url,
        client_cert=str(bankid_pki.client_cert),
        client_key=str(bankid_pki.client_key),
        ca_cert=str(other.ca_cert),
    )
    try:
        with pytest.raises(BankIDError) as raised:
            pinned_elsewhere.auth(OrderRequest(end_user_ip="192.0.2.1"))
        assert raised.value.code == "unavailable"
    finally:
        pinned_elsewhere.close()


class _ProxyErrorHandler(BaseHTTPRequestHandler):
    """Not BankID: a proxy in between that answers with HTML."""

    def do_POST(self) -> None:
        status = int(self.path.rsplit("/", 2)[-2])
        body = b"<html>Bad gateway</html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.mark.parametrize(
    ("status", "code"),
    [(502, "unavailable"), (503, "maintenance"), (500, "internalError"), (418, "unknown")],
)
def test_answers_that_are_not_bankids_json_are_judged_by_status(
    bankid_pki: TestPki, status: int, code: str
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyErrorHandler)
    server.socket = server_ssl_context(bankid_pki).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxied = client_for(
        bankid_pki, f"https://127.0.0.1:{server.server_address[1]}/{status}", retries=0
    )
    try:
        with pytest.raises(BankIDError) as raised:
            proxied.collect("3b3b9a36-9f2a-4d0f-9e0b-5f3c8b1a2c4d")
        assert raised.value.code == code
        assert raised.value.status == status
    finally:
        proxied.close()
        server.shutdown()
        server.server_close()


def test_every_error_code_has_a_message_and_own_faults_are_not_blamed_on_bankid() -> None:
    for code in ERROR_CODES:
        assert messages.error_message(code) in messages.RFA
    for own_fault in (
        "invalidParameters",
        "unauthorized",
        "notFound",
        "methodNotAllowed",
        "unsupportedMediaType",
    ):
        assert messages.error_message(own_fault) == "RFA22"
    assert messages.error_message("aNewCodeFrom2030") == "RFA22"


@pytest.mark.parametrize(
    ("hint", "same_device", "key"),
    [
        ("outstandingTransaction", False, "RFA1"),
        ("outstandingTransaction", True, "RFA13"),
        ("noClient", True, "RFA1"),
        ("started", False, "RFA14A"),
        ("started", True, "RFA14B"),
        ("userMrtd", False, "RFA23"),
        ("userCallConfirm", False, "CALL_CONFIRM"),
        ("userSign", False, "RFA9"),
        ("somethingNew", False, "RFA21"),
    ],
)
def test_pending_hints_map_to_bankids_messages(hint: str, same_device: bool, key: str) -> None:
    assert messages.pending_message(hint, same_device=same_device) == key


@pytest.mark.parametrize(
    ("hint", "same_device", "key"),
    [
        ("expiredTransaction", False, "RFA8"),
        ("certificateErr", False, "RFA16"),
        ("userCancel", False, "RFA6"),
        ("cancelled", False, "RFA3"),
        ("startFailed", True, "RFA17A"),
        ("startFailed", False, "RFA17B"),
        ("userDeclinedCall", False, "RFA6"),
        ("notSupportedByUserApp", False, "UPDATE_APP"),
        ("transactionRiskBlocked", False, "RFA22"),
        ("somethingNew", False, "RFA22"),
    ],
)
def test_failed_hints_map_to_bankids_messages(hint: str, same_device: bool, key: str) -> None:
    assert messages.failed_message(hint, same_device=same_device) == key


def test_messages_exist_in_swedish_and_english() -> None:
    from django.utils import translation  # noqa: PLC0415

    with translation.override("sv"):
        assert messages.text("RFA1") == "Starta BankID-appen."
    with translation.override("en"):
        assert messages.text("RFA1") == "Start your BankID app."
        assert messages.text("RFA5") == "Internal error. Please try again."
    assert messages.text("no-such-key") == messages.text("RFA22")
