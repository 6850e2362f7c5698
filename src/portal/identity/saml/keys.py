"""Throw-away RSA key pairs for SAML: the portal's own keys in development, and the local test IdP's.

SAML metadata carries certificates only as containers of public keys (the Deployment Profile,
section 2.1.1.2: no path validation, self-signed recommended), so each pair is a private key and a
self-signed certificate. RSA, because encryption needs it (EC keys are for signatures only in the
Swedish eID framework); 3072 bits, the framework's recommendation.

The files are generated at first use under a directory the caller chooses (``var/saml`` in
development, a temporary directory in tests) and never committed. Production keys are made and
registered with the federation by the agency; nothing here ever writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.identity import keyfiles

KEY_BITS = 3072
VALIDITY = timedelta(days=3652)
ORGANIZATION = "Portal SAML (test only)"


@dataclass(frozen=True)
class KeyPair:
    """Paths of a PEM private key and its self-signed certificate."""

    key: Path
    cert: Path

    def certificate_base64(self) -> str:
        """The certificate's DER in base64, as ``ds:X509Certificate`` holds it."""
        lines = self.cert.read_text(encoding="ascii").strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def ensure_key_pair(key: Path, cert: Path, common_name: str, *, bits: int = KEY_BITS) -> KeyPair:
    """Return the pair at ``key``/``cert``, generating both if either is missing or unusable.

    The directory is created with mode 0700 and the key written with mode 0600, atomically, under a
    lock, so that the portal and the test IdP may both call this at start-up.
    """
    directory = key.parent
    for folder in {directory, cert.parent}:
        keyfiles.ensure_directory(folder)
    pair = KeyPair(key=key, cert=cert)
    with keyfiles.exclusive_lock(directory / ".lock"):
        if not _is_usable(pair):
            _generate(pair, common_name, bits)
    return pair


def _generate(pair: KeyPair, common_name: str, bits: int) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    certificate = keyfiles.certificate_builder(
        keyfiles.subject_name(ORGANIZATION, common_name),
        private_key.public_key(),
        now=datetime.now(UTC),
        validity=VALIDITY,
    ).sign(private_key, hashes.SHA256())
    keyfiles.write_key_pair(pair.key, private_key, pair.cert, certificate)


def _is_usable(pair: KeyPair) -> bool:
    if not (pair.key.is_file() and pair.cert.is_file()):
        return False
    try:
        private_key = keyfiles.load_rsa_key(pair.key)
        certificate = keyfiles.load_certificate(pair.cert)
    except (OSError, ValueError, TypeError):
        return False
    return keyfiles.is_current(certificate, private_key, now=datetime.now(UTC))
