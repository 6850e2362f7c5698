"""A throw-away PKI for the BankID simulator: a CA, the simulator's server certificate, the relying
party's client certificate, and the end users' signing certificates.

The portal's BankID client is configured exactly as against the real service (a client
certificate and a CA the server certificate is pinned to), only with these files instead of the
ones BankID issues. They are generated at run time, under a directory the caller chooses (``var/``
for ``portal bankid-simulator``, a temporary directory in tests), and never committed: they secure
nothing but a local simulator.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portal.identity import keyfiles

CA_COMMON_NAME = "Portal BankID Simulator Test CA"
SERVER_COMMON_NAME = "localhost"
CLIENT_COMMON_NAME = "Portal relying party (test)"
ORGANIZATION = "Portal BankID Simulator (test only)"

CA_VALIDITY = timedelta(days=3652)
SERVER_VALIDITY = timedelta(days=730)
CLIENT_VALIDITY = timedelta(days=730)
USER_VALIDITY = timedelta(days=730)


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
    keyfiles.ensure_directory(directory)
    pki = TestPki.in_directory(directory)
    with keyfiles.exclusive_lock(directory / ".lock"):
        if not _is_usable(pki, now=datetime.now(UTC)):
            _generate(pki)
    return pki


def load_ca(pki: TestPki) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The CA's certificate and private key, to issue user certificates and sign OCSP responses."""
    return keyfiles.load_certificate(pki.ca_cert), keyfiles.load_ec_key(pki.ca_key)


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
        .add_extension(keyfiles.key_usage(content_commitment=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


# --- Generation ---------------------------------------------------------------------------------


def _generate(pki: TestPki) -> None:
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        keyfiles.certificate_builder(
            keyfiles.subject_name(ORGANIZATION, CA_COMMON_NAME),
            ca_key.public_key(),
            now=now,
            validity=CA_VALIDITY,
            ca=True,
        )
        .add_extension(
            # digitalSignature: the CA signs the OCSP responses itself.
            keyfiles.key_usage(certificate_signing=True),
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
        .add_extension(keyfiles.key_usage(), critical=True)
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
        .add_extension(keyfiles.key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    # The CA goes last: a half-written set fails _is_usable and is made again on the next call.
    keyfiles.write_key_pair(pki.server_key, server_key, pki.server_cert, server_cert)
    keyfiles.write_key_pair(pki.client_key, client_key, pki.client_cert, client_cert)
    keyfiles.write_key_pair(pki.ca_key, ca_key, pki.ca_cert, ca_cert)


def _leaf_name(common_name: str) -> x509.Name:
    return keyfiles.subject_name(ORGANIZATION, common_name)


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
        keyfiles.certificate_builder(
            subject, public_key, issuer=ca_cert.subject, now=now, validity=validity
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


# --- Reuse --------------------------------------------------------------------------------------


def _is_usable(pki: TestPki, *, now: datetime) -> bool:
    """Whether all six files exist, belong together and stay valid long enough."""
    if not all(path.is_file() for path in pki.files()):
        return False
    try:
        ca_cert, ca_key = load_ca(pki)
        pairs = (
            (ca_cert, ca_key),
            (keyfiles.load_certificate(pki.server_cert), keyfiles.load_ec_key(pki.server_key)),
            (keyfiles.load_certificate(pki.client_cert), keyfiles.load_ec_key(pki.client_key)),
        )
    except (OSError, ValueError, TypeError):
        return False
    return all(
        keyfiles.is_current(certificate, key, now=now, issuer=ca_cert) for certificate, key in pairs
    )
