"""Whole logins through the local test IdP: a Swedish person, people with a foreign e-ID (with and
without a mapped Swedish personal identity number), both request bindings, the IdP's pages."""

from __future__ import annotations

import base64
import re
from html import unescape
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from portal.identity.providers.base import Assurance, IdentityRejected
from portal.identity.saml import attributes as attr
from portal.identity.saml.idp import ForeignPerson, RunningIdp
from portal.identity.saml.provider import EidasProvider, SamlProvider
from tests.identity.saml.helpers import (
    DRAGAN,
    EIDAS_NF_HIGH,
    EIDAS_NF_SUB,
    ERIKA,
    LOA3,
    LOA4,
    TOLVAN,
    begin,
    start_request,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("saml_settings")]


def test_a_swedish_person_logs_in(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp)

    identity = login.finish(login.answer(TOLVAN))

    assert identity.issuer == "saml"
    assert identity.personal_number == "191212121212"
    assert (identity.given_name, identity.surname) == ("Tolvan", "Tolvansson")
    assert identity.assurance is Assurance.LOA3
    assert identity.eidas_identifier is None
    assert identity.attributes["authnContextClassRef"] == LOA3
    assert identity.attributes["idp"] == saml_idp.entity_id("se")
    # The assertion's ID identifies the login in the audit log.
    assert identity.transaction_id.startswith("_")
    assert identity.transaction_id != login.started.transaction_id


def test_the_request_is_signed_posted_and_asks_for_exact_swedish_levels(
    saml_idp: RunningIdp,
) -> None:
    login = begin(SamlProvider(), saml_idp)
    redirect = login.started.redirect
    assert redirect is not None
    assert redirect.url == saml_idp.state.sso_url("se", "post")
    assert redirect.form is not None
    assert redirect.form["RelayState"] == login.request.state
    xml = base64.b64decode(redirect.form["SAMLRequest"]).decode()
    assert 'Comparison="exact"' in xml
    assert re.findall(r"AuthnContextClassRef>([^<]+)<", xml) == [LOA3, LOA4]
    assert 'ForceAuthn="true"' in xml
    assert "nameid-format:transient" in xml
    assert "<ns2:Signature" in xml or ":Signature" in xml
    assert login.pending.contexts == (LOA3, LOA4)
    assert login.started.transaction_id == login.pending.id
    assert login.started.secrets["request_id"] == login.pending.id
    assert login.provider.response_state({"RelayState": "abc"}) == "abc"


def test_the_redirect_binding_signs_the_query(saml_idp: RunningIdp, settings: Any) -> None:
    settings.SAML_REQUEST_BINDING = "redirect"
    login = begin(SamlProvider(), saml_idp)
    redirect = login.started.redirect
    assert redirect is not None
    assert redirect.form is None
    assert redirect.url.startswith(saml_idp.state.sso_url("se", "redirect") + "?")
    assert "SigAlg=" in redirect.url
    assert "Signature=" in redirect.url

    assert login.finish(login.answer(TOLVAN)).personal_number == "191212121212"


def test_the_idp_may_answer_at_a_higher_level(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp)

    identity = login.finish(login.answer(TOLVAN, context=LOA4))

    assert identity.assurance is Assurance.LOA4


def test_a_higher_minimum_asks_for_that_level_only(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp, minimum=Assurance.LOA4)

    assert login.pending.contexts == (LOA4,)
    assert login.finish(login.answer(TOLVAN)).assurance is Assurance.LOA4


def test_a_coordination_number_is_a_personal_number(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp)

    assert login.finish(login.answer(DRAGAN)).personal_number == "197001632392"


def test_a_foreign_person_logs_in_with_eidas(saml_idp: RunningIdp) -> None:
    login = begin(EidasProvider(), saml_idp)
    assert login.pending.idp == "eidas"
    assert login.pending.contexts == (EIDAS_NF_SUB, EIDAS_NF_HIGH)

    identity = login.finish(login.answer(ERIKA))

    assert identity.issuer == "eidas"
    assert identity.personal_number is None
    assert identity.eidas_identifier == "DE/SE/1234567890"
    assert (identity.given_name, identity.surname) == ("Erika", "Mustermann")
    assert identity.assurance is Assurance.LOA3
    assert identity.attributes["prid"] == "de:1234567890"
    assert identity.attributes["pridPersistence"] == "A"
    assert identity.attributes["c"] == "DE"
    assert identity.attributes["dateOfBirth"] == "1964-08-12"
    assert identity.attributes["authnContextClassRef"] == EIDAS_NF_SUB
    assert "personalIdentityNumberBinding" not in identity.attributes


def test_eidas_high_is_level_four(saml_idp: RunningIdp) -> None:
    login = begin(EidasProvider(), saml_idp)

    assert login.finish(login.answer(ERIKA, context=EIDAS_NF_HIGH)).assurance is Assurance.LOA4


def test_a_mapped_personal_number_is_used_when_its_binding_is_accepted(
    saml_idp: RunningIdp,
) -> None:
    person = ForeignPerson(
        "DK", "0101801234", "Jens", "Hansen", "1980-01-01", "198001011231", attr.BINDING_SWEDISH_EID
    )
    login = begin(EidasProvider(), saml_idp)

    identity = login.finish(login.answer(person))

    assert identity.personal_number == "198001011231"
    assert identity.eidas_identifier == "DK/SE/0101801234"
    assert identity.attributes["personalIdentityNumberBinding"] == [attr.BINDING_SWEDISH_EID]


