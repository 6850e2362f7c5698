"""The BankID simulator over real sockets: the RP API v6.0 with mutual TLS, and the test app."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import socket
import ssl
import stat
import subprocess
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import CommandError, call_command

from portal.identity.bankid.pki import TestPki, ensure_test_pki, issue_user_certificate
from portal.identity.bankid.qr import qr_auth_code, qr_content
from portal.identity.bankid.simulator import (
    AppError,
    RunningSimulator,
    Script,
    SimulatorState,
    parse_script_option,
    start_simulator,
)
from portal.identity.demo import DEMO_PEOPLE
from tests.identity.bankid.conftest import relying_party_context
from tests.support.server import VENV_BIN, free_port, portal_env

TOLVAN = "191212121212"
BERTIL = "198503152343"
UNKNOWN = "199001012385"
END_USER_IP = "192.0.2.10"
XMLDSIG = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
BANKID_TYPES = {"b": "http://www.bankid.com/signature/v1.0.0/types"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def start(rp: httpx.Client, kind: str = "auth", **fields: Any) -> dict[str, str]:
    response = rp.post(kind, json={"endUserIp": END_USER_IP, **fields})
    assert response.status_code == 200, response.text
    return dict(response.json())


def collect(rp: httpx.Client, order_ref: str) -> dict[str, Any]:
    response = rp.post("collect", json={"orderRef": order_ref})
    assert response.status_code == 200, response.text
    return dict(response.json())


def api_error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"errorCode", "details"}
    assert isinstance(body["details"], str)
    return response.status_code, body["errorCode"]


def control(app: httpx.Client, path: str, body: dict[str, Any] | None = None) -> Any:
    response = app.post(f"/control/{path}", json=body or {})
    assert response.status_code == 200, response.text
    return response.json()


def verify_signature_xml(
    signature: str, ca_cert: x509.Certificate
) -> tuple[x509.Certificate, ET.Element]:
    """Check the XML as a relying party would; return the signer's certificate and signed data."""
    document = base64.b64decode(signature)
    text = document.decode("utf-8")
    signed_info = re.search(r"<SignedInfo\b.*?</SignedInfo>", text, re.DOTALL)
    signed_data = re.search(r"<bankIdSignedData\b.*?</bankIdSignedData>", text, re.DOTALL)
    assert signed_info is not None
    assert signed_data is not None
    root = ET.fromstring(document)  # noqa: S314 -- the simulator's own output, in a test
    certificate = x509.load_der_x509_certificate(
        base64.b64decode(
            root.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=XMLDSIG) or ""
        )
    )
    certificate.verify_directly_issued_by(ca_cert)
    digest = root.findtext("ds:SignedInfo/ds:Reference/ds:DigestValue", namespaces=XMLDSIG) or ""
    assert base64.b64decode(digest) == hashlib.sha256(signed_data.group(0).encode()).digest()
    raw = base64.b64decode(root.findtext("ds:SignatureValue", namespaces=XMLDSIG) or "")
    half = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(der, signed_info.group(0).encode(), ec.ECDSA(hashes.SHA256()))
    signed = root.find("ds:Object/b:bankIdSignedData", namespaces={**XMLDSIG, **BANKID_TYPES})
    assert signed is not None
    return certificate, signed


def ca_certificate(pki: TestPki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())


# --- QR code -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"),
        (1, "949d559bf23403952a94d103e67743126381eda00f0b3cbddbf7c96b1adcbce2"),
        (2, "a9e5ec59cb4eee4ef4117150abc58fad7a85439a6a96ccbecc3668b41795b3f3"),
    ],
)
def test_qr_auth_code_matches_bankids_test_vector(seconds: int, expected: str) -> None:
    secret = "d28db9a7-4cde-429e-a983-359be676944c"
    token = "67df3917-fa0d-44e5-b327-edcc928297f8"
    assert qr_auth_code(secret, seconds) == expected
    assert qr_content(token, secret, seconds) == f"bankid.{token}.{seconds}.{expected}"


# --- PKI -----------------------------------------------------------------------------------------


