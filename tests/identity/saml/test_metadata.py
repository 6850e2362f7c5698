"""The identity providers' metadata is trusted only when its signature verifies with the
configured metadata signing certificate; anything else stops SAML logins with a clear error (a
``ProviderError`` at start, ``metadata-unavailable`` at finish), never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portal.identity.providers.base import IdentityRejected, ProviderError, Started
from portal.identity.saml.idp import RunningIdp
from portal.identity.saml.metadata import MetadataCache, MetadataError, verify_metadata
from portal.identity.saml.provider import EidasProvider, SamlProvider
from tests.identity.saml.conftest import SamlKeys
from tests.identity.saml.helpers import TOLVAN, begin, start_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("saml_settings")]


def use_metadata(settings: Any, tmp_path: Path, text: str) -> None:
    path = tmp_path / "metadata.xml"
    path.write_text(text, encoding="utf-8")
    settings.SAML_IDP_METADATA = str(path)


def start_refused(provider: SamlProvider | None = None) -> ProviderError:
    provider = provider or SamlProvider()
    with pytest.raises(ProviderError) as caught:
        provider.start(start_request(provider.code))
    return caught.value


def test_signed_metadata_from_a_file_is_used(
    saml_idp: RunningIdp, settings: Any, tmp_path: Path
) -> None:
    use_metadata(settings, tmp_path, saml_idp.state.metadata_xml())
    login = begin(SamlProvider(), saml_idp)

    assert login.finish(login.answer(TOLVAN)).personal_number == "191212121212"


def test_unsigned_metadata_is_refused(saml_idp: RunningIdp, settings: Any, tmp_path: Path) -> None:
    state = saml_idp.state
    use_metadata(settings, tmp_path, state.signed_entities(state.entity_descriptors(), None))

    error = start_refused()

    assert error.message_key == "misconfigured"
    assert not error.transient
    assert "Välj en annan e-legitimation" in SamlProvider().message(error.message_key)


def test_metadata_signed_with_another_key_is_refused(
    saml_idp: RunningIdp, settings: Any, tmp_path: Path, saml_keys: SamlKeys
) -> None:
    state = saml_idp.state
    use_metadata(
        settings, tmp_path, state.signed_entities(state.entity_descriptors(), saml_keys.forger)
    )

    assert start_refused().message_key == "misconfigured"


def test_metadata_changed_after_signing_is_refused(
    saml_idp: RunningIdp, settings: Any, tmp_path: Path
) -> None:
    signed = saml_idp.state.metadata_xml()
    # An attacker points the IdP's single sign-on service elsewhere.
    tampered = signed.replace("/idp/se/sso/post", "/evil/sso/post", 1)
    assert tampered != signed
    use_metadata(settings, tmp_path, tampered)

    assert start_refused().message_key == "misconfigured"


def test_expired_metadata_is_refused(saml_idp: RunningIdp, settings: Any, tmp_path: Path) -> None:
    state = saml_idp.state
    expired = state.signed_entities(
        state.entity_descriptors(), state.keys.metadata_signing, valid_hours=-1
    )
    use_metadata(settings, tmp_path, expired)

    assert start_refused().message_key == "misconfigured"


def test_a_signature_that_does_not_cover_the_whole_metadata_is_refused(
    saml_idp: RunningIdp, settings: Any, tmp_path: Path
) -> None:
    """A genuinely signed document wrapped in an unsigned aggregate is not trusted."""
    signed = saml_idp.state.metadata_xml().split("?>", 1)[-1]
    wrapper = (
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_wrapper">'
        f"{signed}</md:EntitiesDescriptor>"
    )
    use_metadata(settings, tmp_path, wrapper)

    assert start_refused().message_key == "misconfigured"


def test_an_identity_provider_missing_from_the_metadata_is_refused(settings: Any) -> None:
    settings.SAML_EIDAS_IDP_ENTITY_ID = "https://connector.example/eidas"

    assert start_refused(EidasProvider()).message_key == "misconfigured"


def test_unreachable_metadata_is_a_transient_error(settings: Any) -> None:
    settings.SAML_IDP_METADATA = "http://127.0.0.1:9/metadata"

    error = start_refused()

    assert error.message_key == "unavailable"
    assert error.transient
    assert "fungerar inte just nu" in SamlProvider().message(error.message_key)


def test_a_missing_signing_certificate_is_reported(settings: Any, tmp_path: Path) -> None:
    settings.SAML_METADATA_SIGNING_CERT = str(tmp_path / "absent.pem")

    assert start_refused().message_key == "unavailable"


def test_without_a_signing_certificate_nothing_is_trusted(settings: Any) -> None:
    settings.SAML_METADATA_SIGNING_CERT = ""

    error = start_refused()

    assert error.message_key == "misconfigured"
    assert not error.transient


def test_an_answer_is_refused_when_the_metadata_went_bad(
    saml_idp: RunningIdp, settings: Any, tmp_path: Path
) -> None:
    login = begin(SamlProvider(), saml_idp)
    form = login.answer(TOLVAN)
    state = saml_idp.state
    use_metadata(settings, tmp_path, state.signed_entities(state.entity_descriptors(), None))

    with pytest.raises(IdentityRejected) as caught:
        SamlProvider().finish(login.started, form.fields, login.request)

    assert caught.value.reason == "metadata-unavailable"


def test_a_failed_refresh_keeps_the_verified_copy(saml_idp: RunningIdp, tmp_path: Path) -> None:
    path = tmp_path / "metadata.xml"
    path.write_text(saml_idp.state.metadata_xml(), encoding="utf-8")
    cache = MetadataCache(
        source=str(path),
        signing_cert=str(saml_idp.metadata_signing_cert),
        xmlsec_binary="/usr/bin/xmlsec1",
        refresh_seconds=0,
    )
    first = cache.get()
    assert saml_idp.entity_id("se") in first.identity_providers
    path.write_text("<not-metadata/>", encoding="utf-8")

    assert cache.get() is first


def test_a_document_type_definition_is_refused(saml_idp: RunningIdp) -> None:
    document = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]>'
        b'<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_x">&a;'
        b"</md:EntitiesDescriptor>"
    )

    with pytest.raises(MetadataError):
        verify_metadata(
            document,
            signing_cert=str(saml_idp.metadata_signing_cert),
            xmlsec_binary="/usr/bin/xmlsec1",
        )


def test_a_duplicated_id_is_refused(saml_idp: RunningIdp) -> None:
    signed = saml_idp.state.metadata_xml()
    root_id = signed.split(' ID="', 1)[1].split('"', 1)[0]
    doubled = signed.replace("<ns0:EntityDescriptor ", f'<ns0:EntityDescriptor ID="{root_id}" ', 1)
    assert doubled != signed

    with pytest.raises(MetadataError, match="twice"):
        verify_metadata(
            doubled.encode(),
            signing_cert=str(saml_idp.metadata_signing_cert),
            xmlsec_binary="/usr/bin/xmlsec1",
        )


def test_finish_without_metadata_never_crashes(settings: Any) -> None:
    settings.SAML_IDP_METADATA = ""
    started = Started(transaction_id="_r", secrets={"request_id": "_r"})

    with pytest.raises(IdentityRejected) as caught:
        SamlProvider().finish(started, {"SAMLResponse": "x"}, start_request("saml"))

    assert caught.value.reason == "metadata-unavailable"
