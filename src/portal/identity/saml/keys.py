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

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

KEY_BITS = 3072
VALIDITY = timedelta(days=3652)
#: Back-dated so that a peer whose clock is a little behind still accepts a fresh certificate.
CLOCK_SKEW = timedelta(hours=1)
ORGANIZATION = "Portal SAML (test only)"

_DIRECTORY_MODE = 0o700
_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644


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
        if not folder.exists():
            folder.mkdir(mode=_DIRECTORY_MODE, parents=True, exist_ok=True)
            folder.chmod(_DIRECTORY_MODE)
    pair = KeyPair(key=key, cert=cert)
    with _exclusive_lock(directory / ".lock"):
        if not _is_usable(pair):
            _generate(pair, common_name, bits)
    return pair


def _generate(pair: KeyPair, common_name: str, bits: int) -> None:
    now = datetime.now(UTC)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    _write_atomically(
        pair.key,
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        _PRIVATE_MODE,
    )
    _write_atomically(pair.cert, certificate.public_bytes(serialization.Encoding.PEM), _PUBLIC_MODE)


def _is_usable(pair: KeyPair) -> bool:
    if not (pair.key.is_file() and pair.cert.is_file()):
        return False
    try:
        private_key = serialization.load_pem_private_key(pair.key.read_bytes(), password=None)
        certificate = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    except (OSError, ValueError, TypeError):
        return False
    return (
        isinstance(private_key, rsa.RSAPrivateKey)
        and certificate.public_key() == private_key.public_key()
        and certificate.not_valid_after_utc - datetime.now(UTC) > timedelta(days=30)
    )


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, _PRIVATE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    # Created with its final mode, so a private key is never readable by others, not even briefly.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    temporary.chmod(mode)
    temporary.replace(path)