def test_pki_is_private_complete_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "var" / "bankid"
    pki = ensure_test_pki(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for key in (pki.ca_key, pki.server_key, pki.client_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ca = ca_certificate(pki)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "Portal BankID Simulator Test CA"
    )
    server = x509.load_pem_x509_certificate(pki.server_cert.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(address) for address in names.get_values_for_type(x509.IPAddress)} == {
        "127.0.0.1",
        "::1",
    }
    assert (
        ExtendedKeyUsageOID.SERVER_AUTH
        in server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    client = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())
    assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "Portal relying party (test)"
    )
    assert (
        ExtendedKeyUsageOID.CLIENT_AUTH
        in client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    server.verify_directly_issued_by(ca)
    client.verify_directly_issued_by(ca)
    assert server.not_valid_after_utc > datetime.now(UTC) + timedelta(days=700)

    before = {path: path.read_bytes() for path in pki.files()}
    assert ensure_test_pki(directory) == pki
    assert {path: path.read_bytes() for path in pki.files()} == before

    pki.client_key.unlink()
    ensure_test_pki(directory)
    assert pki.ca_cert.read_bytes() != before[pki.ca_cert]
    assert all(path.is_file() for path in pki.files())


def test_user_certificates_carry_the_personal_number(bankid_pki: TestPki) -> None:
    certificate, key = issue_user_certificate(bankid_pki, TOLVAN, "Tolvan Tolvansson")
    certificate.verify_directly_issued_by(ca_certificate(bankid_pki))
    assert certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == TOLVAN
    assert certificate.public_key() == key.public_key()


# --- The order flow ------------------------------------------------------------------------------


def test_auth_from_outstanding_to_complete_with_a_verifiable_signature(
    rp: httpx.Client, app: httpx.Client, bankid_pki: TestPki
) -> None:
    order = start(rp, returnRisk=True, userVisibleData=b64("Logga in på *portalen*"))
    assert set(order) == {"orderRef", "autoStartToken", "qrStartToken", "qrStartSecret"}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", value) for value in order.values())
    ref = order["orderRef"]
    assert collect(rp, ref) == {
        "orderRef": ref,
        "status": "pending",
        "hintCode": "outstandingTransaction",
    }

    control(app, f"orders/{ref}/open", {"personalNumber": TOLVAN})
    assert collect(rp, ref)["hintCode"] == "started"
    assert collect(rp, ref)["hintCode"] == "userSign"
    control(app, f"orders/{ref}/approve", {"personalNumber": TOLVAN})
    answer = collect(rp, ref)

    assert answer["status"] == "complete"
    assert "hintCode" not in answer
    data = answer["completionData"]
    assert data["user"] == {
        "personalNumber": TOLVAN,
        "name": "Tolvan Tolvansson",
        "givenName": "Tolvan",
        "surname": "Tolvansson",
    }
    assert data["device"]["ipAddress"] == END_USER_IP
    assert data["device"]["uhi"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["bankIdIssueDate"])
    assert data["bankIdIssueDate"] < datetime.now(UTC).date().isoformat()
    assert data["risk"] == "low"
    assert "stepUp" not in data

    ca = ca_certificate(bankid_pki)
    certificate, signed = verify_signature_xml(data["signature"], ca)
    assert certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == TOLVAN
    assert signed.findtext("b:orderType", namespaces=BANKID_TYPES) == "auth"
    assert signed.findtext("b:personalNumber", namespaces=BANKID_TYPES) == TOLVAN
    assert signed.findtext("b:usrVisibleData", namespaces=BANKID_TYPES) == b64(
        "Logga in på *portalen*"
    )
    assert signed.findtext("b:timestamp", namespaces=BANKID_TYPES)

    status = ocsp.load_der_ocsp_response(base64.b64decode(data["ocspResponse"]))
    assert status.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert status.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert status.serial_number == certificate.serial_number
    ca_key = ca.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePublicKey)
    assert status.signature_hash_algorithm is not None
    ca_key.verify(
        status.signature, status.tbs_response_bytes, ec.ECDSA(status.signature_hash_algorithm)
    )

    # A finished order answers the same until BankID forgets it.
    assert collect(rp, ref) == answer


def test_a_changed_byte_breaks_the_signature(
    rp: httpx.Client, app: httpx.Client, bankid_pki: TestPki
) -> None:
    ref = start(rp)["orderRef"]
    control(app, f"orders/{ref}/approve", {"personalNumber": BERTIL})
    signature = collect(rp, ref)["completionData"]["signature"]
    forged = base64.b64decode(signature).replace(BERTIL.encode(), b"191212121212")
    with pytest.raises((InvalidSignature, AssertionError)):
        verify_signature_xml(base64.b64encode(forged).decode(), ca_certificate(bankid_pki))


