"""Checking a ``<samlp:Response>`` as the Deployment Profile requires (chapter 6).

``check_response`` takes the ``SAMLResponse`` form field as the browser brought it and either
returns the checked assertion or raises ``IdentityRejected`` with a specific reason. The checks, in
order (the first that fails gives the reason):

1. ``malformed``: base64 and well-formed XML without a DTD, a ``samlp:Response``, no ID twice;
2. ``wrong-issuer``: the response is from the IdP the request went to;
3. ``unsigned`` / ``bad-algorithm`` / ``bad-signature``: the response carries its own signature
   (SHA-2), verified with a key from the IdP's verified metadata;
4. ``wrong-destination``: ``Destination`` is the consumer service the request named;
5. ``in-response-to-mismatch``: ``InResponseTo`` is the request's ID (unsolicited: refused);
6. status: ``cancelled`` (the framework's cancel code), ``fraud``, ``authn-failed``,
   ``assurance-unavailable``, otherwise ``idp-error``;
7. ``expired``: the response was issued within the last few minutes;
8. ``not-encrypted``: the assertion is an ``EncryptedAssertion`` (a plain one is refused),
   AES with RSA-OAEP key transport (``bad-algorithm``), decrypted with the SP's key
   (``decryption-failed``), exactly one assertion inside;
9. the assertion's own signature, when present, verified like the response's;
10. ``wrong-issuer``, ``expired`` (IssueInstant), ``not-yet-valid`` / ``expired`` (Conditions),
    ``wrong-audience`` (every AudienceRestriction names the SP);
11. bearer subject confirmation: ``wrong-destination`` (Recipient), ``in-response-to-mismatch``,
    ``expired`` (NotOnOrAfter);
12. exactly one AuthnStatement: ``unknown-authn-context`` (a context not requested, or unknown),
    ``assurance-too-low`` (below the minimum), ``stale-authentication`` (an AuthnInstant before
    the request: ForceAuthn was asked for).

Replay (each assertion once) is the provider's last step, since it writes to the database.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXml  # type: ignore[import-untyped]
import structlog
from django.utils.translation import gettext as _
from saml2 import class_name, extension_elements_to_elements, saml, samlp  # type: ignore[import-untyped]
from saml2.client import Saml2Client  # type: ignore[import-untyped]

from portal.identity.providers.base import LOA_URIS, Assurance, IdentityRejected
from portal.identity.saml import attributes as attr
from portal.identity.saml.failures import released

logger = structlog.get_logger(__name__)

SAMLP_NS: Final = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML_NS: Final = "urn:oasis:names:tc:SAML:2.0:assertion"
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
XENC_NS: Final = "http://www.w3.org/2001/04/xmlenc#"
SCM_BEARER: Final = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

#: A response is a few kilobytes; the form field is refused well before anything is parsed.
MAX_RESPONSE_CHARACTERS: Final = 512 * 1024
CLOCK_SKEW: Final = timedelta(seconds=60)
#: How old a response or assertion (IssueInstant) may be when it arrives.
MAX_AGE: Final = timedelta(minutes=5)

_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Expectation:
    """What the answer must match: the request as the portal sent it."""

    idp_entity_id: str
    sp_entity_id: str
    request_id: str
    acs_url: str
    #: The AuthnContextClassRef URIs requested (Comparison="exact").
    contexts: tuple[str, ...]
    minimum: Assurance
    #: When the request was made (``ForceAuthn``: no older authentication is accepted).
    issued_at: datetime | None = None


@dataclass(frozen=True)
class CheckedAssertion:
    assertion_id: str
    issuer: str
    authn_context: str
    assurance: Assurance
    authn_instant: datetime
    #: The latest time the assertion could still be used (Conditions / SubjectConfirmationData).
    not_on_or_after: datetime
    name_id: str
    #: Attribute name (urn:oid:...) -> values.
    attributes: dict[str, list[str]]


def rejected(reason: str, *, cancelled: bool = False) -> IdentityRejected:
    """``IdentityRejected`` with the Swedish message for ``reason`` (nothing from the answer)."""
    return IdentityRejected(reason, _message(reason), cancelled=cancelled)


def _message(reason: str) -> str:  # noqa: PLR0911 (one message per group of reasons)
    if reason == "cancelled":
        return _("Du avbröt inloggningen.")
    if reason in {"wrong-destination", "wrong-audience", "in-response-to-mismatch"}:
        return _(
            "Svaret från e-legitimationstjänsten hörde inte till den här inloggningen. Logga in på nytt."
        )
    if reason in {"expired", "stale-authentication"}:
        return _("Svaret från e-legitimationstjänsten var inte giltigt längre. Logga in på nytt.")
    if reason == "replayed":
        return _("Svaret från e-legitimationstjänsten har redan använts. Logga in på nytt.")
    if reason in {"assurance-too-low", "assurance-unavailable", "unknown-authn-context"}:
        return _(
            "E-legitimationen har inte den tillitsnivå som krävs här. Välj en annan e-legitimation."
        )
    if reason == "authn-failed":
        return _("Legitimeringen misslyckades. Försök igen eller välj en annan e-legitimation.")
    if reason == "fraud":
        return _("E-legitimationstjänsten avbröt legitimeringen av säkerhetsskäl.")
    if reason in {"idp-error", "metadata-unavailable"}:
        return _(
            "E-legitimationstjänsten kunde inte genomföra legitimeringen just nu. Försök igen "
            "senare eller välj en annan e-legitimation."
        )
    if reason == "missing-personal-number":
        return _(
            "E-legitimationen lämnade inget svenskt personnummer, och det krävs här. Välj en "
            "annan e-legitimation."
        )
    if reason == "missing-identifier":
        return _(
            "Den utländska e-legitimationen lämnade ingen identitet som kan användas här. Välj en "
            "annan e-legitimation."
        )
    return _(
        "Svaret från e-legitimationstjänsten kunde inte godkännas. Försök igen eller välj en annan "
        "e-legitimation."
    )


# --- Parsing -------------------------------------------------------------------------------------


def decode_response(encoded: str) -> str:
    """The XML text of a ``SAMLResponse`` form field (base64, possibly line-wrapped)."""
    if not encoded or len(encoded) > MAX_RESPONSE_CHARACTERS:
        raise rejected("malformed")
    try:
        data = base64.b64decode(_WHITESPACE.sub("", encoded), validate=True)
        return data.decode("utf-8")
    except (binascii.Error, ValueError):
        raise rejected("malformed") from None


def _parse_tree(xml: str) -> Element:
    try:
        root: Element = SafeXml.fromstring(xml.encode("utf-8"), forbid_dtd=True)
    except Exception:  # noqa: BLE001 (defusedxml's and expat's errors share no base class)
        raise rejected("malformed") from None
    seen: set[str] = set()
    for element in root.iter():
        for name in ("ID", "Id"):
            value = element.get(name)
            if value is None:
                continue
            if value in seen:  # two elements with one ID: the mark of signature wrapping
                raise rejected("malformed")
            seen.add(value)
    return root


def _parse_instant(text: str | None) -> datetime | None:
    if not text:
        return None
    cleaned = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise rejected("malformed") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _required_instant(text: str | None) -> datetime:
    parsed = _parse_instant(text)
    if parsed is None:
        raise rejected("malformed")
    return parsed


def _text(element: Any) -> str:
    return str(getattr(element, "text", None) or "").strip()


def _check_signature_algorithms(signature: Element | None) -> None:
    if signature is None:
        return
    method = signature.find(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}SignatureMethod")
    digests = signature.findall(
        f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference/{{{DS_NS}}}DigestMethod"
    )
    if (
        method is None
        or method.get("Algorithm") not in attr.SIGNATURE_ALGORITHMS
        or not digests
        or any(digest.get("Algorithm") not in attr.DIGEST_ALGORITHMS for digest in digests)
    ):
        raise rejected("bad-algorithm")


# --- The checks ----------------------------------------------------------------------------------


def check_response(
    encoded: str,
    *,
    client: Saml2Client,
    expected: Expectation,
    decryption_keys: tuple[str, ...] = (),
    now: datetime | None = None,
) -> CheckedAssertion:
    """Check the ``SAMLResponse`` field ``encoded``; see the module's docstring."""
    now = now or datetime.now(UTC)
    xml = decode_response(encoded)
    tree = _parse_tree(xml)
    if tree.tag != f"{{{SAMLP_NS}}}Response":
        raise rejected("malformed")
    try:
        response = samlp.response_from_string(xml)
    except Exception as error:  # noqa: BLE001 (pysaml2's object mapping of a hostile document)
        released(error)
        raise rejected("malformed") from None
    if response is None or not response.id:
        raise rejected("malformed")

    if _text(response.issuer) != expected.idp_entity_id:
        raise rejected("wrong-issuer")
    if response.signature is None:
        raise rejected("unsigned")
    _check_signature_algorithms(tree.find(f"{{{DS_NS}}}Signature"))
    try:
        client.sec.correctly_signed_response(xml, require_response_signature=True)
    except Exception as error:  # noqa: BLE001 (SignatureError, XmlsecError, MissingKey, ...)
        logger.info("saml_response_signature_refused", error=released(error))
        raise rejected("bad-signature") from None

    if (response.destination or "") != expected.acs_url:
        raise rejected("wrong-destination")
    if not expected.request_id or response.in_response_to != expected.request_id:
        raise rejected("in-response-to-mismatch")
    _check_status(response)
    issued = _required_instant(response.issue_instant)
    if not (now - MAX_AGE - CLOCK_SKEW <= issued <= now + CLOCK_SKEW):
        raise rejected("expired")

    assertion = _decrypt_assertion(
        xml, tree, response, client=client, decryption_keys=decryption_keys
    )
    return _check_assertion(assertion, expected=expected, now=now)


