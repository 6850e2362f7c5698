"""The Freja client against the simulator, over real sockets with mutual TLS."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from portal.identity.freja.client import (
    AnswerRefused,
    AuthRequest,
    FrejaClient,
    FrejaError,
    encode_parameter,
)
from portal.identity.freja.pki import FrejaTestPki
from portal.identity.freja.simulator import AppError, RunningFrejaSimulator
from tests.identity.freja.conftest import make_client
from tests.support.server import free_port

TOLVAN = "191212121212"
ASTRID = "198001011231"
BERTIL = "198503152343"


def test_the_body_is_one_parameter_holding_base64_of_json() -> None:
    body = encode_parameter("initAuthRequest", AuthRequest().as_json())
    name, _, value = body.partition("=")
    assert name == "initAuthRequest"
    assert json.loads(base64.b64decode(value, validate=True)) == {
        "userInfoType": "INFERRED",
        "userInfo": "N/A",
        "minRegistrationLevel": "PLUS",
        "attributesToReturn": [
            {"attribute": "BASIC_USER_INFO"},
            {"attribute": "SSN"},
            {"attribute": "REGISTRATION_LEVEL"},
            {"attribute": "RELYING_PARTY_USER_ID"},
        ],
    }


def test_an_ssn_request_carries_base64_json_of_country_and_number() -> None:
    user_info = AuthRequest(user_info_type="SSN", ssn=TOLVAN).as_json()["userInfo"]
    assert json.loads(base64.b64decode(user_info)) == {"country": "SE", "ssn": TOLVAN}
    with pytest.raises(ValueError, match="ssn"):
        AuthRequest(user_info_type="SSN").as_json()


def test_happy_path_started_delivered_approved(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = freja_client.init_authentication()
    assert freja_client.get_one_result(auth_ref).status == "STARTED"
    freja_simulator.state.open_transaction(auth_ref, TOLVAN)
    pending = freja_client.get_one_result(auth_ref)
    assert pending.status == "DELIVERED_TO_MOBILE"
    assert pending.pending
    assert pending.user is None
    freja_simulator.state.approve(auth_ref)

    result = freja_client.get_one_result(auth_ref, expected_user_info_type="INFERRED")

    assert result.status == "APPROVED"
    assert not result.pending
    assert result.details.count(".") == 2
    user = result.user
    assert user is not None
    assert (user.ssn, user.country) == (TOLVAN, "SE")
    assert (user.given_name, user.surname) == ("Tolvan", "Tolvansson")
    assert user.registration_level == "PLUS"
    assert user.user_info_type == "INFERRED"
    assert user.relying_party_user_id
    assert abs(user.timestamp / 1000 - time.time()) < 60


def test_an_ssn_directed_transaction_is_delivered_at_once_and_approved_by_that_person(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = freja_client.init_authentication(AuthRequest(user_info_type="SSN", ssn=ASTRID))
    assert freja_client.get_one_result(auth_ref).status == "DELIVERED_TO_MOBILE"
    freja_simulator.state.approve(auth_ref)
    user = freja_client.get_one_result(auth_ref, expected_user_info_type="SSN").user
    assert user is not None
    assert user.ssn == ASTRID


def test_the_person_declines_canceled(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = freja_client.init_authentication()
    freja_simulator.state.open_transaction(auth_ref, TOLVAN)
    freja_simulator.state.decline(auth_ref)
    result = freja_client.get_one_result(auth_ref)
    assert (result.status, result.details, result.user) == ("CANCELED", "", None)


def test_rejected_for_security_reasons(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = freja_client.init_authentication()
    freja_simulator.state.reject(auth_ref)
    assert freja_client.get_one_result(auth_ref).status == "REJECTED"


def test_a_second_transaction_for_the_same_person_stops_both(
    freja_client: FrejaClient,
) -> None:
    first = freja_client.init_authentication(AuthRequest(user_info_type="SSN", ssn=ASTRID))
    with pytest.raises(FrejaError) as raised:
        freja_client.init_authentication(AuthRequest(user_info_type="SSN", ssn=ASTRID))
    assert (raised.value.code, raised.value.freja_code, raised.value.status) == (
        "authInitFailed",
        2000,
        422,
    )
    assert not raised.value.transient
    assert freja_client.get_one_result(first).status == "REJECTED"


def test_binding_a_person_rejects_their_other_pending_transaction(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    first, second = freja_client.init_authentication(), freja_client.init_authentication()
    freja_simulator.state.open_transaction(first, BERTIL)
    freja_simulator.state.open_transaction(second, BERTIL)
    assert freja_client.get_one_result(first).status == "REJECTED"
    assert freja_client.get_one_result(second).status == "DELIVERED_TO_MOBILE"


def test_nobody_answers_expired(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    freja_simulator.state.transaction_ttl = 0.05
    auth_ref = freja_client.init_authentication()
    time.sleep(0.1)
    assert freja_client.get_one_result(auth_ref).status == "EXPIRED"


def test_cancel_rp_canceled_and_a_second_cancel_is_an_invalid_reference(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = freja_client.init_authentication()
    freja_client.cancel(auth_ref)
    assert freja_client.get_one_result(auth_ref).status == "RP_CANCELED"
    with pytest.raises(FrejaError) as raised:
        freja_client.cancel(auth_ref)
    assert (raised.value.code, raised.value.freja_code) == ("invalidReference", 1100)
    with pytest.raises(AppError, match="väntar inte längre"):
        freja_simulator.state.approve(auth_ref, TOLVAN)


def test_an_unknown_or_forgotten_reference_is_error_1100(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    with pytest.raises(FrejaError) as raised:
        freja_client.get_one_result("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert (raised.value.code, raised.value.status, raised.value.transient) == (
        "invalidReference",
        422,
        False,
    )
    freja_simulator.state.finished_retention = 0
    auth_ref = freja_client.init_authentication()
    freja_simulator.state.decline(auth_ref)
    time.sleep(0.01)
    with pytest.raises(FrejaError, match="invalidReference"):
        freja_client.get_one_result(auth_ref)


def test_an_ssn_unknown_to_freja_is_error_1012(freja_client: FrejaClient) -> None:
    with pytest.raises(FrejaError) as raised:
        freja_client.init_authentication(AuthRequest(user_info_type="SSN", ssn="199001012385"))
    assert (raised.value.code, raised.value.freja_code) == ("nonExistingUser", 1012)


def test_a_service_behind_a_failing_load_balancer_is_transient(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    freja_simulator.state.set_mode("unavailable")
    with pytest.raises(FrejaError) as raised:
        freja_client.init_authentication()
    assert (raised.value.code, raised.value.status, raised.value.transient) == (
        "unavailable",
        503,
        True,
    )


def test_freja_internal_error_is_transient(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    freja_simulator.state.set_mode("internalError")
    with pytest.raises(FrejaError) as raised:
        freja_client.get_one_result("AAAAAAAAAAAAAAAAAAAAAAAA")
    assert (raised.value.code, raised.value.freja_code, raised.value.transient) == (
        "internalError",
        0,
        True,
    )


def test_a_slow_service_times_out_transiently(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki
) -> None:
    freja_simulator.state.set_mode("slow", 2)
    client = make_client(freja_simulator, freja_pki, timeout=0.3)
    try:
        with pytest.raises(FrejaError) as raised:
            client.init_authentication()
    finally:
        client.close()
    assert (raised.value.code, raised.value.transient) == ("unavailable", True)


def test_nothing_listening_is_transient(freja_pki: FrejaTestPki) -> None:
    client = FrejaClient(
        base_url=f"https://127.0.0.1:{free_port()}",
        client_cert=str(freja_pki.client_cert),
        client_key=str(freja_pki.client_key),
        ca_cert=str(freja_pki.ca_cert),
        signing_cert=str(freja_pki.signing_cert),
        retries=0,
    )
    try:
        with pytest.raises(FrejaError) as raised:
            client.init_authentication()
    finally:
        client.close()
    assert (raised.value.code, raised.value.transient) == ("unavailable", True)


def test_starting_is_retried_after_a_transient_failure(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki, monkeypatch: Any
) -> None:
    client = make_client(freja_simulator, freja_pki, retries=2, retry_delay=0)
    original = client._post
    calls: list[str] = []

    def fail_once(path: str, body: str) -> dict[str, Any]:
        calls.append(path)
        try:
            return original(path, body)
        finally:
            # Freja recovers after the first (failed) call.
            freja_simulator.state.set_mode("normal")

    monkeypatch.setattr(client, "_post", fail_once)
    freja_simulator.state.set_mode("internalError")
    try:
        assert client.init_authentication()
    finally:
        client.close()
    assert len(calls) == 2


def test_a_refusal_is_not_retried(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki, monkeypatch: Any
) -> None:
    client = make_client(freja_simulator, freja_pki, retries=2, retry_delay=0)
    original = client._post
    calls: list[str] = []

    def counting(path: str, body: str) -> dict[str, Any]:
        calls.append(path)
        return original(path, body)

    monkeypatch.setattr(client, "_post", counting)
    try:
        with pytest.raises(FrejaError, match="nonExistingUser"):
            client.init_authentication(AuthRequest(user_info_type="SSN", ssn="199001012385"))
    finally:
        client.close()
    assert len(calls) == 1


def test_a_server_certificate_from_another_ca_is_refused(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki, tmp_path: Any
) -> None:
    from portal.identity.bankid.pki import ensure_test_pki  # noqa: PLC0415

    other = ensure_test_pki(tmp_path / "other")
    client = FrejaClient(
        base_url=freja_simulator.api_url,
        client_cert=str(freja_pki.client_cert),
        client_key=str(freja_pki.client_key),
        ca_cert=str(other.ca_cert),
        signing_cert=str(freja_pki.signing_cert),
        retries=0,
    )
    try:
        with pytest.raises(FrejaError) as raised:
            client.init_authentication()
    finally:
        client.close()
    assert raised.value.code == "unavailable"


def test_the_client_needs_a_signing_certificate(freja_pki: FrejaTestPki) -> None:
    with pytest.raises(ValueError, match="signing certificate"):
        FrejaClient(
            base_url="https://127.0.0.1:1",
            client_cert=str(freja_pki.client_cert),
            client_key=str(freja_pki.client_key),
            ca_cert=str(freja_pki.ca_cert),
        )


# --- Forged or mismatched results, over the wire -------------------------------------------------


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ("wrong-key", "bad-signature"),
        ("unknown-certificate", "unknown-certificate"),
        ("tampered-payload", "bad-signature"),
        ("other-auth-ref", "auth-ref-mismatch"),
        ("answer-auth-ref", "auth-ref-mismatch"),
        ("status-mismatch", "status-mismatch"),
        ("alg-none", "wrong-algorithm"),
        ("unsigned", "unsigned-answer"),
        ("low-registration-level", "registration-level-too-low"),
        ("stale", "stale-answer"),
    ],
)
def test_a_forged_or_mismatched_result_is_refused(
    freja_client: FrejaClient,
    freja_simulator: RunningFrejaSimulator,
    forgery: str,
    reason: str,
) -> None:
    auth_ref = freja_client.init_authentication()
    freja_simulator.state.approve(auth_ref, TOLVAN)
    freja_simulator.state.set_forgery(forgery)
    with pytest.raises(AnswerRefused) as raised:
        freja_client.get_one_result(auth_ref)
    assert raised.value.code == reason
    assert not raised.value.transient


def test_a_result_for_another_user_info_type_is_refused(
    freja_client: FrejaClient, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = freja_client.init_authentication()
    freja_simulator.state.approve(auth_ref, TOLVAN)
    with pytest.raises(AnswerRefused, match="user-info-type-mismatch"):
        freja_client.get_one_result(auth_ref, expected_user_info_type="SSN")


def test_a_malformed_answer_is_refused_not_crashed(
    freja_client: FrejaClient, monkeypatch: Any
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("initAuthentication"):
            return httpx.Response(200, json={"authRef": 42})
        if request.url.path.endswith("getOneResult"):
            return httpx.Response(200, json={"authRef": "x" * 20, "status": "MAYBE"})
        return httpx.Response(200, text="not json")

    monkeypatch.setattr(freja_client, "_http", httpx.Client(transport=httpx.MockTransport(answer)))
    with pytest.raises(AnswerRefused, match="malformed-answer"):
        freja_client.init_authentication()
    with pytest.raises(AnswerRefused, match="malformed-answer"):
        freja_client.get_one_result("x" * 20)
    with pytest.raises(AnswerRefused, match="malformed-answer"):
        freja_client.cancel("x" * 20)


def test_an_error_answer_that_is_not_freja_json_is_judged_by_its_status(
    freja_client: FrejaClient, monkeypatch: Any
) -> None:
    statuses = iter([429, 404, 502])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(statuses), text="<html>nope</html>")

    monkeypatch.setattr(freja_client, "_http", httpx.Client(transport=httpx.MockTransport(answer)))
    expected = [("tooManyRequests", True), ("unknown", False), ("unavailable", True)]
    for code, transient in expected:
        with pytest.raises(FrejaError) as raised:
            freja_client.cancel("x" * 20)
        assert (raised.value.code, raised.value.transient) == (code, transient)


def test_cancel_accepts_no_content(freja_client: FrejaClient, monkeypatch: Any) -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(204))
    monkeypatch.setattr(freja_client, "_http", httpx.Client(transport=transport))
    freja_client.cancel("x" * 20)