def test_sign_needs_user_visible_data_and_signs_both_texts(
    rp: httpx.Client, app: httpx.Client, bankid_pki: TestPki
) -> None:
    missing = rp.post("sign", json={"endUserIp": END_USER_IP})
    assert api_error(missing) == (400, "invalidParameters")

    visible = b64("Jag godkänner ansökan nr 42.")
    hidden = base64.b64encode(hashlib.sha256(b"document").digest()).decode()
    ref = start(
        rp,
        "sign",
        userVisibleData=visible,
        userNonVisibleData=hidden,
        userVisibleDataFormat="simpleMarkdownV1",
        requirement={"personalNumber": BERTIL, "mrtd": True, "pinCode": True},
        web={"deviceIdentifier": "abc", "referringDomain": "portal.example", "userAgent": "x"},
    )["orderRef"]
    control(app, f"orders/{ref}/open", {})
    assert [collect(rp, ref)["hintCode"] for _ in range(4)] == [
        "started",
        "userMrtd",
        "userSign",
        "userSign",
    ]
    control(app, f"orders/{ref}/approve", {})
    data = collect(rp, ref)["completionData"]
    assert data["user"]["name"] == "Bertil Exempelberg"
    assert data["stepUp"] == {"mrtd": True}
    assert "risk" not in data
    _certificate, signed = verify_signature_xml(data["signature"], ca_certificate(bankid_pki))
    assert signed.findtext("b:orderType", namespaces=BANKID_TYPES) == "sign"
    assert signed.findtext("b:usrVisibleData", namespaces=BANKID_TYPES) == visible
    assert signed.findtext("b:usrNonVisibleData", namespaces=BANKID_TYPES) == hidden


def test_unknown_people_get_default_or_given_names(rp: httpx.Client, app: httpx.Client) -> None:
    first = start(rp)["orderRef"]
    control(app, f"orders/{first}/approve", {"personalNumber": UNKNOWN})
    assert collect(rp, first)["completionData"]["user"]["name"] == "Test Testsson"
    second = start(rp)["orderRef"]
    control(
        app,
        f"orders/{second}/approve",
        {"personalNumber": UNKNOWN, "givenName": "Ada", "surname": "Lovelace"},
    )
    assert collect(rp, second)["completionData"]["user"]["name"] == "Ada Lovelace"


# --- Errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        (
            "POST",
            "auth",
            {"content": b'{"endUserIp": "192.0.2.1"}', "headers": {"Content-Type": "text/plain"}},
            (415, "unsupportedMediaType"),
        ),
        ("POST", "auth", {"content": b'{"endUserIp": "192.0.2.1"}'}, (415, "unsupportedMediaType")),
        ("GET", "auth", {}, (405, "methodNotAllowed")),
        ("PUT", "collect", {"json": {"orderRef": "x"}}, (405, "methodNotAllowed")),
        ("POST", "nothing", {"json": {}}, (404, "notFound")),
        ("POST", "../v5.1/auth", {"json": {}}, (404, "notFound")),
        (
            "POST",
            "auth",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            (400, "invalidParameters"),
        ),
        ("POST", "auth", {"json": ["endUserIp"]}, (400, "invalidParameters")),
        ("POST", "auth", {"json": {}}, (400, "invalidParameters")),
        ("POST", "auth", {"json": {"endUserIp": 19202}}, (400, "invalidParameters")),
        ("POST", "auth", {"json": {"endUserIp": "192.0.2.300"}}, (400, "invalidParameters")),
        (
            "POST",
            "auth",
            {"json": {"endUserIp": "2001:db8::1", "userVisibleData": "not base64!"}},
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {
                "json": {
                    "endUserIp": "192.0.2.1",
                    "userVisibleData": base64.b64encode(b"\xff\xfe").decode(),
                }
            },
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {"json": {"endUserIp": "192.0.2.1", "userVisibleData": b64("x" * 1200)}},
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {"json": {"endUserIp": "192.0.2.1", "userVisibleDataFormat": "html"}},
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {"json": {"endUserIp": "192.0.2.1", "returnRisk": "yes"}},
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {
                "json": {
                    "endUserIp": "192.0.2.1",
                    "requirement": {"personalNumber": "19121212-1212"},
                }
            },
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {"json": {"endUserIp": "192.0.2.1", "requirement": {"cardReader": "class3"}}},
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {
                "json": {
                    "endUserIp": "192.0.2.1",
                    "requirement": {"certificatePolicies": "1.2.752.78.1.5"},
                }
            },
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {"json": {"endUserIp": "192.0.2.1", "web": "browser"}},
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "auth",
            {"json": {"endUserIp": "192.0.2.1", "personalNumber": TOLVAN}},
            (400, "invalidParameters"),
        ),
        (
            "POST",
            "collect",
            {"json": {"orderRef": "5a9c8f1e-0b7c-4b2f-9a57-3b5a3f0e8d21"}},
            (400, "invalidParameters"),
        ),
        ("POST", "collect", {"json": {"orderRef": 42}}, (400, "invalidParameters")),
        (
            "POST",
            "cancel",
            {"json": {"orderRef": "5a9c8f1e-0b7c-4b2f-9a57-3b5a3f0e8d21"}},
            (400, "invalidParameters"),
        ),
    ],
)
def test_every_refusal_has_its_status_and_error_code(
    rp: httpx.Client, method: str, path: str, kwargs: dict[str, Any], expected: tuple[int, str]
) -> None:
    assert api_error(rp.request(method, path, **kwargs)) == expected