def _check_status(response: Any) -> None:
    status = response.status
    code = getattr(getattr(status, "status_code", None), "value", None)
    if code == attr.STATUS_SUCCESS:
        return
    second = getattr(
        getattr(getattr(status, "status_code", None), "status_code", None), "value", ""
    )
    if code is None:
        raise rejected("malformed")
    logger.info("saml_response_status", status=code, second_level=second or "")
    if second == attr.STATUS_CANCEL:
        raise rejected("cancelled", cancelled=True)
    if second in {attr.STATUS_FRAUD, attr.STATUS_POSSIBLE_FRAUD}:
        raise rejected("fraud")
    if second == attr.STATUS_AUTHN_FAILED:
        raise rejected("authn-failed")
    if second == attr.STATUS_NO_AUTHN_CONTEXT:
        raise rejected("assurance-unavailable")
    raise rejected("idp-error")


def _decrypt_assertion(
    xml: str,
    tree: Element,
    response: Any,
    *,
    client: Saml2Client,
    decryption_keys: tuple[str, ...],
) -> Any:
    if response.assertion or tree.find(f"{{{SAML_NS}}}Assertion") is not None:
        raise rejected("not-encrypted")
    encrypted = tree.findall(f"{{{SAML_NS}}}EncryptedAssertion")
    if len(encrypted) != 1 or len(response.encrypted_assertion) != 1:
        raise rejected("malformed")
    data = encrypted[0].findall(f"{{{XENC_NS}}}EncryptedData")
    # One EncryptedData; its key inside it (KeyInfo) or beside it, as SAML allows.
    if len(data) != 1 or any(
        child.tag not in {f"{{{XENC_NS}}}EncryptedData", f"{{{XENC_NS}}}EncryptedKey"}
        for child in encrypted[0]
    ):
        raise rejected("malformed")
    method = data[0].find(f"{{{XENC_NS}}}EncryptionMethod")
    key_methods = encrypted[0].findall(
        f".//{{{XENC_NS}}}EncryptedKey/{{{XENC_NS}}}EncryptionMethod"
    )
    if (
        method is None
        or method.get("Algorithm") not in attr.BLOCK_ENCRYPTION_ALGORITHMS
        or not key_methods
        or any(key.get("Algorithm") not in attr.KEY_TRANSPORT_ALGORITHMS for key in key_methods)
    ):
        raise rejected("bad-algorithm")
    try:
        decrypted = client.sec.decrypt(xml, key_file=list(decryption_keys))
    except Exception as error:  # noqa: BLE001 (DecryptError: none of the SP's keys opens it)
        logger.info("saml_assertion_not_decrypted", error=released(error))
        raise rejected("decryption-failed") from None
    decrypted_text = decrypted.decode("utf-8") if isinstance(decrypted, bytes) else str(decrypted)
    decrypted_tree = _parse_tree(decrypted_text)
    holders = decrypted_tree.findall(f"{{{SAML_NS}}}EncryptedAssertion")
    if len(holders) != 1:
        raise rejected("malformed")
    inner = list(holders[0])
    if len(inner) != 1 or inner[0].tag != f"{{{SAML_NS}}}Assertion":
        raise rejected("malformed")
    try:
        decrypted_response = samlp.response_from_string(decrypted_text)
        assertions = extension_elements_to_elements(
            decrypted_response.encrypted_assertion[0].extension_elements, [saml, samlp]
        )
    except Exception as error:  # noqa: BLE001 (pysaml2's object mapping)
        released(error)
        raise rejected("malformed") from None
    if len(assertions) != 1 or not isinstance(assertions[0], saml.Assertion):
        raise rejected("malformed")
    assertion = assertions[0]
    _check_signature_algorithms(inner[0].find(f"{{{DS_NS}}}Signature"))
    if assertion.signature is not None:
        try:
            client.sec.check_signature(
                assertion,
                origdoc=decrypted_text,
                node_name=class_name(assertion),
                issuer=response.issuer,
            )
        except Exception as error:  # noqa: BLE001 (as for the response's signature)
            logger.info("saml_assertion_signature_refused", error=released(error))
            raise rejected("bad-signature") from None
    return assertion


