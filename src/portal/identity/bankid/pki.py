"""A throw-away PKI for the BankID simulator: a CA, the simulator's server certificate, the relying
party's client certificate, and the end users' signing certificates.

The portal's BankID client is configured exactly as against the real service (a client
certificate and a CA the server certificate is pinned to), only with these files instead of the
ones BankID issues. They are generated at run time, under a directory the caller chooses (``var/``
for ``portal bankid-simulator``, a temporary directory in tests), and never committed: they secure
nothing but a local simulator.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_COMMON_NAME = "Portal BankID Simulator Test CA"
SERVER_COMMON_NAME = "localhost"
CLIENT_COMMON_NAME = "Portal relying party (test)"
ORGANIZATION = "Portal BankID Simulator (test only)"

CA_VALIDITY = timedelta(days=3652)
SERVER_VALIDITY = timedelta(days=730)
CLIENT_VALIDITY = timedelta(days=730)
USER_VALIDITY = timedelta(days=730)
#: Certificates expiring sooner than this are replaced, so a long-lived var/ never breaks mid-demo.
RENEW_BEFORE = timedelta(days=30)
#: Back-dated so that a client whose clock is a little behind still accepts a fresh certificate.
CLOCK_SKEW = timedelta(hours=1)

_DIRECTORY_MODE = 0o700
_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644


@dataclass(frozen=True)
class TestPki:
    """Paths of the PEM files of a test PKI made by ``ensure_test_pki``."""

    # The name starts with "Test" because that is what it is; this keeps pytest from collecting it.
    __test__: ClassVar[bool] = False

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def in_directory(cls, directory: Path) -> TestPki:
        return cls(
            ca_cert=directory / "ca.pem",
            ca_key=directory / "ca.key",
            server_cert=directory / "server.pem",
            server_key=directory / "server.key",
            client_cert=directory / "client.pem",
            client_key=directory / "client.key",
        )

    def files(self) -> tuple[Path, ...]:
        return (
            self.ca_cert,
            self.ca_key,
            self.server_cert,
            self.server_key,
            self.client_cert,
            self.client_key,
        )


def ensure_test_pki(directory: Path) -> TestPki:
    """Return the test PKI in ``directory``, generating it first if it is missing or expiring.

    The directory is created with mode 0700 and the private keys are written with mode 0600. Files
    that exist, belong together and stay valid for more than 30 days are reused, so the portal and
    the simulator can both call this at start-up; otherwise all six files are made anew (a new
    server certificate under an old CA would do, but one rule is easier to reason about).
    """
    if not directory.exists():
        directory.mkdir(mode=_DIRECTORY_MODE, parents=True, exist_ok=True)
        # mkdir's mode is filtered through the umask; the keys' directory must not be.
        directory.chmod(_DIRECTORY_MODE)
    pki = TestPki.in_directory(directory)
    with _exclusive_lock(directory / ".lock"):
        if not _is_usable(pki, now=datetime.now(UTC)):
            _generate(pki)
    return pki


def load_ca(pki: TestPki) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA's certificate and private key, to issue user certificates and sign OCSP responses."""
    return _load_certificate(pki.ca_cert), _load_key(pki.ca_key)


def issue_user_certificate(
    pki: TestPki, personal_number: str, name: str
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Issue an end user's signing certificate (and its new key) under the test CA.

    Like a BankID user certificate, the subject carries the person's name and their personal
    number as serialNumber. Callers cache the result: every call makes a new key.
    """
    ca_cert, ca_key = load_ca(pki)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, personal_number),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        _leaf_builder(subject, key.public_key(), ca_cert, now=now, validity=USER_VALIDITY)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


# --- Generation ---------------------------------------------------------------------------------


def _generate(pki: TestPki) -> None:
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                # digitalSignature: the CA signs the OCSP responses itself.
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        _leaf_builder(
            _leaf_name(SERVER_COMMON_NAME),
            server_key.public_key(),
            ca_cert,
            now=now,
            validity=SERVER_VALIDITY,
        )
        .add_extension(_tls_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                    x509.IPAddress(ipaddress.IPv6Address("::1")),
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = (
        _leaf_builder(
            _leaf_name(CLIENT_COMMON_NAME),
            client_key.public_key(),
            ca_cert,
            now=now,
            validity=CLIENT_VALIDITY,
        )
        .add_extension(_tls_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    # The CA goes last: a half-written set fails _is_usable and is made again on the next call.
    _write_private(pki.server_key, server_key)
    _write_certificate(pki.server_cert, server_cert)
    _write_private(pki.client_key, client_key)
    _write_certificate(pki.client_cert, client_cert)
    _write_private(pki.ca_key, ca_key)
    _write_certificate(pki.ca_cert, ca_cert)


def _leaf_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _leaf_builder(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    ca_cert: x509.Certificate,
    *,
    now: datetime,
    validity: timedelta,
) -> x509.CertificateBuilder:
    ca_key_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _tls_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


# --- Files --------------------------------------------------------------------------------------


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    # The portal and the simulator may start together; without the lock each could replace files
    # the other has just written, leaving a server certificate from one CA and a CA from another.
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


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_atomically(path, data, _PRIVATE_MODE)


def _write_certificate(path: Path, certificate: x509.Certificate) -> None:
    _write_atomically(path, certificate.public_bytes(serialization.Encoding.PEM), _PUBLIC_MODE)


def _load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} does not hold an EC private key")
    return key


def _is_usable(pki: TestPki, *, now: datetime) -> bool:
    """Whether all six files exist, belong together and stay valid for at least RENEW_BEFORE."""
    if not all(path.is_file() for path in pki.files()):
        return False
    try:
        ca_cert, ca_key = load_ca(pki)
        pairs = (
            (ca_cert, ca_key),
            (_load_certificate(pki.server_cert), _load_key(pki.server_key)),
            (_load_certificate(pki.client_cert), _load_key(pki.client_key)),
        )
        for certificate, key in pairs:
            if certificate.public_key() != key.public_key():
                return False
            if not (
                certificate.not_valid_before_utc <= now
                and certificate.not_valid_after_utc - now > RENEW_BEFORE
            ):
                return False
            certificate.verify_directly_issued_by(ca_cert)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    return True