def test_a_mapped_personal_number_is_ignored_under_a_binding_not_accepted(
    saml_idp: RunningIdp, settings: Any
) -> None:
    settings.SAML_EIDAS_ACCEPTED_PNR_BINDINGS = [attr.BINDING_SWEDISH_EID]
    person = ForeignPerson(
        "DK",
        "0101801234",
        "Jens",
        "Hansen",
        "1980-01-01",
        "198001011231",
        attr.BINDING_POPULATION_REGISTER,
    )
    login = begin(EidasProvider(), saml_idp)

    identity = login.finish(login.answer(person))

    assert identity.personal_number is None
    assert identity.eidas_identifier == "DK/SE/0101801234"
    assert "198001011231" not in str(identity.attributes)


def _form_fields(page: str) -> tuple[str, dict[str, str]]:
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page)[1])  # type: ignore[index]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    }
    return action, fields


def test_through_the_idps_pages(saml_idp: RunningIdp) -> None:
    provider = SamlProvider()
    request = start_request("saml")
    started = provider.start(request)
    assert started.redirect is not None
    assert started.redirect.form is not None
    with httpx.Client(timeout=10) as browser:
        page = browser.post(started.redirect.url, data=started.redirect.form)
        assert page.status_code == 200
        assert "Välj person" in page.text
        assert "Tolvan Tolvansson" in page.text
        action, hidden = _form_fields(page.text)
        answer = browser.post(
            saml_idp.url + action,
            data={**hidden, "person": "191212121212", "context": LOA4, "action": "approve"},
        )
    assert answer.status_code == 200
    acs, fields = _form_fields(answer.text)
    assert acs == request.callback_url
    assert fields["RelayState"] == request.state

    identity = provider.finish(started, fields, request)

    assert identity.personal_number == "191212121212"
    assert identity.assurance is Assurance.LOA4


def test_a_foreign_person_typed_in_on_the_connectors_page(saml_idp: RunningIdp) -> None:
    provider = EidasProvider()
    request = start_request("eidas")
    started = provider.start(request)
    assert started.redirect is not None
    assert started.redirect.form is not None
    with httpx.Client(timeout=10) as browser:
        page = browser.post(started.redirect.url, data=started.redirect.form)
        assert "Annan person" in page.text
        action, hidden = _form_fields(page.text)
        answer = browser.post(
            saml_idp.url + action,
            data={
                **hidden,
                "person": "other",
                "country": "fi",
                "identifier": "010180-123A",
                "given_name": "Matti",
                "surname": "Meikäläinen",
                "date_of_birth": "1980-01-01",
                "context": EIDAS_NF_SUB,
                "action": "approve",
            },
        )
    _acs, fields = _form_fields(answer.text)

    identity = provider.finish(started, fields, request)

    assert identity.eidas_identifier == "FI/SE/010180-123A"
    assert identity.surname == "Meikäläinen"


def test_cancelling_on_the_idps_page(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp)
    saml_idp.state._pending[login.pending.id] = login.pending  # received by the page instead
    with httpx.Client(timeout=10) as browser:
        answer = browser.post(
            saml_idp.url + "/idp/se/answer",
            data={"request": login.pending.id, "action": "cancel"},
        )
    _acs, fields = _form_fields(answer.text)

    with pytest.raises(IdentityRejected) as rejected:
        login.finish(fields)

    assert rejected.value.reason == "cancelled"
    assert rejected.value.cancelled


def test_the_control_api_answers_without_html(saml_idp: RunningIdp) -> None:
    provider = SamlProvider()
    request = start_request("saml")
    started = provider.start(request)
    assert started.redirect is not None
    with httpx.Client(base_url=saml_idp.url, timeout=10) as control:
        received = control.post(
            "/control/receive", json={"url": started.redirect.url, "form": started.redirect.form}
        ).json()
        listed = control.get("/control/requests").json()
        answer = control.post(
            "/control/respond",
            json={"request_id": received["id"], "personal_number": "198001011231"},
        ).json()
    assert received["id"] in [item["id"] for item in listed]
    assert answer["url"] == request.callback_url

    identity = provider.finish(
        started,
        {"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]},
        request,
    )

    assert identity.personal_number == "198001011231"


def test_the_sp_metadata_is_published(client: Client, saml_keys: Any) -> None:
    response = client.get(reverse("identity:saml-metadata"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/samlmetadata+xml")
    xml = response.content.decode()
    for category in (
        attr.EC_LOA3_PNR,
        attr.EC_EIDAS_NATURAL_PERSON,
        attr.CONTRACT_SWEDEN_CONNECT,
        attr.ACCEPTS_COORDINATION_NUMBER,
    ):
        assert category in xml
    assert 'AuthnRequestsSigned="true"' in xml
    assert 'use="signing"' in xml
    assert 'use="encryption"' in xml
    assert saml_keys.sp_signing.certificate_base64() in xml
    assert saml_keys.sp_encryption.certificate_base64() in xml
    assert "/logga-in/saml/svar" in xml
    assert "/logga-in/eidas/svar" in xml
    assert 'Name="urn:oid:1.2.752.29.4.13"' in xml
    assert 'FriendlyName="personalIdentityNumber"' in xml
    # No algorithm the framework forbids is declared (looked for outside the certificates, whose
    # random base64 may spell anything).
    declared = xml
    for certificate in (
        saml_keys.sp_signing.certificate_base64(),
        saml_keys.sp_encryption.certificate_base64(),
    ):
        declared = declared.replace(certificate, "")
    assert "sha1" not in declared.lower()
    assert "md5" not in declared.lower()


def test_the_sp_metadata_is_not_published_when_saml_is_off(client: Client, settings: Any) -> None:
    settings.EID_ALLOWED_ISSUERS = ["bankid"]

    assert client.get(reverse("identity:saml-metadata")).status_code == 404
    assert client.post(reverse("identity:saml-metadata")).status_code in {404, 405}
