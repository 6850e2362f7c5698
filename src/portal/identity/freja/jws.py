"""The signed result of a Freja eID transaction: a compact JWS (RS256) in the answer's ``details``.

Freja signs the result of every finished transaction with one of its signing keys. The protected
header is ``{"x5t": <SHA-1 thumbprint of the signing certificate>, "alg": "RS256"}``; the payload is
the result itself (``authRef``, ``status``, ``userInfoType``, ``userInfo``, ``minRegistrationLevel``,
``requestedAttributes``, ``timestamp``). Only what this signature covers is believed: the unsigned
copy of the same fields next to ``details`` in the answer is ignored.

The relying party pins Freja's signing certificate(s) (``FREJA_SIGNING_CERT``, one PEM file that
may hold several, for Freja's key rollover) and picks the one the header's ``x5t`` names. The
simulator signs with ``sign_details``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

ALGORITHM = "RS256"


class DetailsRefused(Exception):
    """The JWS cannot be believed. ``reason``: ``malformed``, ``wrong-algorithm``,
    ``unknown-certificate``, ``certificate-expired`` or ``bad-signature``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def thumbprint(certificate: x509.Certificate) -> str:
    """``x5t``: base64url (unpadded) SHA-1 of the certificate's DER encoding (RFC 7515, 4.1.7)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha1(der, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def load_signing_certificates(path: str | Path) -> dict[str, x509.Certificate]:
    """Every certificate in the PEM file at ``path``, by thumbprint. Only RSA keys can sign RS256;
    a file with none is a configuration error (ValueError)."""
    certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
    usable = {
        thumbprint(certificate): certificate
        for certificate in certificates
        if isinstance(certificate.public_key(), rsa.RSAPublicKey)
    }
    if not usable:
        raise ValueError(f"{path} holds no RSA certificate to verify Freja's results with")
    return usable


def index_certificates(certificates: Iterable[x509.Certificate]) -> dict[str, x509.Certificate]:
    return {thumbprint(certificate): certificate for certificate in certificates}


def sign_details(
    payload: Mapping[str, Any],
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    *,
    header: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``payload`` as Freja does (the simulator's side). ``header`` overrides header fields."""
    protected: dict[str, Any] = {"x5t": thumbprint(certificate), "alg": ALGORITHM}
    protected.update(header or {})
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return jws.serialize_compact(protected, body, RSAKey.import_key(key), algorithms=[ALGORITHM])


def verify_details(
    token: str,
    certificates: Mapping[str, x509.Certificate],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The verified payload of ``token``, or ``DetailsRefused``.

    The algorithm must be RS256 (never ``none``, never HMAC with a public key as the secret), the
    header must name a pinned certificate by ``x5t``, that certificate must be valid now, and the
    signature must verify with its key. The payload must be a JSON object.
    """
    try:
        signed = jws.extract_compact(token.encode("ascii"))
        header = signed.headers()
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise DetailsRefused("malformed") from None
    if header.get("alg") != ALGORITHM:
        raise DetailsRefused("wrong-algorithm")
    certificate = certificates.get(str(header.get("x5t", "")))
    if certificate is None:
        raise DetailsRefused("unknown-certificate")
    now = now or datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise DetailsRefused("certificate-expired")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise DetailsRefused("unknown-certificate")
    try:
        valid = jws.validate_compact(signed, RSAKey.import_key(public_key), algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError):
        raise DetailsRefused("bad-signature") from None
    if not valid:
        raise DetailsRefused("bad-signature")
    try:
        payload = json.loads(signed.payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DetailsRefused("malformed") from None
    if not isinstance(payload, dict):
        raise DetailsRefused("malformed")
    return payload
