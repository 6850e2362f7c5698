"""Private keys and certificates as PEM files, for the throw-away keys of development and tests.

The BankID and Freja test PKIs, the SAML key pairs and the OpenID Connect signing keys are all
generated at first use under a directory the caller chooses (``var/`` in development, a temporary
directory in tests) and never committed. They are written the same way: the directory with mode
0700, private keys with mode 0600 from the moment they exist, each file replaced atomically, and
all of it under a lock, so that the portal and a local counterpart may both make them at start-up.
Certificates are built the same way too: C=SE, the caller's organisation and common name,
back-dated by ``CLOCK_SKEW``, self-signed or issued by a test CA.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import NameOID

#: Certificates expiring sooner than this are replaced, so a long-lived var/ never breaks mid-demo.
RENEW_BEFORE = timedelta(days=30)
#: Back-dated so that a peer whose clock is a little behind still accepts a fresh certificate.
CLOCK_SKEW = timedelta(hours=1)

DIRECTORY_MODE = 0o700
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def ensure_directory(directory: Path) -> None:
    """Create ``directory`` (and its parents) with mode 0700 if it is missing."""
    if not directory.exists():
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        # mkdir's mode is filtered through the umask; a keys' directory must not be.
        directory.chmod(DIRECTORY_MODE)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (made if missing) across processes."""
    # The portal and a local counterpart may start together; without the lock each could replace
    # files the other has just written, leaving a certificate from one CA and a CA from another.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` at once: readers see the old file or the whole new one."""
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


def write_private_key(path: Path, key: PrivateKeyTypes) -> None:
    """The key as unencrypted PKCS#8 PEM, mode 0600."""
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomically(path, data, PRIVATE_MODE)


def write_certificate(path: Path, certificate: x509.Certificate) -> None:
    """The certificate as PEM, mode 0644."""
    write_atomically(path, certificate.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)


def write_key_pair(
    key_path: Path, key: PrivateKeyTypes, cert_path: Path, certificate: x509.Certificate
) -> None:
    """The key, then its certificate: a half-written pair never looks usable."""
    write_private_key(key_path, key)
    write_certificate(cert_path, certificate)


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_private_key(path: Path) -> PrivateKeyTypes:
    """The unencrypted PEM private key at ``path``."""
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def load_ec_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The unencrypted PEM private key at ``path``; ``TypeError`` unless it is an EC key."""
    key = load_private_key(path)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} does not hold an EC private key")
    return key


def load_rsa_key(path: Path) -> rsa.RSAPrivateKey:
    """The unencrypted PEM private key at ``path``; ``TypeError`` unless it is an RSA key."""
    key = load_private_key(path)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} does not hold an RSA private key")
    return key


def subject_name(organization: str, common_name: str) -> x509.Name:
    """``C=SE, O=organization, CN=common_name``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def certificate_builder(
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    *,
    issuer: x509.Name | None = None,
    now: datetime,
    validity: timedelta,
    ca: bool = False,
) -> x509.CertificateBuilder:
    """A certificate for ``public_key``, issued by ``issuer`` (by default self-issued), with a
    random serial number, valid from ``now`` less ``CLOCK_SKEW`` for ``validity``, and critical
    basic constraints (a CA that issues only end-entity certificates, or an end entity). The
    caller adds any other extension and signs."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )


def key_usage(
    *, content_commitment: bool = False, certificate_signing: bool = False
) -> x509.KeyUsage:
    """Key usage digitalSignature (TLS, OCSP), with nonRepudiation (``content_commitment``: a
    signing certificate) and keyCertSign and cRLSign (``certificate_signing``: a CA)."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificate_signing,
        crl_sign=certificate_signing,
        encipher_only=False,
        decipher_only=False,
    )


def is_current(
    certificate: x509.Certificate,
    key: PrivateKeyTypes,
    *,
    now: datetime,
    issuer: x509.Certificate | None = None,
    renew_before: timedelta = RENEW_BEFORE,
) -> bool:
    """Whether ``certificate`` is for ``key``, valid already, stays valid for ``renew_before``,
    and (given an ``issuer``) was issued by ``issuer``: whether a generated pair can be reused."""
    if not (
        certificate.public_key() == key.public_key()
        and certificate.not_valid_before_utc <= now
        and certificate.not_valid_after_utc - now > renew_before
    ):
        return False
    if issuer is not None:
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            return False
    return True