def test_the_limits_are_bankids_per_order_type(rp: httpx.Client) -> None:
    auth_limit = b64("x" * 1125)  # 1 500 characters of base64
    assert len(auth_limit) == 1500
    start(rp, userVisibleData=auth_limit, userNonVisibleData=auth_limit)
    too_long = b64("x" * 1128)
    assert api_error(
        rp.post("auth", json={"endUserIp": END_USER_IP, "userNonVisibleData": too_long})
    ) == (400, "invalidParameters")
    start(rp, "sign", userVisibleData=b64("x" * 30_000), userNonVisibleData=b64("x" * 150_000))
    assert api_error(
        rp.post("sign", json={"endUserIp": END_USER_IP, "userVisibleData": b64("x" * 30_003)})
    ) == (400, "invalidParameters")


def test_already_in_progress_refuses_the_new_order_and_cancels_the_old(
    rp: httpx.Client, app: httpx.Client
) -> None:
    first = start(rp, requirement={"personalNumber": TOLVAN})["orderRef"]
    refused = rp.post(
        "sign",
        json={
            "endUserIp": END_USER_IP,
            "userVisibleData": b64("Hej"),
            "requirement": {"personalNumber": TOLVAN},
        },
    )
    assert api_error(refused) == (400, "alreadyInProgress")
    assert collect(rp, first) == {"orderRef": first, "status": "failed", "hintCode": "cancelled"}
    assert len(app.get("/control/orders").json()) == 1  # no order was made for the refused call
    start(rp, requirement={"personalNumber": TOLVAN})


def test_opening_a_second_order_cancels_the_first(rp: httpx.Client, app: httpx.Client) -> None:
    first = start(rp)["orderRef"]
    second = start(rp)["orderRef"]
    control(app, f"orders/{first}/open", {"personalNumber": BERTIL})
    control(app, f"orders/{second}/open", {"personalNumber": BERTIL})
    assert collect(rp, first)["hintCode"] == "cancelled"
    assert collect(rp, second) == {"orderRef": second, "status": "pending", "hintCode": "started"}


def test_cancel_makes_the_order_unknown(rp: httpx.Client) -> None:
    ref = start(rp)["orderRef"]
    response = rp.post("cancel", json={"orderRef": ref})
    assert response.status_code == 200
    assert response.json() == {}
    assert api_error(rp.post("collect", json={"orderRef": ref})) == (400, "invalidParameters")
    assert api_error(rp.post("cancel", json={"orderRef": ref})) == (400, "invalidParameters")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("maintenance", (503, "maintenance")),
        ("tooManyRequests", (429, "tooManyRequests")),
        ("internalError", (500, "internalError")),
    ],
)
def test_a_script_makes_auth_and_sign_for_one_person_fail(
    rp: httpx.Client, app: httpx.Client, spec: str, expected: tuple[int, str]
) -> None:
    control(app, "scripts", {"personalNumber": BERTIL, "spec": spec})
    for kind, extra in (("auth", {}), ("sign", {"userVisibleData": b64("Avtal")})):
        response = rp.post(
            kind,
            json={"endUserIp": END_USER_IP, "requirement": {"personalNumber": BERTIL}, **extra},
        )
        assert api_error(response) == expected
    start(rp, requirement={"personalNumber": TOLVAN})
    start(rp)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("maintenance", (503, "maintenance")),
        ("tooManyRequests", (429, "tooManyRequests")),
        ("internalError", (500, "internalError")),
        ("unauthorized", (401, "unauthorized")),
        ("requestTimeout", (408, "requestTimeout")),
    ],
)
def test_the_global_mode_makes_every_call_fail(
    rp: httpx.Client, app: httpx.Client, mode: str, expected: tuple[int, str]
) -> None:
    ref = start(rp)["orderRef"]
    assert control(app, "mode", {"mode": mode}) == {"mode": mode, "seconds": 0.0}
    assert api_error(rp.post("auth", json={"endUserIp": END_USER_IP})) == expected
    assert api_error(rp.post("collect", json={"orderRef": ref})) == expected
    assert api_error(rp.post("cancel", json={"orderRef": ref})) == expected
    control(app, "mode", {"mode": "normal"})
    assert collect(rp, ref)["status"] == "pending"


