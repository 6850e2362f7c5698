"""A throw-away PKI for the Freja eID simulator.

The TLS part (a CA, the simulator's server certificate, the relying party's client certificate) is
made exactly as for the BankID simulator, by ``portal.identity.bankid.pki.ensure_test_pki``, but
in a directory of its own, so the two simulators never share keys. To it this module adds what
only Freja has: the key and certificate with which the service signs its results (the JWS in
``details``). Freja signs with RS256, so that key is RSA; its certificate is issued by the same
test CA and is what the portal pins as ``FREJA_SIGNING_CERT``.

Like the BankID test PKI, the files are generated at run time (under ``var/freja`` for ``portal
freja-simulator``, a temporary directory in tests) and never committed: they secure nothing but a
local simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from portal.identity import keyfiles
from portal.identity.bankid.pki import TestPki, ensure_test_pki, load_ca

SIGNING_COMMON_NAME = "Portal Freja eID Simulator result signing (test)"
ORGANIZATION = "Portal Freja eID Simulator (test only)"
SIGNING_VALIDITY = timedelta(days=730)
#: Freja's own signing keys are RSA 2048 or larger; RS256 needs RSA.
SIGNING_KEY_SIZE = 2048


@dataclass(frozen=True)
class FrejaTestPki:
    """Paths of the PEM files of the Freja simulator's test PKI (``ensure_freja_pki``)."""

    # Named for what it is; this keeps pytest from collecting it.
    __test__: ClassVar[bool] = False

    tls: TestPki
    signing_cert: Path
    signing_key: Path

    @property
    def ca_cert(self) -> Path:
        return self.tls.ca_cert

    @property
    def client_cert(self) -> Path:
        return self.tls.client_cert

    @property
    def client_key(self) -> Path:
        return self.tls.client_key

    @property
    def server_cert(self) -> Path:
        return self.tls.server_cert

    @property
    def server_key(self) -> Path:
        return self.tls.server_key


def ensure_freja_pki(directory: Path) -> FrejaTestPki:
    """Return the Freja test PKI in ``directory``, generating what is missing or expiring.

    The TLS files follow ``ensure_test_pki``'s rules. The signing key and certificate are reused
    while they belong together, were issued by the directory's current CA and stay valid for more
    than 30 days; otherwise both are made anew.
    """
    tls = ensure_test_pki(directory)
    pki = FrejaTestPki(
        tls=tls,
        signing_cert=directory / "signing.pem",
        signing_key=directory / "signing.key",
    )
    with keyfiles.exclusive_lock(directory / ".signing.lock"):
        if not _signing_usable(pki, now=datetime.now(UTC)):
            _generate_signing(pki)
    return pki


def load_signing(pki: FrejaTestPki) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The simulator's signing certificate and key."""
    return keyfiles.load_certificate(pki.signing_cert), keyfiles.load_rsa_key(pki.signing_key)


def make_signing_certificate(
    common_name: str = SIGNING_COMMON_NAME,
    *,
    issuer: tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes] | None = None,
    now: datetime | None = None,
    validity: timedelta = SIGNING_VALIDITY,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A new RSA key and a certificate for it: issued by ``issuer`` (certificate, key), or
    self-signed. Tests use it for a certificate the portal does not trust."""
    now = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=SIGNING_KEY_SIZE)
    signer: CertificateIssuerPrivateKeyTypes = key
    issuer_name: x509.Name | None = None
    if issuer is not None:
        issuer_cert, issuer_key = issuer
        issuer_name, signer = issuer_cert.subject, issuer_key
    builder = (
        keyfiles.certificate_builder(
            keyfiles.subject_name(ORGANIZATION, common_name),
            key.public_key(),
            issuer=issuer_name,
            now=now,
            validity=validity,
        )
        .add_extension(keyfiles.key_usage(content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    certificate = builder.sign(signer, hashes.SHA256())
    return certificate, key


def _generate_signing(pki: FrejaTestPki) -> None:
    ca_cert, ca_key = load_ca(pki.tls)
    certificate, key = make_signing_certificate(issuer=(ca_cert, ca_key))
    keyfiles.write_key_pair(pki.signing_key, key, pki.signing_cert, certificate)


def _signing_usable(pki: FrejaTestPki, *, now: datetime) -> bool:
    if not (pki.signing_cert.is_file() and pki.signing_key.is_file()):
        return False
    try:
        certificate, key = load_signing(pki)
        ca_cert, _ = load_ca(pki.tls)
    except (OSError, ValueError, TypeError):
        return False
    return keyfiles.is_current(certificate, key, now=now, issuer=ca_cert)