def _check_assertion(assertion: Any, *, expected: Expectation, now: datetime) -> CheckedAssertion:
    if not assertion.id or assertion.version != "2.0":
        raise rejected("malformed")
    if _text(assertion.issuer) != expected.idp_entity_id:
        raise rejected("wrong-issuer")
    issued = _required_instant(assertion.issue_instant)
    if not (now - MAX_AGE - CLOCK_SKEW <= issued <= now + CLOCK_SKEW):
        raise rejected("expired")
    valid_until = _check_conditions(assertion, expected=expected, now=now)
    confirmed_until = _check_subject(assertion, expected=expected, now=now)
    context, level, authn_instant = _check_authn_statement(assertion, expected=expected)
    return CheckedAssertion(
        assertion_id=assertion.id,
        issuer=expected.idp_entity_id,
        authn_context=context,
        assurance=level,
        authn_instant=authn_instant,
        not_on_or_after=max(valid_until, confirmed_until),
        name_id=_text(getattr(assertion.subject, "name_id", None)),
        attributes=_attribute_values(assertion),
    )


def _check_conditions(assertion: Any, *, expected: Expectation, now: datetime) -> datetime:
    """The assertion's Conditions (time window, audience); returns its NotOnOrAfter."""
    conditions = assertion.conditions
    if conditions is None:
        raise rejected("malformed")
    not_before = _parse_instant(conditions.not_before)
    not_on_or_after = _required_instant(conditions.not_on_or_after)
    if not_before is not None and now + CLOCK_SKEW < not_before:
        raise rejected("not-yet-valid")
    if now - CLOCK_SKEW >= not_on_or_after:
        raise rejected("expired")
    restrictions = conditions.audience_restriction or []
    if not restrictions or any(
        expected.sp_entity_id not in {_text(audience) for audience in restriction.audience or []}
        for restriction in restrictions
    ):
        raise rejected("wrong-audience")
    return not_on_or_after