def test_slow_mode_delays_every_answer(rp: httpx.Client, app: httpx.Client) -> None:
    control(app, "mode", {"mode": "slow", "seconds": 0.2})
    began = time.monotonic()
    ref = start(rp)["orderRef"]
    api_error(rp.post("collect", json={"orderRef": "unknown"}))
    assert time.monotonic() - began >= 0.4
    control(app, "mode", {"mode": "normal"})
    began = time.monotonic()
    collect(rp, ref)
    assert time.monotonic() - began < 0.2


def test_a_slow_person_is_delayed_then_completes_after_two_collects(
    rp: httpx.Client, app: httpx.Client
) -> None:
    control(app, "scripts", {"personalNumber": BERTIL, "spec": "slow:0.15"})
    began = time.monotonic()
    ref = start(rp, requirement={"personalNumber": BERTIL})["orderRef"]
    assert time.monotonic() - began >= 0.15
    answers = [collect(rp, ref) for _ in range(3)]
    assert time.monotonic() - began >= 0.6
    assert [answer.get("hintCode") for answer in answers[:2]] == ["started", "userSign"]
    assert answers[2]["status"] == "complete"
    began = time.monotonic()
    other = start(rp)["orderRef"]
    collect(rp, other)
    assert time.monotonic() - began < 0.15


@pytest.mark.parametrize("count", [0, 1, 3])
def test_complete_after_n_collects(rp: httpx.Client, app: httpx.Client, count: int) -> None:
    control(app, "scripts", {"personalNumber": TOLVAN, "spec": f"complete:{count}"})
    ref = start(rp, requirement={"personalNumber": TOLVAN})["orderRef"]
    pending = [collect(rp, ref) for _ in range(count)]
    assert [answer["status"] for answer in pending] == ["pending"] * count
    assert [answer["hintCode"] for answer in pending] == (["started"] * count)[:-1] + [
        "userSign"
    ] * (count > 0)
    done = collect(rp, ref)
    assert done["status"] == "complete"
    assert done["completionData"]["user"]["personalNumber"] == TOLVAN


def test_scripts_given_at_start_apply(bankid_pki: TestPki) -> None:
    number, script = parse_script_option(f"{BERTIL}=complete:0")
    assert script == Script("complete", count=0)
    with (
        start_simulator(
            pki=bankid_pki, scripts={number: script, TOLVAN: "userCancel"}
        ) as simulator,
        httpx.Client(
            base_url=simulator.api_url, verify=relying_party_context(bankid_pki), timeout=10
        ) as rp,
    ):
        bertil = start(rp, requirement={"personalNumber": BERTIL})["orderRef"]
        assert collect(rp, bertil)["status"] == "complete"
        tolvan = start(rp, requirement={"personalNumber": TOLVAN})["orderRef"]
        assert collect(rp, tolvan)["hintCode"] == "userCancel"


@pytest.mark.parametrize(
    "spec", ["nonsense", "complete:-1", "complete:x", "slow:", "slow:-2", "userCancel:3"]
)
def test_bad_scripts_are_refused(app: httpx.Client, spec: str) -> None:
    response = app.post("/control/scripts", json={"personalNumber": TOLVAN, "spec": spec})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalidParameters"
    with pytest.raises(ValueError, match=r"expected|needs|must"):
        parse_script_option(f"{TOLVAN}={spec}")


@pytest.mark.parametrize(
    "hint",
    [
        "userCancel",
        "expiredTransaction",
        "startFailed",
        "certificateErr",
        "userDeclinedCall",
        "transactionRiskBlocked",
        "notSupportedByUserApp",
    ],
)
def test_each_failure_script_fails_the_first_collect_after_attaching(
    rp: httpx.Client, app: httpx.Client, hint: str
) -> None:
    control(app, "scripts", {"personalNumber": BERTIL, "spec": hint})
    named = start(rp, requirement={"personalNumber": BERTIL})["orderRef"]
    assert collect(rp, named) == {"orderRef": named, "status": "failed", "hintCode": hint}
    # The same, for a person attached in the test app rather than named by the relying party.
    opened = start(rp)["orderRef"]
    assert collect(rp, opened)["hintCode"] == "outstandingTransaction"
    control(app, f"orders/{opened}/open", {"personalNumber": BERTIL})
    assert collect(rp, opened) == {"orderRef": opened, "status": "failed", "hintCode": hint}


def test_a_pending_order_expires_after_the_ttl(bankid_pki: TestPki) -> None:
    with (
        start_simulator(pki=bankid_pki, order_ttl=0.3) as simulator,
        httpx.Client(
            base_url=simulator.api_url, verify=relying_party_context(bankid_pki), timeout=10
        ) as rp,
    ):
        ref = start(rp)["orderRef"]
        assert collect(rp, ref)["status"] == "pending"
        time.sleep(0.35)
        assert collect(rp, ref) == {
            "orderRef": ref,
            "status": "failed",
            "hintCode": "expiredTransaction",
        }


