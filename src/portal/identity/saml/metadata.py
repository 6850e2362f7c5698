"""The identity providers' SAML metadata: fetched, its signature verified, then trusted.

The Deployment Profile (chapter 2) requires that metadata consumed automatically is trusted only
after its signature has been verified. Sweden Connect publishes one signed aggregate
(``md:EntitiesDescriptor``) per environment, signed with the federation's metadata signing key;
the local test IdP does the same. pysaml2 would accept *unsigned* metadata even when given a
certificate, so the document is checked here before pysaml2 sees it:

* well-formed XML without a DTD (defusedxml), an ``EntitiesDescriptor`` or ``EntityDescriptor`` root
  with an ``ID``, and no ``ID`` value twice (against signature wrapping);
* exactly one signature as the root's direct child, the first in document order, referencing the
  root (``#ID``), with a SHA-2 algorithm of chapter 8;
* that signature verified by xmlsec1 with the configured metadata signing certificate only;
* ``validUntil``, when present, still in the future.

Only then is the text handed to pysaml2 (as inline metadata) to read the entities.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXml  # type: ignore[import-untyped]
import httpx
import structlog
from saml2.sigver import CryptoBackendXmlSec1  # type: ignore[import-untyped]

from portal.identity.saml.attributes import DIGEST_ALGORITHMS, SIGNATURE_ALGORITHMS
from portal.identity.saml.failures import released

logger = structlog.get_logger(__name__)

MD_NS: Final = "urn:oasis:names:tc:SAML:2.0:metadata"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
#: Sweden Connect's production aggregate is a few MB; anything far larger is refused.
MAX_METADATA_BYTES: Final = 64 * 1024 * 1024
FETCH_TIMEOUT_SECONDS: Final = 15.0
#: How long verified metadata is used before it is fetched again (the aggregates change daily).
REFRESH_SECONDS: Final = 3600.0
#: After a failed fetch, how long before the next attempt (the old metadata serves meanwhile).
RETRY_SECONDS: Final = 60.0

_ROOTS: Final = {f"{{{MD_NS}}}EntitiesDescriptor", f"{{{MD_NS}}}EntityDescriptor"}
_ALGORITHM_SUPPORT_TAGS: Final = {"DigestMethod", "SigningMethod"}


class MetadataError(Exception):
    """The metadata cannot be used. ``transient``: it could not be fetched (try again later);
    otherwise it is untrustworthy (unsigned, wrongly signed, expired, malformed)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class VerifiedMetadata:
    xml: str
    #: Entity ids of the identity providers it describes.
    identity_providers: frozenset[str]
    valid_until: datetime | None
    loaded_at: float


def strip_unsupported_algorithms(descriptor: Any) -> None:
    """Drop the algorithms a pysaml2 ``EntityDescriptor`` declares that the framework forbids.

    pysaml2 declares (SAML2MetaAlgSupport) every algorithm the local xmlsec1 knows, SHA-1 and MD5
    included; the profile (2.1.1.3) does not allow declaring a prohibited algorithm.
    """
    if descriptor.extensions is None:
        return
    allowed = SIGNATURE_ALGORITHMS | DIGEST_ALGORITHMS
    descriptor.extensions.extension_elements = [
        element
        for element in descriptor.extensions.extension_elements
        if element.tag not in _ALGORITHM_SUPPORT_TAGS
        or element.attributes.get("Algorithm") in allowed
    ]


def read_source(source: str, *, timeout: float = FETCH_TIMEOUT_SECONDS) -> bytes:
    """The metadata document at ``source``: an http(s) URL or a file path."""
    if not source:
        raise MetadataError("no identity provider metadata is configured (SAML_IDP_METADATA)")
    if source.startswith(("https://", "http://")):
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.get(source, headers={"Accept": "application/samlmetadata+xml"})
        except httpx.HTTPError as error:
            raise MetadataError(
                f"cannot fetch the metadata from {source}: {type(error).__name__}", transient=True
            ) from None
        if response.status_code != httpx.codes.OK:
            raise MetadataError(
                f"cannot fetch the metadata from {source}: HTTP {response.status_code}",
                transient=True,
            )
        data = response.content
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise MetadataError(
                f"cannot read the metadata file {path}: {error.strerror}", transient=True
            ) from None
    if len(data) > MAX_METADATA_BYTES:
        raise MetadataError(f"the metadata from {source} is too large")
    return data