def _check_authn_statement(
    assertion: Any, *, expected: Expectation
) -> tuple[str, Assurance, datetime]:
    """The one AuthnStatement: its context (requested, known, at least the minimum) and instant."""
    statements = assertion.authn_statement or []
    if len(statements) != 1:
        raise rejected("malformed")
    statement = statements[0]
    context = _text(
        getattr(getattr(statement, "authn_context", None), "authn_context_class_ref", None)
    )
    level = LOA_URIS.get(context)
    if level is None:
        raise rejected("unknown-authn-context")
    if level.rank < expected.minimum.rank:
        raise rejected("assurance-too-low")
    if context not in expected.contexts:
        raise rejected("unknown-authn-context")
    authn_instant = _required_instant(statement.authn_instant)
    if expected.issued_at is not None and authn_instant < expected.issued_at - CLOCK_SKEW:
        raise rejected("stale-authentication")
    return context, level, authn_instant


def _attribute_values(assertion: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for attribute_statement in assertion.attribute_statement or []:
        if attribute_statement.encrypted_attribute:
            raise rejected("malformed")  # the profile: the whole assertion is encrypted instead
        for attribute in attribute_statement.attribute or []:
            values.setdefault(attribute.name, []).extend(
                _text(value) for value in attribute.attribute_value or [] if _text(value)
            )
    return values


def _check_subject(assertion: Any, *, expected: Expectation, now: datetime) -> datetime:
    """The bearer confirmation's NotOnOrAfter, if one confirmation holds; else the first failure."""
    subject = assertion.subject
    confirmations = [
        confirmation
        for confirmation in getattr(subject, "subject_confirmation", None) or []
        if confirmation.method == SCM_BEARER
    ]
    if not confirmations:
        raise rejected("malformed")
    failures: list[str] = []
    for confirmation in confirmations:
        data = confirmation.subject_confirmation_data
        if data is None:
            failures.append("malformed")
            continue
        until = _parse_instant(data.not_on_or_after)
        not_before = _parse_instant(data.not_before)
        if (data.recipient or "") != expected.acs_url:
            failures.append("wrong-destination")
        elif data.in_response_to != expected.request_id:
            failures.append("in-response-to-mismatch")
        elif until is None or now - CLOCK_SKEW >= until:
            failures.append("expired")
        elif not_before is not None and now + CLOCK_SKEW < not_before:
            failures.append("not-yet-valid")
        else:
            return until
    raise rejected(failures[0])
