"""Verifying Freja's signed results (the JWS in ``details``), without the network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from portal.identity.freja.client import AnswerRefused, FrejaClient
from portal.identity.freja.jws import (
    DetailsRefused,
    index_certificates,
    load_signing_certificates,
    sign_details,
    thumbprint,
    verify_details,
)
from portal.identity.freja.pki import FrejaTestPki, load_signing, make_signing_certificate

AUTH_REF = "qTXm0ej0lXJ8qR3jYk5oTbr2YAVVpD7y6jrx8GUGNvcSn0ScxKqQ9F0a1HykH2Ia"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "authRef": AUTH_REF,
        "status": "APPROVED",
        "userInfoType": "INFERRED",
        "userInfo": "N/A",
        "minRegistrationLevel": "PLUS",
        "requestedAttributes": {
            "basicUserInfo": {"name": "Tolvan", "surname": "Tolvansson"},
            "ssn": {"ssn": "191212121212", "country": "SE"},
            "registrationLevel": "PLUS",
        },
        "timestamp": int(time.time() * 1000),
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def signing(freja_pki: FrejaTestPki) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    return load_signing(freja_pki)


@pytest.fixture(scope="module")
def pinned(signing: tuple[x509.Certificate, rsa.RSAPrivateKey]) -> dict[str, x509.Certificate]:
    return index_certificates([signing[0]])


@pytest.fixture(scope="module")
def stranger() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    return make_signing_certificate("Someone else")


@pytest.fixture
def client(freja_pki: FrejaTestPki) -> Iterator[FrejaClient]:
    # No connection is made: only verify() is used.
    client = FrejaClient(
        base_url="https://127.0.0.1:1",
        client_cert=str(freja_pki.client_cert),
        client_key=str(freja_pki.client_key),
        ca_cert=str(freja_pki.ca_cert),
        signing_cert=str(freja_pki.signing_cert),
    )
    yield client
    client.close()


def test_a_result_signed_by_the_pinned_certificate_verifies(
    signing: tuple[x509.Certificate, rsa.RSAPrivateKey], pinned: dict[str, x509.Certificate]
) -> None:
    certificate, key = signing
    signed = payload()
    token = sign_details(signed, key, certificate)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"x5t": thumbprint(certificate), "alg": "RS256"}
    assert verify_details(token, pinned) == signed


def test_the_thumbprint_is_sha1_of_the_der_base64url(
    signing: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    certificate = signing[0]
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert thumbprint(certificate) == b64url(hashlib.sha1(der, usedforsecurity=False).digest())


def test_signed_with_another_key_under_the_pinned_thumbprint_is_a_bad_signature(
    signing: tuple[x509.Certificate, rsa.RSAPrivateKey],
    pinned: dict[str, x509.Certificate],
    stranger: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    token = sign_details(payload(), stranger[1], signing[0])
    with pytest.raises(DetailsRefused, match="bad-signature"):
        verify_details(token, pinned)


def test_signed_by_a_certificate_that_is_not_pinned_is_refused(
    pinned: dict[str, x509.Certificate], stranger: tuple[x509.Certificate, rsa.RSAPrivateKey]
) -> None:
    token = sign_details(payload(), stranger[1], stranger[0])
    with pytest.raises(DetailsRefused, match="unknown-certificate"):
        verify_details(token, pinned)
    no_thumbprint = sign_details(payload(), stranger[1], stranger[0], header={"x5t": ""})
    with pytest.raises(DetailsRefused, match="unknown-certificate"):
        verify_details(no_thumbprint, pinned)


def test_a_tampered_payload_is_a_bad_signature(
    signing: tuple[x509.Certificate, rsa.RSAPrivateKey], pinned: dict[str, x509.Certificate]
) -> None:
    header, _, signature = sign_details(payload(), signing[1], signing[0]).split(".")
    forged = payload(
        requestedAttributes={"ssn": {"ssn": "198503152343", "country": "SE"}},
    )
    token = f"{header}.{b64url(json.dumps(forged).encode())}.{signature}"
    with pytest.raises(DetailsRefused, match="bad-signature"):
        verify_details(token, pinned)


def test_alg_none_and_hmac_with_the_public_key_are_refused(
    signing: tuple[x509.Certificate, rsa.RSAPrivateKey], pinned: dict[str, x509.Certificate]
) -> None:
    certificate = signing[0]
    body = b64url(json.dumps(payload()).encode())
    none_header = b64url(json.dumps({"x5t": thumbprint(certificate), "alg": "none"}).encode())
    with pytest.raises(DetailsRefused, match="wrong-algorithm"):
        verify_details(f"{none_header}.{body}.", pinned)
    # The classic confusion: HS256 keyed with the public certificate's bytes.
    hs_header = b64url(json.dumps({"x5t": thumbprint(certificate), "alg": "HS256"}).encode())
    secret = certificate.public_bytes(serialization.Encoding.PEM)
    mac = hmac.new(secret, f"{hs_header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(DetailsRefused, match="wrong-algorithm"):
        verify_details(f"{hs_header}.{body}.{b64url(mac)}", pinned)


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.!!!.abc", "é.é.é"]
)
def test_garbage_is_malformed(token: str, pinned: dict[str, x509.Certificate]) -> None:
    with pytest.raises(DetailsRefused, match="malformed"):
        verify_details(token, pinned)


def test_a_payload_that_is_not_a_json_object_is_malformed(
    signing: tuple[x509.Certificate, rsa.RSAPrivateKey], pinned: dict[str, x509.Certificate]
) -> None:
    from joserfc import jws  # noqa: PLC0415
    from joserfc.jwk import RSAKey  # noqa: PLC0415

    certificate, key = signing
    header = {"x5t": thumbprint(certificate), "alg": "RS256"}
    for body in (b"[1, 2]", b"not json"):
        token = jws.serialize_compact(header, body, RSAKey.import_key(key))
        with pytest.raises(DetailsRefused, match="malformed"):
            verify_details(token, pinned)


def test_an_expired_signing_certificate_is_refused() -> None:
    long_ago = datetime.now(UTC) - timedelta(days=800)
    certificate, key = make_signing_certificate(now=long_ago, validity=timedelta(days=365))
    token = sign_details(payload(), key, certificate)
    with pytest.raises(DetailsRefused, match="certificate-expired"):
        verify_details(token, index_certificates([certificate]))


def test_several_pinned_certificates_are_chosen_by_thumbprint(
    tmp_path: Path,
    signing: tuple[x509.Certificate, rsa.RSAPrivateKey],
    stranger: tuple[x509.Certificate, rsa.RSAPrivateKey],
) -> None:
    bundle = tmp_path / "freja-signing.pem"
    bundle.write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (stranger[0], signing[0]))
    )
    pinned = load_signing_certificates(bundle)
    assert set(pinned) == {thumbprint(stranger[0]), thumbprint(signing[0])}
    for certificate, key in (signing, stranger):
        assert (
            verify_details(sign_details(payload(), key, certificate), pinned)["authRef"] == AUTH_REF
        )


def test_a_pem_without_an_rsa_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    from portal.identity.bankid.pki import ensure_test_pki  # noqa: PLC0415

    ec_only = ensure_test_pki(tmp_path / "ec").ca_cert  # an EC certificate
    assert isinstance(
        x509.load_pem_x509_certificate(ec_only.read_bytes()).public_key(), ec.EllipticCurvePublicKey
    )
    with pytest.raises(ValueError, match="no RSA certificate"):
        load_signing_certificates(ec_only)


# --- What the client checks beyond the signature --------------------------------------------------


def sign(signing: tuple[x509.Certificate, rsa.RSAPrivateKey], **changes: Any) -> str:
    return sign_details(payload(**changes), signing[1], signing[0])


def test_the_client_accepts_a_correct_result(client: FrejaClient, signing: Any) -> None:
    assert (
        client.verify(sign(signing), AUTH_REF, expected_user_info_type="INFERRED")["status"]
        == "APPROVED"
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"authRef": "another-transaction-entirely"}, "auth-ref-mismatch"),
        ({"status": "CANCELED"}, "status-mismatch"),
        ({"userInfoType": "SSN"}, "user-info-type-mismatch"),
        ({"minRegistrationLevel": "EXTENDED"}, "registration-level-too-low"),
        ({"minRegistrationLevel": "SOMETHING"}, "registration-level-too-low"),
        (
            {
                "requestedAttributes": {
                    "registrationLevel": "BASIC",
                    "ssn": {"ssn": "1", "country": "SE"},
                }
            },
            "registration-level-too-low",
        ),
        ({"timestamp": int((time.time() - 3600) * 1000)}, "stale-answer"),
        ({"timestamp": int((time.time() + 3600) * 1000)}, "stale-answer"),
        ({"timestamp": "yesterday"}, "malformed-answer"),
        ({"timestamp": True}, "malformed-answer"),
        ({"requestedAttributes": ["ssn"]}, "malformed-answer"),
        ({"requestedAttributes": {"ssn": "191212121212"}}, "malformed-answer"),
    ],
)
def test_the_client_refuses_a_signed_result_that_says_something_else(
    client: FrejaClient, signing: Any, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(AnswerRefused) as raised:
        client.verify(sign(signing, **changes), AUTH_REF, expected_user_info_type="INFERRED")
    assert raised.value.code == reason


def test_the_client_refuses_a_signature_it_cannot_verify(
    client: FrejaClient, stranger: tuple[x509.Certificate, rsa.RSAPrivateKey]
) -> None:
    with pytest.raises(AnswerRefused, match="unknown-certificate"):
        client.verify(sign(stranger), AUTH_REF)
