"""The local test IdP itself: signed metadata, refusing requests the profile says it must refuse,
each request answered once, its HTTP surface, and ``portal saml-idp``."""

from __future__ import annotations

import base64
import io
import os
import re
import signal
import threading
import time
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.identity.saml.idp import IdpError, RunningIdp
from portal.identity.saml.metadata import verify_metadata
from portal.identity.saml.provider import SamlProvider
from tests.identity.saml.helpers import TOLVAN, begin, start_request

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("saml_settings")]


def test_the_metadata_is_signed_and_describes_both_identity_providers(
    saml_idp: RunningIdp,
) -> None:
    with httpx.Client(timeout=10) as client:
        response = client.get(saml_idp.metadata_url)
    assert response.status_code == 200

    verified = verify_metadata(
        response.content,
        signing_cert=str(saml_idp.metadata_signing_cert),
        xmlsec_binary="/usr/bin/xmlsec1",
    )

    assert verified.identity_providers == {saml_idp.entity_id("se"), saml_idp.entity_id("eidas")}
    assert verified.valid_until is not None
    text = response.text
    assert "urn:oasis:names:tc:SAML:attribute:assurance-certification" in text
    assert "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub" in text
    assert 'WantAuthnRequestsSigned="true"' in text
    assert text.count("SingleSignOnService") == 4


def _request_xml(form: dict[str, str]) -> str:
    return base64.b64decode(form["SAMLRequest"]).decode()


def _with_request(form: dict[str, str], xml: str) -> dict[str, str]:
    return {**form, "SAMLRequest": base64.b64encode(xml.encode()).decode()}


def test_an_unsigned_request_is_refused(saml_idp: RunningIdp) -> None:
    started = SamlProvider().start(start_request("saml"))
    assert started.redirect is not None
    assert started.redirect.form is not None
    xml = re.sub(
        r"<ns2:Signature.*</ns2:Signature>",
        "",
        _request_xml(started.redirect.form),
        flags=re.DOTALL,
    )
    assert "Signature" not in xml

    with pytest.raises(IdpError):
        saml_idp.state.receive(started.redirect.url, _with_request(started.redirect.form, xml))


def test_a_request_changed_after_signing_is_refused(saml_idp: RunningIdp) -> None:
    started = SamlProvider().start(start_request("saml"))
    assert started.redirect is not None
    assert started.redirect.form is not None
    xml = _request_xml(started.redirect.form).replace("/logga-in/saml/svar", "/logga-in/eidas/svar")

    with pytest.raises(IdpError):
        saml_idp.state.receive(started.redirect.url, _with_request(started.redirect.form, xml))


def test_a_redirect_request_with_a_bad_signature_is_refused(
    saml_idp: RunningIdp, settings: Any
) -> None:
    settings.SAML_REQUEST_BINDING = "redirect"
    started = SamlProvider().start(start_request("saml"))
    assert started.redirect is not None
    url = re.sub(r"Signature=[^&]+", "Signature=AAAA", started.redirect.url)

    with pytest.raises(IdpError):
        saml_idp.state.receive(url)


def test_each_request_is_answered_once(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp)
    login.answer(TOLVAN)

    with pytest.raises(IdpError):
        login.answer(TOLVAN)


def test_only_a_requested_level_may_be_chosen(saml_idp: RunningIdp) -> None:
    login = begin(SamlProvider(), saml_idp)

    with pytest.raises(IdpError):
        login.answer(TOLVAN, context="http://id.elegnamnden.se/loa/1.0/loa2")


def test_the_pages_answer_only_on_their_own_host(saml_idp: RunningIdp) -> None:
    with httpx.Client(timeout=10) as client:
        assert client.get(saml_idp.url + "/").status_code == 200
        assert "Test-IdP" in client.get(saml_idp.url + "/").text
        assert client.get(saml_idp.url + "/nothing-here").status_code == 404
        foreign = client.get(saml_idp.url + "/", headers={"Host": "evil.example"})
        assert foreign.status_code == 421


def test_a_bad_request_gets_a_swedish_error_page(saml_idp: RunningIdp) -> None:
    with httpx.Client(timeout=10) as client:
        response = client.post(
            saml_idp.state.sso_url("se", "post"), data={"SAMLRequest": "bm90IGEgcmVxdWVzdA=="}
        )

    assert response.status_code == 400
    assert "Begäran kunde inte" in response.text


def test_the_command_refuses_outside_development(settings: Any) -> None:
    settings.EID_SIMULATOR = False

    with pytest.raises(CommandError, match="development only"):
        call_command("saml-idp", "--port", "0")


class _Output(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()

    def write(self, text: str) -> int:
        if "Stop with Ctrl+C" in text:
            self.ready.set()
        return super().write(text)


def test_the_command_serves_until_stopped(settings: Any, tmp_path: Any) -> None:
    settings.EID_SIMULATOR = True
    output = _Output()

    def stop_when_ready() -> None:
        if output.ready.wait(timeout=30):
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_when_ready)
    stopper.start()
    try:
        call_command("saml-idp", "--port", "0", "--key-dir", str(tmp_path / "idp"), stdout=output)
    finally:
        stopper.join(timeout=30)

    printed = output.getvalue()
    assert "SAML_IDP_METADATA=http://127.0.0.1:" in printed
    assert "SAML_METADATA_SIGNING_CERT=" in printed
    assert (tmp_path / "idp" / "metadata-signing.pem").is_file()