def test_a_finished_order_is_forgotten_after_the_retention(
    rp: httpx.Client, app: httpx.Client, bankid_simulator: RunningSimulator
) -> None:
    bankid_simulator.state.finished_retention = 0.2
    ref = start(rp)["orderRef"]
    control(app, f"orders/{ref}/decline")
    assert collect(rp, ref)["hintCode"] == "userCancel"
    time.sleep(0.25)
    assert api_error(rp.post("collect", json={"orderRef": ref})) == (400, "invalidParameters")


def test_a_body_that_does_not_arrive_times_out(
    bankid_simulator: RunningSimulator, bankid_pki: TestPki
) -> None:
    bankid_simulator.state.body_timeout = 0.2
    url = httpx.URL(bankid_simulator.api_url)
    context = relying_party_context(bankid_pki)
    with (
        socket.create_connection((url.host, url.port or 443), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=url.host) as tls,
    ):
        tls.sendall(
            b"POST /rp/v6.0/collect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 50\r\n\r\n{"orderRef":'
        )
        answer = b""
        while chunk := tls.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"errorCode":"requestTimeout"' in answer


# --- TLS -----------------------------------------------------------------------------------------


def test_a_client_without_a_certificate_is_refused_in_the_handshake(
    bankid_simulator: RunningSimulator, bankid_pki: TestPki
) -> None:
    context = relying_party_context(bankid_pki, with_certificate=False)
    with (
        httpx.Client(base_url=bankid_simulator.api_url, verify=context, timeout=5) as client,
        pytest.raises(httpx.TransportError, match=r"(?i)certificate|alert|handshake"),
    ):
        client.post("auth", json={"endUserIp": END_USER_IP})


