"""A whole login through the portal's own pages: the login page's button, the page that posts the
signed request to the test IdP, the IdP, and the IdP's answer posted back to the callback. What
the portal's services do with the identity is tested in tests/identity/test_redirect_flow.py."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from portal.identity.models import EidTransaction, Login, Person
from portal.identity.saml.idp import RunningIdp
from tests.identity.saml.helpers import ERIKA, TOLVAN

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("saml_settings")]


def _posted_form(html: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    assert action is not None, html[:500]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    return unescape(action[1]), {name: unescape(value) for name, value in fields.items()}


def _log_in(client: Client, idp: RunningIdp, code: str, person: Any) -> Any:
    page = client.post(f"/logga-in/{code}/")
    assert page.status_code == 200
    url, form = _posted_form(page.content.decode())
    assert "SAMLRequest" in form
    pending = idp.state.receive(url, form)
    answer = idp.state.respond(pending.id, person)
    callback = urlsplit(answer.url)
    assert f"{callback.scheme}://{callback.netloc}" == settings.BASE_URL
    assert callback.path == f"/logga-in/{code}/svar"
    # The answer comes back by a POST from the IdP's page (CSRF-exempt callback).
    return client.post(callback.path, answer.fields, follow=True)


def test_a_swedish_person_logs_in_through_the_portal(client: Client, saml_idp: RunningIdp) -> None:
    response = _log_in(client, saml_idp, "saml", TOLVAN)

    assert response.status_code == 200
    login = Login.objects.get()
    assert (login.issuer, login.assurance) == ("saml", "loa3")
    assert login.person.personal_number == "191212121212"
    assert EidTransaction.objects.get().status == EidTransaction.Status.COMPLETE


def test_a_foreign_person_logs_in_through_the_portal(client: Client, saml_idp: RunningIdp) -> None:
    _log_in(client, saml_idp, "eidas", ERIKA)

    person = Person.objects.get(eidas_identifier="DE/SE/1234567890")
    assert person.personal_number is None
    assert Login.objects.get().issuer == "eidas"
