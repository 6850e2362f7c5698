"""Logging in through Sweden Connect over OpenID Connect with the portal's own pages, against the
local OpenID Provider over real sockets: a Swedish person, a foreign eIDAS person, and answers
that are forged, too weak or replayed, each refused with a message and recorded."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from portal.audit.constants import EventType
from portal.identity.models import EidTransaction, Login, Person
from portal.identity.oidc.op import DELETE, OpPerson
from tests.access.world import events

pytestmark = pytest.mark.django_db

TOLVAN = "191212121212"


def start(client: Client, settings: Any) -> tuple[EidTransaction, str]:
    response = client.post("/logga-in/oidc/", {"next": "/konto/"})
    assert response.status_code == 200, response.content.decode()[:300]
    match = re.search(r'href="([^"]+)" data-autoredirect', response.content.decode())
    assert match, response.content.decode()
    url = match.group(1).replace("&amp;", "&")
    assert url.startswith(settings.OIDC_ISSUER)
    return EidTransaction.objects.get(provider="oidc"), url


def back(client: Client, params: dict[str, str]) -> Any:
    return client.get("/logga-in/oidc/svar", params, follow=True)


def test_a_swedish_person_logs_in(client: Client, oidc_settings: Any, oidc_op: Any) -> None:
    order, url = start(client, oidc_settings)
    assert "acr_values=http%3A%2F%2Fid.elegnamnden.se%2Floa%2F1.0%2Floa3" in url
    response = back(client, oidc_op.authorize(url, personal_number=TOLVAN))
    assert response.redirect_chain[-1][0] == "/konto/"
    login = Login.objects.get()
    assert (login.issuer, login.assurance, login.person.personal_number) == ("oidc", "loa3", TOLVAN)
    (succeeded,) = events(EventType.LOGIN_SUCCEEDED)
    order.refresh_from_db()
    assert succeeded.data["transaction"] == order.transaction_id
    assert TOLVAN not in str(succeeded.data)


def test_a_foreign_eidas_person_logs_in_and_sees_their_identity(
    client: Client, oidc_settings: Any, oidc_op: Any
) -> None:
    _order, url = start(client, oidc_settings)
    foreign = OpPerson(
        given_name="Erika",
        family_name="Mustermann",
        country="DE",
        eidas_identifier="DE/SE/1234567890",
    )
    back(client, oidc_op.authorize(url, person=foreign))
    person = Person.objects.get(eidas_identifier="DE/SE/1234567890")
    assert person.personal_number is None
    account = client.get("/konto/").content.decode()
    assert "DE/SE/1234567890" in account
    assert "utländsk e-legitimation" in account


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"sign_id_token_with": "foreign"}, "bad-signature"),
        ({"id_token_claims": {"aud": "someone-else"}}, "wrong-audience"),
        ({"id_token_claims": {"iss": "https://evil.example"}}, "wrong-issuer"),
        ({"id_token_claims": {"exp": 1_000_000_000}}, "expired"),
        ({"id_token_claims": {"nonce": "forged"}}, "nonce-mismatch"),
        ({"userinfo_unsigned": True}, "unsigned-userinfo"),
    ],
)
def test_a_forged_or_misaddressed_token_is_refused_and_recorded(
    client: Client, oidc_settings: Any, oidc_op: Any, tamper: dict[str, Any], reason: str
) -> None:
    _order, url = start(client, oidc_settings)
    oidc_op.tamper(**tamper)
    response = back(client, oidc_op.authorize(url, personal_number=TOLVAN))
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/logga-in/"
    assert not Login.objects.exists()
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == reason


def test_an_assurance_below_the_minimum_is_refused(
    client: Client, oidc_settings: Any, oidc_op: Any
) -> None:
    _order, url = start(client, oidc_settings)
    params = oidc_op.authorize(
        url, personal_number=TOLVAN, acr="http://id.elegnamnden.se/loa/1.0/loa2"
    )
    response = back(client, params)
    assert not Login.objects.exists()
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "assurance-too-low"
    assert response.redirect_chain[-1][0] == "/logga-in/"


def test_a_missing_personal_number_is_refused(
    client: Client, oidc_settings: Any, oidc_op: Any
) -> None:
    _order, url = start(client, oidc_settings)
    oidc_op.tamper(
        id_token_claims={"https://id.oidc.se/claim/personalIdentityNumber": DELETE},
        userinfo_claims={"https://id.oidc.se/claim/personalIdentityNumber": DELETE},
    )
    response = back(client, oidc_op.authorize(url, personal_number=TOLVAN))
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "missing-personal-number"
    assert "inget personnummer" in response.content.decode()


def test_a_replayed_answer_is_refused(client: Client, oidc_settings: Any, oidc_op: Any) -> None:
    _order, url = start(client, oidc_settings)
    params = oidc_op.authorize(url, personal_number=TOLVAN)
    back(client, params)
    client.logout()
    back(client, params)
    assert Login.objects.count() == 1
    assert events(EventType.EID_ORDER_REFUSED)


def test_cancelling_at_the_provider(client: Client, oidc_settings: Any, oidc_op: Any) -> None:
    _order, url = start(client, oidc_settings)
    response = back(client, oidc_op.authorize(url, cancel=True))
    assert "Du avbröt inloggningen hos Sweden Connect." in response.content.decode()
    assert len(events(EventType.LOGIN_CANCELLED)) == 1
