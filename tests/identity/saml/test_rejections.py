"""Every answer the SAML providers must refuse, each refused with its own reason and a Swedish
message, and never with an exception other than ``IdentityRejected``."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.identity.models import UsedAssertion
from portal.identity.providers.base import Assurance, IdentityRejected, Started
from portal.identity.saml import attributes as attr
from portal.identity.saml.idp import PostForm, RunningIdp, SwedishPerson
from portal.identity.saml.provider import EidasProvider, SamlProvider
from tests.identity.saml.conftest import SamlKeys
from tests.identity.saml.helpers import (
    EIDAS_SUB,
    ERIKA,
    LOA2,
    LOA3,
    TOLVAN,
    Login,
    begin,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("saml_settings")]


@pytest.fixture
def login(saml_idp: RunningIdp) -> Login:
    return begin(SamlProvider(), saml_idp)


def refused(login: Login, form: PostForm | dict[str, str]) -> IdentityRejected:
    with pytest.raises(IdentityRejected) as caught:
        login.finish(form)
    rejected = caught.value
    assert rejected.message, "the person is told something"
    assert not rejected.cancelled or rejected.reason == "cancelled"
    return rejected


def encoded(xml: str) -> dict[str, str]:
    return {"SAMLResponse": base64.b64encode(xml.encode()).decode(), "RelayState": "x"}


# --- Signatures ----------------------------------------------------------------------------------


def test_an_unsigned_response_is_refused(login: Login) -> None:
    assert refused(login, login.answer(sign_response=False)).reason == "unsigned"


def test_a_response_signed_with_another_key_is_refused(login: Login, saml_keys: SamlKeys) -> None:
    form = login.answer(response_signer=saml_keys.forger)

    assert refused(login, form).reason == "bad-signature"


def test_an_assertion_signed_with_another_key_is_refused(login: Login, saml_keys: SamlKeys) -> None:
    form = login.answer(assertion_signer=saml_keys.forger)

    assert refused(login, form).reason == "bad-signature"


def test_a_response_changed_after_signing_is_refused(login: Login) -> None:
    xml = login.answer().xml()
    # Any signed part changed: here the IssueInstant, a second later (whatever its format).
    tampered = re.sub(
        r'(<ns0:Response [^>]*IssueInstant=")([^"]+)(")',
        lambda match: (
            match[1]
            + (datetime.fromisoformat(match[2]) + timedelta(seconds=1)).isoformat()
            + match[3]
        ),
        xml,
        count=1,
    )
    assert tampered != xml

    assert refused(login, encoded(tampered)).reason == "bad-signature"


def test_a_wrapped_response_is_refused(login: Login) -> None:
    """Signature wrapping: the signed response hidden inside a forged one with the same ID."""
    xml = login.answer().xml()
    inner = xml.split("?>", 1)[1].strip()
    response_id = re.search(r' ID="([^"]+)"', inner)[1]  # type: ignore[index]
    forged = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{response_id}" Version="2.0" '
        f'IssueInstant="{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}">'
        f"<samlp:Extensions>{inner}</samlp:Extensions></samlp:Response>"
    )

    assert refused(login, encoded(forged)).reason == "malformed"


# --- Encryption ----------------------------------------------------------------------------------


def test_an_unencrypted_assertion_is_refused(login: Login) -> None:
    form = login.answer(encrypt=False)
    assert "EncryptedAssertion" not in form.xml()

    assert refused(login, form).reason == "not-encrypted"


def test_an_assertion_encrypted_for_someone_else_is_refused(
    login: Login, saml_keys: SamlKeys
) -> None:
    form = login.answer(encryption_cert=saml_keys.forger.cert)

    assert refused(login, form).reason == "decryption-failed"


def test_a_weak_encryption_algorithm_is_refused(login: Login) -> None:
    form = login.answer(block_encryption="http://www.w3.org/2001/04/xmlenc#tripledes-cbc")
    assert "tripledes-cbc" in form.xml()

    assert refused(login, form).reason == "bad-algorithm"


def test_a_sha1_signature_is_refused(login: Login) -> None:
    form = login.answer(
        signature_algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        digest_algorithm="http://www.w3.org/2000/09/xmldsig#sha1",
    )

    assert refused(login, form).reason == "bad-algorithm"


# --- Addressing ----------------------------------------------------------------------------------


def test_a_response_to_another_address_is_refused(login: Login) -> None:
    form = login.answer(destination="https://elsewhere.example/acs")

    assert refused(login, form).reason == "wrong-destination"


def test_an_assertion_for_another_recipient_is_refused(login: Login) -> None:
    form = login.answer(recipient="https://elsewhere.example/acs")

    assert refused(login, form).reason == "wrong-destination"


def test_an_assertion_for_another_audience_is_refused(login: Login) -> None:
    form = login.answer(audience="https://another-sp.example/metadata")

    assert refused(login, form).reason == "wrong-audience"


def test_a_response_to_another_request_is_refused(login: Login) -> None:
    form = login.answer(in_response_to="_another-request")

    assert refused(login, form).reason == "in-response-to-mismatch"


def test_an_assertion_to_another_request_is_refused(login: Login) -> None:
    form = login.answer(subject_in_response_to="_another-request")

    assert refused(login, form).reason == "in-response-to-mismatch"


def test_a_genuine_answer_to_another_login_is_refused(saml_idp: RunningIdp) -> None:
    first = begin(SamlProvider(), saml_idp)
    second = begin(SamlProvider(), saml_idp)

    assert refused(second, first.answer()).reason == "in-response-to-mismatch"


def test_an_answer_without_its_request_is_refused(login: Login) -> None:
    form = login.answer()
    login.started = Started(transaction_id=login.started.transaction_id, secrets={})

    assert refused(login, form).reason == "in-response-to-mismatch"


def test_an_answer_from_another_identity_provider_is_refused(
    login: Login, saml_idp: RunningIdp
) -> None:
    form = login.answer(issuer=saml_idp.entity_id("eidas"))

    assert refused(login, form).reason == "wrong-issuer"


# --- Time and replay -----------------------------------------------------------------------------


def test_an_expired_assertion_is_refused(login: Login) -> None:
    past = datetime.now(UTC) - timedelta(minutes=3)
    form = login.answer(
        not_on_or_after=past, subject_not_on_or_after=datetime.now(UTC) + timedelta(minutes=5)
    )

    assert refused(login, form).reason == "expired"


def test_an_expired_subject_confirmation_is_refused(login: Login) -> None:
    form = login.answer(subject_not_on_or_after=datetime.now(UTC) - timedelta(minutes=3))

    assert refused(login, form).reason == "expired"


def test_an_assertion_not_yet_valid_is_refused(login: Login) -> None:
    form = login.answer(not_before=datetime.now(UTC) + timedelta(minutes=10))

    assert refused(login, form).reason == "not-yet-valid"


def test_an_old_response_is_refused(login: Login) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    form = login.answer(
        issue_instant=long_ago, not_on_or_after=datetime.now(UTC) + timedelta(minutes=5)
    )

    assert refused(login, form).reason == "expired"


def test_an_authentication_older_than_the_request_is_refused(login: Login) -> None:
    form = login.answer(authn_instant=datetime.now(UTC) - timedelta(hours=2))

    assert refused(login, form).reason == "stale-authentication"


def test_a_replayed_assertion_is_refused(login: Login) -> None:
    form = login.answer()
    identity = login.finish(form)
    assert UsedAssertion.objects.filter(
        issuer="saml", assertion_id=identity.transaction_id
    ).exists()

    assert refused(login, form).reason == "replayed"


# --- Assurance -----------------------------------------------------------------------------------


def test_an_assurance_below_the_minimum_is_refused(login: Login) -> None:
    form = login.answer(authn_context=LOA2)

    assert refused(login, form).reason == "assurance-too-low"


def test_an_unknown_authentication_context_is_refused(login: Login) -> None:
    form = login.answer(authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:Password")

    assert refused(login, form).reason == "unknown-authn-context"


def test_a_context_not_requested_is_refused_even_if_strong_enough(login: Login) -> None:
    form = login.answer(authn_context="http://id.elegnamnden.se/loa/1.0/eidas-nf-sub")

    assert refused(login, form).reason == "unknown-authn-context"


def test_eidas_from_a_scheme_not_notified_is_refused(saml_idp: RunningIdp) -> None:
    login = begin(EidasProvider(), saml_idp)

    form = login.answer(ERIKA, authn_context=EIDAS_SUB)

    assert refused(login, form).reason == "unknown-authn-context"


def test_a_minimum_above_the_answer_is_refused(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp, minimum=Assurance.LOA4)

    assert refused(login, login.answer(authn_context=LOA3)).reason == "assurance-too-low"


# --- Status --------------------------------------------------------------------------------------


def test_a_cancelled_login(login: Login, saml_idp: RunningIdp) -> None:
    form = saml_idp.state.cancel(login.pending.id)

    rejected = refused(login, form)

    assert rejected.reason == "cancelled"
    assert rejected.cancelled


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ((attr.STATUS_RESPONDER, attr.STATUS_AUTHN_FAILED), "authn-failed"),
        ((attr.STATUS_RESPONDER, attr.STATUS_FRAUD), "fraud"),
        ((attr.STATUS_REQUESTER, attr.STATUS_NO_AUTHN_CONTEXT), "assurance-unavailable"),
        ((attr.STATUS_REQUESTER, attr.STATUS_REQUEST_DENIED), "idp-error"),
        ((attr.STATUS_RESPONDER, None), "idp-error"),
    ],
)
def test_an_error_status(login: Login, status: tuple[str, str | None], reason: str) -> None:
    rejected = refused(login, login.answer(status=status))

    assert rejected.reason == reason
    assert not rejected.cancelled


def test_an_unsigned_cancel_is_refused_as_unsigned(login: Login) -> None:
    form = login.answer(status=(attr.STATUS_RESPONDER, attr.STATUS_CANCEL), sign_response=False)

    rejected = refused(login, form)

    assert rejected.reason == "unsigned"
    assert not rejected.cancelled


# --- Identity ------------------------------------------------------------------------------------


def test_a_swedish_login_without_a_personal_number_is_refused(login: Login) -> None:
    form = login.answer(ERIKA)

    assert refused(login, form).reason == "missing-personal-number"


def test_an_invalid_personal_number_is_refused(login: Login) -> None:
    form = login.answer(SwedishPerson("191212121213", "Tolvan", "Tolvansson"))

    assert refused(login, form).reason == "missing-personal-number"


def test_eidas_without_a_person_identifier_is_refused(saml_idp: RunningIdp) -> None:
    login = begin(EidasProvider(), saml_idp)
    attributes = ERIKA.attributes()
    del attributes[attr.EIDAS_PERSON_IDENTIFIER]

    assert refused(login, login.answer(ERIKA, attributes=attributes)).reason == "missing-identifier"


# --- Malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64 at all!",
        base64.b64encode(b"\xff\xfe\x00binary").decode(),
        base64.b64encode(b"<unclosed").decode(),
        base64.b64encode(b"<html><body>hello</body></html>").decode(),
        base64.b64encode(
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:'
            b'protocol">&lol2;</samlp:Response>'
        ).decode(),
        base64.b64encode(
            b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'
        ).decode(),
        "A" * (600 * 1024),
    ],
    ids=["empty", "not-base64", "not-utf8", "not-xml", "not-saml", "dtd", "no-id", "huge"],
)
def test_malformed_input_is_refused(login: Login, value: str) -> None:
    assert refused(login, {"SAMLResponse": value, "RelayState": "x"}).reason == "malformed"


def test_a_missing_response_is_refused(login: Login) -> None:
    assert refused(login, {"RelayState": "x"}).reason == "malformed"


def test_nothing_is_recorded_for_a_refused_answer(login: Login) -> None:
    refused(login, login.answer(audience="https://another-sp.example/metadata"))

    assert not UsedAssertion.objects.exists()


def test_the_tolvan_fixture_is_fine(login: Login) -> None:
    """The control: the same login, untouched, is accepted (so the refusals above are real)."""
    assert login.finish(login.answer(TOLVAN)).personal_number == "191212121212"