def test_a_certificate_from_another_ca_is_refused(
    bankid_simulator: RunningSimulator, bankid_pki: TestPki, tmp_path: Path
) -> None:
    stranger = ensure_test_pki(tmp_path / "other")
    context = ssl.create_default_context(cafile=str(bankid_pki.ca_cert))
    context.load_cert_chain(stranger.client_cert, stranger.client_key)
    with (
        httpx.Client(base_url=bankid_simulator.api_url, verify=context, timeout=5) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post("auth", json={"endUserIp": END_USER_IP})


def test_the_server_is_not_trusted_without_the_test_ca(bankid_simulator: RunningSimulator) -> None:
    with (
        httpx.Client(base_url=bankid_simulator.api_url, timeout=5) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.post("auth", json={"endUserIp": END_USER_IP})


# --- The test app --------------------------------------------------------------------------------


def test_the_page_lists_pending_orders_in_swedish(rp: httpx.Client, app: httpx.Client) -> None:
    auth = start(rp)["orderRef"]
    sign = start(rp, "sign", userVisibleData=b64("Jag skriver under <b>avtalet</b> & mer"))[
        "orderRef"
    ]
    response = app.get("/")
    assert response.status_code == 200
    page = response.text
    assert '<html lang="sv">' in page
    assert "<title>BankID-simulator – testapp</title>" in page
    assert auth[:8] in page
    assert sign[:8] in page
    assert "Jag skriver under &lt;b&gt;avtalet&lt;/b&gt; &amp; mer" in page
    assert "Tolvan Tolvansson (19121212-1212)" in page
    assert ">Legitimera<" in page
    assert ">Signera<" in page
    assert ">Avbryt<" in page
    assert "Skanna QR-kod" in page
    assert "<script" not in page
    assert "src=" not in page
    assert "<link" not in page
    assert "default-src 'none'" in response.headers["content-security-policy"]
    for field in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', page):
        assert f'<label for="{field}"' in page


def test_the_autostart_link_shows_only_its_order(rp: httpx.Client, app: httpx.Client) -> None:
    mine = start(rp)
    other = start(rp)
    page = app.get("/", params={"autostarttoken": mine["autoStartToken"]}).text
    assert mine["orderRef"][:8] in page
    assert other["orderRef"][:8] not in page


def test_approving_through_the_form_completes_the_order(
    rp: httpx.Client, app: httpx.Client
) -> None:
    order = start(rp, returnUrl="https://portal.example/login/bankid")
    token = order["autoStartToken"]
    response = app.post(
        f"/orders/{order['orderRef']}/approve",
        params={"autostarttoken": token},
        data={"personal_number": TOLVAN, "other_personal_number": ""},
        # What a browser sends with the page's own form.
        headers={"Origin": str(app.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert "done=approved" in location
    assert f"autostarttoken={token}" in location
    page = app.get(location).text
    assert "Klart – gå tillbaka till webbplatsen." in page
    assert 'href="https://portal.example/login/bankid"' in page
    assert collect(rp, order["orderRef"])["completionData"]["user"]["name"] == "Tolvan Tolvansson"


def test_another_personal_number_and_names_can_be_typed(
    rp: httpx.Client, app: httpx.Client
) -> None:
    ref = start(rp)["orderRef"]
    response = app.post(
        f"/orders/{ref}/approve",
        data={
            "personal_number": "",
            "other_personal_number": "19900101-2385",
            "given_name": "Ada",
            "surname": "Lovelace",
        },
    )
    assert response.status_code == 303
    assert collect(rp, ref)["completionData"]["user"] == {
        "personalNumber": UNKNOWN,
        "name": "Ada Lovelace",
        "givenName": "Ada",
        "surname": "Lovelace",
    }


def test_declining_through_the_form_is_user_cancel(rp: httpx.Client, app: httpx.Client) -> None:
    ref = start(rp)["orderRef"]
    response = app.post(f"/orders/{ref}/decline", data={})
    assert response.status_code == 303
    assert collect(rp, ref) == {"orderRef": ref, "status": "failed", "hintCode": "userCancel"}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"personal_number": ""}, "Välj en person"),
        ({"personal_number": "12345"}, "12 siffror"),
        ({"other_personal_number": "19121212-1213"}, "kontrollsiffran"),
        ({"other_personal_number": "19121312-1212"}, "födelsedatum"),
        ({"personal_number": TOLVAN, "given_name": "x" * 101}, "högst 100"),
    ],
)
def test_bad_form_input_is_answered_in_swedish(
    rp: httpx.Client, app: httpx.Client, form: dict[str, str], message: str
) -> None:
    ref = start(rp)["orderRef"]
    response = app.post(f"/orders/{ref}/approve", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert 'role="alert"' in response.text
    assert collect(rp, ref)["hintCode"] == "outstandingTransaction"


def test_the_form_refuses_the_wrong_person_unknown_orders_and_other_sites(
    rp: httpx.Client, app: httpx.Client
) -> None:
    ref = start(rp, requirement={"personalNumber": BERTIL})["orderRef"]
    wrong = app.post(f"/orders/{ref}/approve", data={"personal_number": TOLVAN})
    assert wrong.status_code == 400
    assert "annat personnummer" in wrong.text
    unknown = app.post(
        "/orders/5a9c8f1e-0b7c-4b2f-9a57-3b5a3f0e8d21/approve", data={"personal_number": TOLVAN}
    )
    assert unknown.status_code == 404
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ):
        cross_site = app.post(
            f"/orders/{ref}/approve", data={"personal_number": BERTIL}, headers=headers
        )
        assert cross_site.status_code == 403
    assert app.get("/nowhere").status_code == 404
    assert (
        app.post(
            "/control/reset",
            content=b"mode=normal",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).status_code
        == 415
    )
    assert collect(rp, ref)["hintCode"] == "outstandingTransaction"


def test_scanning_a_fresh_qr_code_approves_the_order(rp: httpx.Client, app: httpx.Client) -> None:
    order = start(rp)
    content = qr_content(order["qrStartToken"], order["qrStartSecret"], 0)
    response = app.post("/scan", data={"qr": content, "personal_number": BERTIL})
    assert response.status_code == 303
    assert collect(rp, order["orderRef"])["completionData"]["user"]["personalNumber"] == BERTIL


@pytest.mark.parametrize(
    ("forge", "message"),
    [
        (lambda order: qr_content(order["qrStartToken"], "a-guessed-secret", 0), "inte äkta"),
        (lambda order: qr_content(order["qrStartToken"], order["qrStartSecret"], 7), "framtiden"),
        (
            lambda order: qr_content(
                "5a9c8f1e-0b7c-4b2f-9a57-3b5a3f0e8d21", order["qrStartSecret"], 0
            ),
            "Ingen väntande order",
        ),
        (lambda order: f"bankid.{order['qrStartToken']}.0", "inte innehållet"),
        (lambda _order: "https://example.com/", "inte innehållet"),
    ],
)
def test_a_forged_or_wrong_qr_code_is_refused(
    rp: httpx.Client, app: httpx.Client, forge: Any, message: str
) -> None:
    order = start(rp)
    response = app.post("/scan", data={"qr": forge(order), "personal_number": BERTIL})
    assert response.status_code == 400
    assert message in response.text
    assert collect(rp, order["orderRef"])["hintCode"] == "outstandingTransaction"


def test_a_qr_code_older_than_30_seconds_is_refused(bankid_pki: TestPki) -> None:
    now = [1000.0]
    state = SimulatorState(pki=bankid_pki, clock=lambda: now[0])
    answer, _delay = state.start_order("auth", {"endUserIp": END_USER_IP})
    now[0] += 31.5
    stale = qr_content(answer["qrStartToken"], answer["qrStartSecret"], 0)
    with pytest.raises(AppError, match="äldre än 30 sekunder"):
        state.scan(stale, TOLVAN)
    fresh = qr_content(answer["qrStartToken"], answer["qrStartSecret"], 2)
    assert state.scan(fresh, TOLVAN).status == "complete"


# --- Control API and logging ---------------------------------------------------------------------


def test_the_control_api_lists_orders_and_resets(rp: httpx.Client, app: httpx.Client) -> None:
    ref = start(rp, "sign", userVisibleData=b64("Avtal"), requirement={"personalNumber": TOLVAN})[
        "orderRef"
    ]
    control(app, "scripts", {"personalNumber": BERTIL, "spec": "maintenance"})
    control(app, "mode", {"mode": "slow", "seconds": 0.01})
    [listed] = app.get("/control/orders").json()
    assert listed["orderRef"] == ref
    assert listed["type"] == "sign"
    assert listed["status"] == "pending"
    assert listed["hintCode"] == "outstandingTransaction"
    assert listed["personalNumber"] == TOLVAN
    assert 0 <= listed["age"] < 5
    bad_mode = app.post("/control/mode", json={"mode": "holiday"})
    assert bad_mode.status_code == 400
    assert control(app, "reset") == {}
    assert app.get("/control/orders").json() == []
    start(rp, requirement={"personalNumber": BERTIL})  # the script is gone, and so is slow mode


def test_personal_numbers_are_masked_in_the_log(
    rp: httpx.Client, app: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="portal.bankid.simulator")
    ref = start(rp, requirement={"personalNumber": BERTIL})["orderRef"]
    control(app, f"orders/{ref}/approve", {"personalNumber": BERTIL})
    collect(rp, ref)
    rp.post(f"collect/{BERTIL}", json={})
    # The server thread writes its access line after the response has gone out: give it a moment.
    deadline = time.monotonic() + 5
    while True:
        records = [record for record in caplog.records if record.name == "portal.bankid.simulator"]
        messages = [record.getMessage() for record in records]
        access = [record.getMessage() for record in records if record.levelno == logging.INFO]
        if (
            len([line for line in access if "/rp/v6.0/" in line]) >= 3
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.01)
    assert len([line for line in access if "/rp/v6.0/" in line]) == 3  # one line per call
    assert any(re.search(r"POST /rp/v6.0/auth 200 [0-9.]+ ms", line) for line in access)
    assert any("POST /rp/v6.0/collect/19850315-**** 404" in line for line in access)
    assert any("19850315-****" in message for message in messages if "opened" in message)
    assert not any(BERTIL in message or "19850315-2343" in message for message in messages)


def test_demo_people_are_offered(bankid_simulator: RunningSimulator) -> None:
    assert {person.personal_number for person in bankid_simulator.state.people} == {
        person.personal_number for person in DEMO_PEOPLE
    }


# --- The management command ----------------------------------------------------------------------


def test_the_command_refuses_bad_scripts_and_production_like_settings(
    settings: Any, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="--script"):
        call_command(
            "bankid-simulator", "--script", f"{TOLVAN}=sometimes", "--pki-dir", str(tmp_path)
        )
    settings.EID_SIMULATOR = False
    with pytest.raises(CommandError, match="PORTAL_EID_SIMULATOR"):
        call_command("bankid-simulator", "--pki-dir", str(tmp_path))


def test_the_command_serves_the_demo_people_until_terminated(tmp_path: Path) -> None:
    api_port, app_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "portal"),
            "bankid-simulator",
            "--api-port",
            str(api_port),
            "--app-port",
            str(app_port),
            "--script",
            f"{TOLVAN}=complete:0",
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
                if httpx.get(f"http://127.0.0.1:{app_port}/control/orders", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the simulator did not start within 30 s"
            time.sleep(0.1)
        pki = TestPki.in_directory(tmp_path / "var" / "bankid")
        with httpx.Client(
            base_url=f"https://127.0.0.1:{api_port}/rp/v6.0",
            verify=relying_party_context(pki),
            timeout=10,
        ) as rp:
            ref = start(rp, requirement={"personalNumber": TOLVAN})["orderRef"]
            assert collect(rp, ref)["completionData"]["user"]["name"] == "Tolvan Tolvansson"
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    assert f"https://127.0.0.1:{api_port}/rp/v6.0" in output
    assert f"BANKID_CLIENT_CERT={pki.client_cert}" in output
    assert TOLVAN not in errors