def verify_metadata(
    data: bytes, *, signing_cert: str, xmlsec_binary: str, now: datetime | None = None
) -> VerifiedMetadata:
    """Check ``data`` as described in the module's docstring; raise ``MetadataError`` if not."""
    if not signing_cert or not Path(signing_cert).is_file():
        raise MetadataError(
            f"the metadata signing certificate {signing_cert or '(SAML_METADATA_SIGNING_CERT)'} "
            "is missing",
            transient=bool(signing_cert),
        )
    try:
        root = SafeXml.fromstring(data, forbid_dtd=True)
    except Exception as error:  # noqa: BLE001 (defusedxml's and expat's errors share no base)
        raise MetadataError(
            f"the metadata is not well-formed XML ({type(error).__name__})"
        ) from None
    if root.tag not in _ROOTS:
        raise MetadataError(f"the metadata's root element is {root.tag}, not SAML metadata")
    root_id = root.get("ID")
    if not root_id:
        raise MetadataError("the metadata is not signed (its root element has no ID)")
    _check_unique_ids(root)
    _check_signature_shape(root, root_id)
    try:
        verified = CryptoBackendXmlSec1(xmlsec_binary).validate_signature(
            data, cert_file=signing_cert, cert_type="pem", node_name=_qname(root.tag), node_id=None
        )
    except Exception as error:  # noqa: BLE001 (pysaml2: SignatureError, XmlsecError, ...)
        raise MetadataError(
            "the metadata's signature does not verify with the metadata signing certificate "
            f"({released(error)})"
        ) from None
    if not verified:
        raise MetadataError(
            "the metadata's signature does not verify with the metadata signing certificate"
        )
    valid_until = _parse_instant(root.get("validUntil"))
    now = now or datetime.now(UTC)
    if valid_until is not None and valid_until <= now:
        raise MetadataError(f"the metadata expired at {valid_until.isoformat()} (validUntil)")
    identity_providers = frozenset(
        entity.get("entityID", "")
        for entity in ([root] if root.tag == f"{{{MD_NS}}}EntityDescriptor" else root.iter())
        if entity.tag == f"{{{MD_NS}}}EntityDescriptor"
        and entity.find(f"{{{MD_NS}}}IDPSSODescriptor") is not None
    )
    return VerifiedMetadata(
        xml=data.decode("utf-8"),
        identity_providers=identity_providers,
        valid_until=valid_until,
        loaded_at=time.monotonic(),
    )


def _qname(tag: str) -> str:
    namespace, _, local = tag[1:].partition("}")
    return f"{namespace}:{local}"


def _check_unique_ids(root: Element) -> None:
    seen: set[str] = set()
    for element in root.iter():
        for name in ("ID", "Id", "id"):
            value = element.get(name)
            if value is None:
                continue
            if value in seen:
                raise MetadataError("the metadata holds one ID twice (refused: signature wrapping)")
            seen.add(value)


def _check_signature_shape(root: Element, root_id: str) -> None:
    signature_tag = f"{{{DS_NS}}}Signature"
    own = [child for child in root if child.tag == signature_tag]
    if not own:
        raise MetadataError("the metadata is not signed")
    first = next(root.iter(signature_tag))
    if len(own) != 1 or first is not own[0]:
        raise MetadataError("the metadata's signature is not the root element's own")
    signature = own[0]
    references = signature.findall(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference")
    if len(references) != 1 or references[0].get("URI") != f"#{root_id}":
        raise MetadataError("the metadata's signature does not cover its root element")
    method = signature.find(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}SignatureMethod")
    digest = references[0].find(f"{{{DS_NS}}}DigestMethod")
    if (
        method is None
        or method.get("Algorithm") not in SIGNATURE_ALGORITHMS
        or digest is None
        or digest.get("Algorithm") not in DIGEST_ALGORITHMS
    ):
        raise MetadataError("the metadata is signed with an algorithm the framework does not allow")


def _parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise MetadataError(f"the metadata's validUntil is not a time: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class MetadataCache:
    """Verified metadata from one source, fetched at first use and again every hour.

    A failed refresh keeps the metadata already verified for as long as it is valid (and retries a
    minute later), so an unreachable metadata service does not stop logins at once. Thread-safe.
    """

    def __init__(
        self,
        *,
        source: str,
        signing_cert: str,
        xmlsec_binary: str,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.source = source
        self.signing_cert = signing_cert
        self.xmlsec_binary = xmlsec_binary
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._current: VerifiedMetadata | None = None
        self._next_attempt = 0.0

    def get(self) -> VerifiedMetadata:
        with self._lock:
            now = time.monotonic()
            current = self._current
            if current is not None and now < self._next_attempt and self._still_valid(current):
                return current
            try:
                fresh = verify_metadata(
                    read_source(self.source),
                    signing_cert=self.signing_cert,
                    xmlsec_binary=self.xmlsec_binary,
                )
            except MetadataError as error:
                if current is not None and self._still_valid(current):
                    logger.warning(
                        "saml_metadata_refresh_failed", source=self.source, error=str(error)
                    )
                    self._next_attempt = now + RETRY_SECONDS
                    return current
                logger.error("saml_metadata_refused", source=self.source, error=str(error))
                raise
            self._current = fresh
            self._next_attempt = now + self.refresh_seconds
            return fresh

    @staticmethod
    def _still_valid(metadata: VerifiedMetadata) -> bool:
        return metadata.valid_until is None or metadata.valid_until > datetime.now(UTC)
