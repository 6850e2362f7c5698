"""The Freja simulator over real sockets: the API with mutual TLS, the test app, the PKI and the
management command."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from django.core.management import CommandError, call_command

from portal.identity.bankid.pki import ensure_test_pki
from portal.identity.demo import DEMO_PEOPLE
from portal.identity.freja.client import FrejaClient, encode_parameter
from portal.identity.freja.jws import index_certificates, verify_details
from portal.identity.freja.pki import FrejaTestPki, ensure_freja_pki
from portal.identity.freja.provider import app_link
from portal.identity.freja.simulator import (
    FrejaSimulatorState,
    RunningFrejaSimulator,
    parse_parameter,
)
from tests.identity.freja.conftest import relying_party_context
from tests.support.server import VENV_BIN, free_port, portal_env

TOLVAN = "191212121212"
DRAGAN = "197001632392"
INIT = "/authentication/1.0/initAuthentication"
RESULT = "/authentication/1.0/getOneResult"
CANCEL = "/authentication/1.0/cancel"


def b64(data: Any) -> str:
    text = data if isinstance(data, str) else json.dumps(data)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def inferred(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "userInfoType": "INFERRED",
        "userInfo": "N/A",
        "minRegistrationLevel": "PLUS",
        "attributesToReturn": [{"attribute": "BASIC_USER_INFO"}, {"attribute": "SSN"}],
    }
    body.update(changes)
    return body


@pytest.fixture
def rp(freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki) -> Iterator[httpx.Client]:
    """A raw httpx client for the API, set up as the relying party."""
    with httpx.Client(
        base_url=freja_simulator.api_url, verify=relying_party_context(freja_pki), timeout=10
    ) as client:
        yield client


def post(rp: httpx.Client, path: str, name: str, payload: Any) -> httpx.Response:
    return rp.post(path, content=f"{name}={b64(payload)}")


def start(rp: httpx.Client, **changes: Any) -> str:
    response = post(rp, INIT, "initAuthRequest", inferred(**changes))
    assert response.status_code == 200, response.text
    return str(response.json()["authRef"])


def result(rp: httpx.Client, auth_ref: str) -> dict[str, Any]:
    response = post(rp, RESULT, "getOneAuthResultRequest", {"authRef": auth_ref})
    assert response.status_code == 200, response.text
    return dict(response.json())


def error_of(response: httpx.Response) -> tuple[int, int]:
    return response.status_code, int(response.json()["code"])


# --- Mutual TLS -----------------------------------------------------------------------------------


def test_without_a_client_certificate_the_api_refuses_the_connection(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki
) -> None:
    context = relying_party_context(freja_pki, with_certificate=False)
    with (
        httpx.Client(base_url=freja_simulator.api_url, verify=context, timeout=5) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post(INIT, content=f"initAuthRequest={b64(inferred())}")


def test_a_client_certificate_from_another_ca_is_refused(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki, tmp_path: Path
) -> None:
    stranger = ensure_test_pki(tmp_path / "stranger")
    context = relying_party_context(freja_pki, with_certificate=False)
    context.load_cert_chain(stranger.client_cert, stranger.client_key)
    with (
        httpx.Client(base_url=freja_simulator.api_url, verify=context, timeout=5) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post(INIT, content=f"initAuthRequest={b64(inferred())}")


# --- The API's answers ----------------------------------------------------------------------------


def test_an_approved_result_carries_a_jws_signed_by_the_pki_signing_certificate(
    rp: httpx.Client, freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki
) -> None:
    auth_ref = start(rp, attributesToReturn=[{"attribute": name} for name in (
        "BASIC_USER_INFO", "SSN", "REGISTRATION_LEVEL", "DATE_OF_BIRTH", "AGE",
        "EMAIL_ADDRESS", "RELYING_PARTY_USER_ID", "CUSTOM_IDENTIFIER",
    )])  # fmt: skip
    assert result(rp, auth_ref) == {"authRef": auth_ref, "status": "STARTED"}
    freja_simulator.state.approve(auth_ref, DRAGAN)
    answer = result(rp, auth_ref)
    assert answer["status"] == "APPROVED"
    pinned = index_certificates(
        [x509.load_pem_x509_certificate(freja_pki.signing_cert.read_bytes())]
    )
    signed = verify_details(answer["details"], pinned)
    assert signed["authRef"] == auth_ref
    assert signed["userInfoType"] == "INFERRED"
    assert signed["userInfo"] == "N/A"
    assert signed["minRegistrationLevel"] == "PLUS"
    attributes = signed["requestedAttributes"]
    assert attributes["basicUserInfo"] == {"name": "Dragan", "surname": "Testović"}
    assert attributes["ssn"] == {"ssn": DRAGAN, "country": "SE"}
    assert attributes["registrationLevel"] == "PLUS"
    # A coordination number: the day of birth is the day minus 60.
    assert attributes["dateOfBirth"] == "1970-01-03"
    assert isinstance(attributes["age"], int)
    assert attributes["emailAddress"] == "dragan@example.se"
    assert len(attributes["relyingPartyUserId"]) == 64
    # The unsigned copy next to details says the same.
    assert answer["requestedAttributes"] == attributes


def test_only_requested_attributes_are_returned(
    rp: httpx.Client, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = start(rp, attributesToReturn=[{"attribute": "BASIC_USER_INFO"}])
    freja_simulator.state.approve(auth_ref, TOLVAN)
    assert result(rp, auth_ref)["requestedAttributes"] == {
        "basicUserInfo": {"name": "Tolvan", "surname": "Tolvansson"}
    }


def test_a_percent_encoded_body_and_a_json_content_type_are_accepted(rp: httpx.Client) -> None:
    value = quote(b64(inferred()), safe="")
    response = rp.post(
        INIT,
        content=f"initAuthRequest={value}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", (400, 1000)),
        ("somethingElse=e30=", (400, 1000)),
        ("initAuthRequest=", (400, 1000)),
        ("initAuthRequest=e30=&initAuthRequest=e30=", (400, 1000)),
        ("initAuthRequest=not*base64", (400, 1010)),
        (f"initAuthRequest={b64('{not json')}", (400, 1010)),
        (f"initAuthRequest={b64('[1, 2]')}", (400, 1010)),
        ("initAuthRequest=" + b64('{"a": NaN}'), (400, 1010)),
    ],
)
def test_malformed_bodies_are_refused_with_freja_codes(
    rp: httpx.Client, body: str, expected: tuple[int, int]
) -> None:
    assert error_of(rp.post(INIT, content=body)) == expected


def test_a_body_that_is_not_ascii_is_invalid_parameters(rp: httpx.Client) -> None:
    assert error_of(rp.post(INIT, content="initAuthRequest=é".encode())) == (400, 1000)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"userInfoType": None}, (400, 1001)),
        ({"userInfoType": "EMAIL", "userInfo": "a@example.se"}, (400, 1001)),
        ({"userInfo": None}, (400, 1002)),
        ({"userInfo": "x" * 300}, (400, 1002)),
        ({"userInfo": "someone"}, (400, 1002)),
        ({"userInfoType": "SSN", "userInfo": "not base64!"}, (400, 1002)),
        ({"userInfoType": "SSN", "userInfo": b64({"country": "SE"})}, (400, 1002)),
        ({"userInfoType": "SSN", "userInfo": b64({"country": "US", "ssn": TOLVAN})}, (400, 1002)),
        ({"userInfoType": "SSN", "userInfo": b64({"country": "SE", "ssn": "191212121213"})}, (400, 1002)),
        ({"userInfoType": "SSN", "userInfo": b64(["SE", TOLVAN])}, (400, 1002)),
        ({"userInfoType": "SSN", "userInfo": b64({"country": "NO", "ssn": TOLVAN})}, (422, 1012)),
        ({"minRegistrationLevel": "GOLD"}, (400, 1007)),
        ({"attributesToReturn": "SSN"}, (400, 2002)),
        ({"attributesToReturn": [{"attribute": "SHOE_SIZE"}]}, (400, 2002)),
        ({"attributesToReturn": ["SSN"]}, (400, 2002)),
        ({"minRegistrationLevel": "BASIC"}, (400, 2002)),
    ],
)  # fmt: skip
def test_invalid_initiations_are_refused_with_freja_codes(
    rp: httpx.Client, changes: dict[str, Any], expected: tuple[int, int]
) -> None:
    body = {key: value for key, value in inferred(**changes).items() if value is not None}
    assert error_of(post(rp, INIT, "initAuthRequest", body)) == expected


def test_missing_or_unknown_auth_refs_are_refused(rp: httpx.Client) -> None:
    assert error_of(post(rp, RESULT, "getOneAuthResultRequest", {})) == (400, 1000)
    assert error_of(post(rp, RESULT, "getOneAuthResultRequest", {"authRef": 7})) == (400, 1000)
    unknown = {"authRef": "A" * 64}
    assert error_of(post(rp, RESULT, "getOneAuthResultRequest", unknown)) == (422, 1100)
    assert error_of(post(rp, CANCEL, "cancelAuthRequest", unknown)) == (422, 1100)
    # The parameter must be the one of the path.
    auth_ref = start(rp)
    assert error_of(post(rp, RESULT, "cancelAuthRequest", {"authRef": auth_ref})) == (400, 1000)


def test_cancel_answers_an_empty_object_and_the_result_becomes_rp_canceled(
    rp: httpx.Client,
) -> None:
    auth_ref = start(rp)
    response = post(rp, CANCEL, "cancelAuthRequest", {"authRef": auth_ref})
    assert (response.status_code, response.json()) == (200, {})
    assert result(rp, auth_ref)["status"] == "RP_CANCELED"


def test_other_paths_and_methods(rp: httpx.Client) -> None:
    assert rp.post("/authentication/1.0/getResults", content="x=y").status_code == 404
    assert rp.get(INIT).status_code == 405


def test_parse_parameter_takes_the_base64_as_sent() -> None:
    # "+" and "/" are base64 characters here, not a form's space.
    payload = {"text": "ÿÿÿ???>>>"}
    encoded = encode_parameter("p", payload)
    assert "+" in encoded or "/" in encoded
    assert parse_parameter(encoded.encode(), "p") == payload


def test_an_internal_error_and_an_unavailable_service(
    rp: httpx.Client, freja_simulator: RunningFrejaSimulator
) -> None:
    freja_simulator.state.set_mode("internalError")
    assert error_of(post(rp, INIT, "initAuthRequest", inferred())) == (500, 0)
    freja_simulator.state.set_mode("unavailable")
    response = post(rp, INIT, "initAuthRequest", inferred())
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html"
    freja_simulator.state.set_mode("normal")
    assert start(rp)


def test_modes_and_forgeries_are_validated(freja_simulator: RunningFrejaSimulator) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        freja_simulator.state.set_mode("sometimes")
    with pytest.raises(ValueError, match="seconds"):
        freja_simulator.state.set_mode("slow", -1)
    with pytest.raises(ValueError, match="unknown forgery"):
        freja_simulator.state.set_forgery("everything")


def test_expiry_and_retention_with_a_clock(freja_pki: FrejaTestPki) -> None:
    now = [1000.0]
    state = FrejaSimulatorState(pki=freja_pki, people=DEMO_PEOPLE, clock=lambda: now[0])
    auth_ref = state.init_authentication(inferred())["authRef"]
    now[0] += 119
    assert state.get_one_result({"authRef": auth_ref})["status"] == "STARTED"
    now[0] += 1
    assert state.get_one_result({"authRef": auth_ref})["status"] == "EXPIRED"
    now[0] += 600
    assert state.get_one_result({"authRef": auth_ref})["status"] == "EXPIRED"
    now[0] += 1
    with pytest.raises(Exception, match="1100"):
        state.get_one_result({"authRef": auth_ref})


def test_a_person_below_the_required_level_cannot_approve(
    freja_simulator: RunningFrejaSimulator, rp: httpx.Client
) -> None:
    auth_ref = start(rp)
    with pytest.raises(Exception, match="registreringsnivå PLUS"):
        freja_simulator.state.approve(auth_ref, TOLVAN, registration_level="EXTENDED")
    assert result(rp, auth_ref)["status"] == "DELIVERED_TO_MOBILE"


def test_personal_numbers_are_masked_in_the_log(
    rp: httpx.Client, freja_simulator: RunningFrejaSimulator, caplog: Any
) -> None:
    caplog.set_level("DEBUG", logger="portal.freja.simulator")
    auth_ref = start(rp, userInfoType="SSN", userInfo=b64({"country": "SE", "ssn": TOLVAN}))
    freja_simulator.state.approve(auth_ref)
    result(rp, auth_ref)
    assert "19121212-****" in caplog.text
    assert TOLVAN not in caplog.text


# --- The test app and its control API -------------------------------------------------------------


def test_the_list_shows_pending_transactions_and_links_to_their_pages(
    freja_app: httpx.Client, rp: httpx.Client
) -> None:
    assert "Inga väntande transaktioner" in freja_app.get("/").text
    auth_ref = start(rp)
    page = freja_app.get("/")
    assert page.status_code == 200
    assert f'href="/transactions/{auth_ref}"' in page.text
    assert "Content-Security-Policy" in page.headers
    transaction = freja_app.get(f"/transactions/{auth_ref}")
    assert transaction.status_code == 200
    for person in DEMO_PEOPLE:
        assert person.given_name in transaction.text
    assert "Godkänn" in transaction.text


def test_approving_in_the_test_app(
    freja_app: httpx.Client, rp: httpx.Client, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = start(rp)
    opened = freja_app.post(f"/transactions/{auth_ref}/open", data={"personal_number": TOLVAN})
    assert opened.status_code == 303
    assert result(rp, auth_ref)["status"] == "DELIVERED_TO_MOBILE"
    page = freja_app.get(f"/transactions/{auth_ref}")
    assert "Tolvan Tolvansson" in page.text
    approved = freja_app.post(
        f"/transactions/{auth_ref}/approve",
        data={"personal_number": TOLVAN, "given_name": "Tolle"},
    )
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/transactions/{auth_ref}?done=approved"
    answer = result(rp, auth_ref)
    assert answer["status"] == "APPROVED"
    assert answer["requestedAttributes"]["basicUserInfo"]["name"] == "Tolle"
    assert "Godkänt" in freja_app.get(approved.headers["location"]).text


def test_another_person_by_number_and_declining(freja_app: httpx.Client, rp: httpx.Client) -> None:
    auth_ref = start(rp)
    bad = freja_app.post(
        f"/transactions/{auth_ref}/approve", data={"other_personal_number": "19121212-1213"}
    )
    assert bad.status_code == 400
    assert "kontrollsiffran stämmer inte" in bad.text
    other = start(rp)
    assert (
        freja_app.post(
            f"/transactions/{other}/approve", data={"other_personal_number": "19900101-2385"}
        ).status_code
        == 303
    )
    assert result(rp, other)["requestedAttributes"]["ssn"]["ssn"] == "199001012385"
    assert freja_app.post(f"/transactions/{auth_ref}/decline").status_code == 303
    assert result(rp, auth_ref)["status"] == "CANCELED"
    again = freja_app.post(f"/transactions/{auth_ref}/decline")
    assert again.status_code == 409


def test_scanning_the_qr_code_leads_to_the_transaction(
    freja_app: httpx.Client, rp: httpx.Client
) -> None:
    auth_ref = start(rp)
    scanned = freja_app.post("/scan", data={"qr": app_link(auth_ref)})
    assert scanned.status_code == 303
    assert scanned.headers["location"] == f"/transactions/{auth_ref}"
    for bad in ("bankid.1.2.3", "frejaeid://somethingElse?transactionReference=" + auth_ref, ""):
        refused = freja_app.post("/scan", data={"qr": bad})
        assert refused.status_code == 400
        assert "inte innehållet i en Freja eID-QR-kod" in refused.text


def test_unknown_pages_and_transactions(freja_app: httpx.Client) -> None:
    assert freja_app.get("/nope").status_code == 404
    assert freja_app.get("/transactions/" + "A" * 64).status_code == 404
    assert freja_app.post("/transactions/" + "A" * 64 + "/approve").status_code == 404


def test_forms_from_another_site_and_other_hosts_are_refused(
    freja_app: httpx.Client, rp: httpx.Client, freja_simulator: RunningFrejaSimulator
) -> None:
    auth_ref = start(rp)
    cross = freja_app.post(
        f"/transactions/{auth_ref}/approve",
        data={"personal_number": TOLVAN},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    origin = freja_app.post(
        f"/transactions/{auth_ref}/decline", headers={"Origin": "https://evil.example"}
    )
    assert origin.status_code == 403
    rebound = freja_app.get("/", headers={"Host": "evil.example"})
    assert rebound.status_code == 400
    assert result(rp, auth_ref)["status"] == "STARTED"


def control(app: httpx.Client, path: str, body: Any = None) -> httpx.Response:
    return app.post(f"/control/{path}", json=body if body is not None else {})


def test_the_control_api_drives_transactions_without_a_browser(
    freja_app: httpx.Client, rp: httpx.Client
) -> None:
    auth_ref = start(rp)
    listed = freja_app.get("/control/transactions").json()
    assert [item["authRef"] for item in listed] == [auth_ref]
    opened = control(freja_app, f"transactions/{auth_ref}/open", {"ssn": TOLVAN})
    assert opened.json()["status"] == "DELIVERED_TO_MOBILE"
    approved = control(
        freja_app,
        f"transactions/{auth_ref}/approve",
        {"givenName": "Ola", "surname": "Nordmann"},
    )
    assert approved.json()["status"] == "APPROVED"
    assert result(rp, auth_ref)["requestedAttributes"]["basicUserInfo"] == {
        "name": "Ola",
        "surname": "Nordmann",
    }
    rejected = start(rp)
    assert control(freja_app, f"transactions/{rejected}/reject").json()["status"] == "REJECTED"
    declined = start(rp)
    assert control(freja_app, f"transactions/{declined}/decline").json()["status"] == "CANCELED"


def test_a_foreign_identity_number_through_the_control_api(
    freja_app: httpx.Client, rp: httpx.Client
) -> None:
    auth_ref = start(rp)
    control(freja_app, f"transactions/{auth_ref}/approve", {"ssn": "01017012345", "country": "NO"})
    assert result(rp, auth_ref)["requestedAttributes"]["ssn"] == {
        "ssn": "01017012345",
        "country": "NO",
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"ssn": "191212121213"}, 400),
        ({"ssn": 191212121212}, 400),
        ({"country": "US"}, 400),
        ({"registrationLevel": "GOLD"}, 400),
        ({"givenName": ""}, 400),
        ({}, 400),
    ],
)
def test_the_control_api_validates_what_it_is_given(
    freja_app: httpx.Client, rp: httpx.Client, body: dict[str, Any], status: int
) -> None:
    auth_ref = start(rp)
    assert control(freja_app, f"transactions/{auth_ref}/approve", body).status_code == status


def test_the_control_api_needs_json_and_post(freja_app: httpx.Client, rp: httpx.Client) -> None:
    auth_ref = start(rp)
    form = freja_app.post(f"/control/transactions/{auth_ref}/decline", data={"a": "b"})
    assert form.status_code == 415
    assert freja_app.get("/control/reset").status_code == 405
    assert freja_app.post("/control/transactions").status_code == 405
    assert freja_app.post("/control/nothing", json={}).status_code == 404
    broken = freja_app.post(
        "/control/reset", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400


def test_mode_forgery_and_reset_through_the_control_api(
    freja_app: httpx.Client, rp: httpx.Client, freja_client: FrejaClient
) -> None:
    assert control(freja_app, "mode", {"mode": "internalError"}).json() == {
        "mode": "internalError",
        "seconds": 0.0,
    }
    assert error_of(post(rp, INIT, "initAuthRequest", inferred())) == (500, 0)
    assert control(freja_app, "mode", {"mode": "sometimes"}).status_code == 400
    assert control(freja_app, "mode", {"mode": "slow", "seconds": True}).status_code == 400
    assert control(freja_app, "forgery", {"forgery": "stale"}).json() == {"forgery": "stale"}
    assert control(freja_app, "forgery", {"forgery": "all"}).status_code == 400
    assert control(freja_app, "reset").status_code == 200
    auth_ref = start(rp)
    control(freja_app, f"transactions/{auth_ref}/approve", {"ssn": TOLVAN})
    assert freja_client.get_one_result(auth_ref).status == "APPROVED"


# --- The test PKI ---------------------------------------------------------------------------------


def test_the_pki_adds_an_rsa_signing_certificate_issued_by_the_test_ca(tmp_path: Path) -> None:
    pki = ensure_freja_pki(tmp_path / "pki")
    certificate = x509.load_pem_x509_certificate(pki.signing_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    certificate.verify_directly_issued_by(ca)
    assert stat.S_IMODE(pki.signing_key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "pki").stat().st_mode) == 0o700
    # Reused while usable...
    assert ensure_freja_pki(tmp_path / "pki").signing_cert.read_bytes() == (
        pki.signing_cert.read_bytes()
    )
    # ...and made anew when the CA is replaced.
    before = pki.signing_cert.read_bytes()
    for path in pki.tls.files():
        path.unlink()
    renewed = ensure_freja_pki(tmp_path / "pki")
    assert renewed.signing_cert.read_bytes() != before
    x509.load_pem_x509_certificate(renewed.signing_cert.read_bytes()).verify_directly_issued_by(
        x509.load_pem_x509_certificate(renewed.ca_cert.read_bytes())
    )


def test_a_damaged_signing_key_is_replaced(tmp_path: Path) -> None:
    pki = ensure_freja_pki(tmp_path / "pki")
    pki.signing_key.write_text("not a key")
    repaired = ensure_freja_pki(tmp_path / "pki")
    assert repaired.signing_key.read_text().startswith("-----BEGIN PRIVATE KEY-----")


# --- The management command -----------------------------------------------------------------------


def test_the_command_refuses_without_the_simulator_setting(settings: Any, tmp_path: Path) -> None:
    settings.EID_SIMULATOR = False
    with pytest.raises(CommandError, match="PORTAL_EID_SIMULATOR"):
        call_command("freja-simulator", "--pki-dir", str(tmp_path))


def test_the_command_serves_until_terminated(tmp_path: Path) -> None:
    api_port, app_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "portal"),
            "freja-simulator",
            "--api-port",
            str(api_port),
            "--app-port",
            str(app_port),
        ],
        env=portal_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the simulator exited at start-up"
            try:
                if httpx.get(f"http://127.0.0.1:{app_port}/", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the simulator did not start within 30 s"
            time.sleep(0.1)
        pki = ensure_freja_pki(tmp_path / "var" / "freja")
        client = FrejaClient(
            base_url=f"https://127.0.0.1:{api_port}",
            client_cert=str(pki.client_cert),
            client_key=str(pki.client_key),
            ca_cert=str(pki.ca_cert),
            signing_cert=str(pki.signing_cert),
            retries=0,
        )
        try:
            auth_ref = client.init_authentication()
            httpx.post(
                f"http://127.0.0.1:{app_port}/control/transactions/{auth_ref}/approve",
                json={"ssn": TOLVAN},
                timeout=5,
            ).raise_for_status()
            user = client.get_one_result(auth_ref).user
            assert user is not None
            assert user.ssn == TOLVAN
        finally:
            client.close()
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    assert f"FREJA_API_URL=https://127.0.0.1:{api_port}" in output
    assert f"FREJA_SIGNING_CERT={pki.signing_cert}" in output
    assert TOLVAN not in errors
