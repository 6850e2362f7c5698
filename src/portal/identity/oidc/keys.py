"""Signing keys: the portal's own as an OpenID Connect client, and the local OpenID Provider's.

The portal authenticates at the OpenID Provider's token endpoint with ``private_key_jwt``: a short
JWT signed with its private key, whose public half the provider knows from the portal's JWKS
(registered by value, or fetched from ``/oidc/jwks.json``). The Swedish OpenID Connect Profile asks
for RSA keys of at least 2048 bits or EC keys on P-256 or larger; RS256 and ES256 must be understood
by every provider.

In production the key is a PEM file the agency provides (``OIDC_CLIENT_KEY``). In development, when
the demo e-ID simulators are on, a P-256 key is generated under ``VAR_DIR/oidc`` at first use and
never committed: it secures nothing but the local OpenID Provider.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, KeySet, RSAKey

from portal.identity import keyfiles

MIN_RSA_BITS = 2048
#: The JWS algorithm each key is used with: RSA keys sign with RS256, EC keys with their curve's.
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
#: Algorithms accepted on signatures from an OpenID Provider: never "none", never HMAC.
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
)


class UnusableKeyError(ValueError):
    """A key file is missing, unreadable, or not a usable signing key."""


@dataclass(frozen=True)
class SigningKey:
    """A private key and the JWS algorithm it signs with; ``kid`` is its RFC 7638 thumbprint."""

    key: RSAKey | ECKey
    alg: str

    @property
    def kid(self) -> str:
        return self.key.thumbprint()

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, with ``kid``, ``use`` and ``alg``."""
        return {**self.key.as_dict(private=False), "kid": self.kid, "use": "sig", "alg": self.alg}

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        """A compact JWS of ``claims`` with this key (header: alg, kid, typ)."""
        return jwt.encode(
            {"alg": self.alg, "kid": self.kid, "typ": typ}, claims, self.key, algorithms=[self.alg]
        )


def load_signing_key(path: Path) -> SigningKey:
    """Read a PEM private key (PKCS#1, PKCS#8 or SEC1, unencrypted) and pick its algorithm."""
    try:
        native = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise UnusableKeyError(
            f"{path}: not a readable unencrypted PEM private key ({error})"
        ) from None
    if isinstance(native, rsa.RSAPrivateKey):
        if native.key_size < MIN_RSA_BITS:
            raise UnusableKeyError(f"{path}: an RSA key must have at least {MIN_RSA_BITS} bits")
        return SigningKey(RSAKey.import_key(native), "RS256")
    if isinstance(native, ec.EllipticCurvePrivateKey) and native.curve.name in _EC_ALGORITHMS:
        return SigningKey(ECKey.import_key(native), _EC_ALGORITHMS[native.curve.name])
    raise UnusableKeyError(
        f"{path}: only RSA (2048 bits or more) and EC P-256/P-384/P-521 keys are used"
    )


def ensure_private_key(path: Path, kind: Literal["ec", "rsa"] = "ec") -> Path:
    """Generate a private key at ``path`` unless a file is there already (0600, directory 0700).

    ``ec`` makes a P-256 key (ES256), ``rsa`` a 2048-bit one (RS256). Safe to call from several
    processes at once: the first one writes, the others find its file.
    """
    if path.is_file():
        return path
    keyfiles.ensure_directory(path.parent)
    with keyfiles.exclusive_lock(path.parent / ".lock"):
        if path.is_file():
            return path
        native: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
            if kind == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )
        keyfiles.write_private_key(path, native)
    return path


def import_public_key_set(data: Any) -> KeySet:
    """A JWKS document's signing keys (public parts only), for checking signatures.

    Keys for encryption, symmetric keys, RSA keys under 2048 bits and keys of unknown types are
    left out; ``UnusableKeyError`` if none remains.
    """
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise UnusableKeyError("not a JWK set")
    usable: list[dict[str, Any]] = [
        key
        for key in data["keys"]
        if isinstance(key, dict)
        and key.get("kty") in {"RSA", "EC"}
        and key.get("use", "sig") == "sig"
        and key.get("alg", "RS256") in ASYMMETRIC_ALGORITHMS
    ]
    public: list[RSAKey | ECKey] = []
    for entry in usable:
        # Only the public members: a JWKS that leaks a private key is still used for checking.
        fields = {k: v for k, v in entry.items() if k not in {"d", "p", "q", "dp", "dq", "qi"}}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SecurityWarning)
                key: RSAKey | ECKey = (
                    RSAKey.import_key(fields)
                    if fields["kty"] == "RSA"
                    else ECKey.import_key(fields)
                )
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(key, RSAKey) and key.public_key.key_size < MIN_RSA_BITS:
            continue
        public.append(key)
    if not public:
        raise UnusableKeyError("the JWK set has no usable signing key")
    return KeySet(list(public))


# --- The portal's client key ---------------------------------------------------------------------


@cache
def client_key() -> SigningKey:
    """The portal's private key for ``private_key_jwt``, read once per process.

    When the file is missing and the demo simulators are on (development), a key is generated.
    """
    configured = str(settings.OIDC_CLIENT_KEY)
    if not configured:
        raise UnusableKeyError("OIDC_CLIENT_KEY is not set")
    path = Path(configured)
    if not path.is_file() and settings.EID_SIMULATOR:
        ensure_private_key(path)
    return load_signing_key(path)


def reset_client_key() -> None:
    """Forget the cached client key, so the next use reads the settings and the file again."""
    client_key.cache_clear()
