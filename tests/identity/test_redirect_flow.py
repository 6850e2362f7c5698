"""The redirect flow's plumbing (Sweden Connect over OpenID Connect or SAML, and eIDAS): starting,
the way to the identity provider, the answer's checks that do not depend on the protocol, and what
the person is told. The protocols themselves are tested in tests/identity/oidc and .../saml; here
a provider at the system's edge answers what each test needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from portal.audit.constants import EventType
from portal.identity.models import EidTransaction, Login, Person
from portal.identity.providers import registry
from portal.identity.providers.base import (
    Assurance,
    IdentityRejected,
    Redirect,
    RedirectIdentityProvider,
    Started,
    StartRequest,
    VerifiedIdentity,
)
from tests.access.world import events

pytestmark = pytest.mark.django_db

TOLVAN = "191212121212"
#: What each test's identity provider received in ``start``.
STARTS: list[StartRequest] = []


class EdgeProvider(RedirectIdentityProvider):
    """Answers with what the callback's ``outcome`` parameter asks for."""

    code = "edge"
    name = "Testfederationen"
    assurance = Assurance.LOA3

    def start(self, request: StartRequest) -> Started:
        STARTS.append(request)
        return Started(
            transaction_id=f"request-{request.state}",
            secrets={"nonce": "secret-nonce"},
            redirect=Redirect(url=f"https://idp.example/authorize?state={request.state}"),
        )

    def response_state(self, params: Mapping[str, str]) -> str:
        return params.get("state", "")

    def finish(
        self, started: Started, params: Mapping[str, str], request: StartRequest
    ) -> VerifiedIdentity:
        assert started.secrets["nonce"] == "secret-nonce"
        outcome = params.get("outcome", "ok")
        if outcome == "forged":
            raise IdentityRejected("bad-signature", "Svaret var inte korrekt underskrivet.")
        if outcome == "cancel":
            raise IdentityRejected("cancelled", cancelled=True)
        if outcome == "boom":
            raise ValueError("a parser fell over")
        return VerifiedIdentity(
            issuer=params.get("issuer", self.code),
            assurance=Assurance.LOA2 if outcome == "low" else Assurance.LOA3,
            transaction_id=params.get("assertion", f"assertion-{request.state}"),
            personal_number=None if outcome in {"eidas", "nonumber"} else TOLVAN,
            given_name="Tolvan",
            surname="Tolvansson",
            eidas_identifier="DE/SE/1234567890" if outcome == "eidas" else None,
        )


class PostProvider(EdgeProvider):
    """Sends the browser on with a form (SAML's HTTP-POST binding)."""

    code = "edgepost"

    def start(self, request: StartRequest) -> Started:
        return Started(
            transaction_id=f"request-{request.state}",
            secrets={"nonce": "secret-nonce"},
            redirect=Redirect(
                url="https://saml.idp.example/sso",
                form={"SAMLRequest": "PHNhbWw+", "RelayState": request.state},
            ),
        )


@pytest.fixture(autouse=True)
def _edge_providers(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    STARTS.clear()
    monkeypatch.setitem(registry.PROVIDERS, "edge", f"{__name__}:EdgeProvider")
    monkeypatch.setitem(registry.PROVIDERS, "edgepost", f"{__name__}:PostProvider")
    settings.EID_ALLOWED_ISSUERS = ["bankid", "edge", "edgepost"]
    settings.BASE_URL = "https://portal.example"


def start(client: Client, provider: str = "edge", next_url: str = "") -> EidTransaction:
    response = client.post(f"/logga-in/{provider}/", {"next": next_url})
    assert response.status_code == 200, response.content.decode()[:300]
    return EidTransaction.objects.get(provider=provider, status=EidTransaction.Status.PENDING)


def answer(client: Client, order: EidTransaction, **params: str) -> Any:
    return client.get(
        f"/logga-in/{order.provider}/svar", {"state": str(order.public_id), **params}, follow=True
    )


def test_the_login_page_offers_exactly_the_allowed_issuers(client: Client, settings: Any) -> None:
    html = client.get("/logga-in/").content.decode()
    assert "Mobilt BankID på en annan enhet" in html
    assert "Svensk e-legitimation via Testfederationen" in html
    assert "Freja" not in html
    settings.EID_ALLOWED_ISSUERS = ["edge"]
    html = client.get("/logga-in/").content.decode()
    assert "BankID" not in html
    assert 'action="/logga-in/edge/"' in html


def test_the_person_is_sent_to_the_identity_provider_with_what_the_action_demands(
    client: Client, settings: Any
) -> None:
    settings.EID_MIN_ASSURANCE = "loa3"
    response = client.post("/logga-in/edge/", {"next": "/arbetsgivare/"})
    order = EidTransaction.objects.get(provider="edge")
    html = response.content.decode()
    target = f"https://idp.example/authorize?state={order.public_id}"
    assert f'content="0;url={target}"' in html
    assert f'href="{target}"' in html
    assert response["Cache-Control"].startswith("max-age=0")
    (sent,) = STARTS
    assert sent.state == str(order.public_id)
    assert sent.callback_url == "https://portal.example/logga-in/edge/svar"
    assert sent.minimum == Assurance.LOA3
    # The order page of a pending redirect order leads to the identity provider again.
    again = client.get(f"/e-legitimation/{order.public_id}/")
    assert target in again.content.decode()
    assert [e.data["provider"] for e in events(EventType.LOGIN_STARTED)] == ["edge"]


def test_a_form_binding_posts_to_the_identity_provider_and_only_there(client: Client) -> None:
    response = client.post("/logga-in/edgepost/")
    html = response.content.decode()
    assert '<form method="post" action="https://saml.idp.example/sso" data-autosubmit>' in html
    assert 'name="SAMLRequest" value="PHNhbWw+"' in html
    policy = response["Content-Security-Policy"]
    assert "form-action 'self' https://saml.idp.example" in policy


def test_a_good_answer_logs_the_person_in_and_records_issuer_level_and_transaction(
    client: Client,
) -> None:
    order = start(client, next_url="/konto/")
    response = answer(client, order)
    assert response.redirect_chain[-1][0] == "/konto/"
    login = Login.objects.get()
    assert (login.issuer, login.assurance) == ("edge", "loa3")
    assert login.person.personal_number == TOLVAN
    (succeeded,) = events(EventType.LOGIN_SUCCEEDED)
    assert succeeded.data == {
        "provider": "edge",
        "issuer": "edge",
        "assurance": "loa3",
        "transaction": f"assertion-{order.public_id}",
    }


def test_a_foreign_eidas_identity_without_a_personal_number_logs_in(client: Client) -> None:
    order = start(client)
    answer(client, order, outcome="eidas")
    person = Person.objects.get(eidas_identifier="DE/SE/1234567890")
    assert person.personal_number is None
    assert Login.objects.get().person == person
    # The next login finds the same person.
    client.logout()
    answer(client, start(client), outcome="eidas", assertion="another")
    assert Person.objects.count() == 1
    assert Login.objects.count() == 2


@pytest.mark.parametrize(
    ("outcome", "reason", "message"),
    [
        ("forged", "bad-signature", "Svaret var inte korrekt underskrivet."),
        ("boom", "provider-error", "Inloggningen kunde inte genomföras."),
        ("low", "assurance-too-low", "inte tillräckligt hög tillitsnivå"),
        ("nonumber", "missing-personal-number", "inget personnummer"),
    ],
)
def test_a_refused_answer_is_explained_recorded_and_logs_nobody_in(
    client: Client, outcome: str, reason: str, message: str
) -> None:
    order = start(client)
    response = answer(client, order, outcome=outcome)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/logga-in/"
    assert message in response.content.decode()
    assert not Login.objects.exists()
    order.refresh_from_db()
    assert (order.status, order.hint_code) == (EidTransaction.Status.REFUSED, reason)
    (refused,) = events(EventType.LOGIN_REFUSED)
    assert refused.data["reason"] == reason
    assert TOLVAN not in str(refused.data)


def test_a_cancel_at_the_identity_provider_is_a_cancelled_login(client: Client) -> None:
    order = start(client)
    response = answer(client, order, outcome="cancel")
    assert "Inloggningen avbröts." in response.content.decode()
    order.refresh_from_db()
    assert order.status == EidTransaction.Status.CANCELLED
    assert len(events(EventType.LOGIN_CANCELLED)) == 1


def test_an_answer_from_an_issuer_other_than_the_one_asked_is_refused(client: Client) -> None:
    order = start(client)
    answer(client, order, issuer="bankid")
    assert not Login.objects.exists()
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "issuer-not-allowed"


def test_an_answer_is_used_once_only(client: Client) -> None:
    order = start(client)
    answer(client, order)
    client.logout()
    replay = answer(client, order)
    assert "Inloggningen" in replay.content.decode()
    assert Login.objects.count() == 1
    assert events(EventType.EID_ORDER_REFUSED)[-1].data["reason"] in {"replay", "session-mismatch"}


def test_the_same_assertion_on_a_new_order_is_refused(client: Client) -> None:
    answer(client, start(client), assertion="assertion-1")
    client.logout()
    answer(client, start(client), assertion="assertion-1")
    assert Login.objects.count() == 1
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "replayed"


def test_an_answer_in_another_browser_is_refused(client: Client) -> None:
    order = start(client)
    other = Client()
    response = answer(other, order)
    assert response.redirect_chain[-1][0] == "/logga-in/"
    assert not Login.objects.exists()
    assert events(EventType.EID_ORDER_REFUSED)[0].data["reason"] == "session-mismatch"


@pytest.mark.parametrize("state", ["", "not-a-uuid", "00000000-0000-4000-8000-000000000000"])
def test_a_forged_or_missing_state_is_refused(client: Client, state: str) -> None:
    start(client)
    response = client.post("/logga-in/edge/svar", {"state": state}, follow=True)
    assert response.status_code == 200
    assert "Inloggningen hittades inte" in response.content.decode()
    assert not Login.objects.exists()
    assert len(events(EventType.EID_ORDER_REFUSED)) == 1


def test_an_answer_for_an_issuer_that_is_not_allowed_is_refused(client: Client) -> None:
    response = client.get("/logga-in/unknown/svar", {"state": "x"}, follow=True)
    assert response.status_code == 200
    assert "kan inte användas här" in response.content.decode()
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "issuer-not-allowed"


def test_starting_with_an_issuer_that_is_not_allowed_is_refused(client: Client) -> None:
    response = client.post("/logga-in/freja-fake/")
    assert response.status_code == 404
    assert events(EventType.LOGIN_REFUSED)[0].data["reason"] == "issuer-not-allowed"


def test_a_cross_site_post_without_the_session_cookie_is_posted_again_from_the_portal(
    client: Client,
) -> None:
    """SAML's HTTP-POST binding: the identity provider's page posts the answer cross-site, so the
    SameSite=Lax session cookie stays behind. The portal posts the same fields again from its own
    page, with the cookie, and only then reads the answer."""
    order = start(client, provider="edgepost")
    cookieless = Client()
    first = cookieless.post("/logga-in/edgepost/svar", {"state": str(order.public_id)})
    html = first.content.decode()
    assert first.status_code == 200
    assert '<form method="post" action="/logga-in/edgepost/svar" data-autosubmit>' in html
    assert f'name="state" value="{order.public_id}"' in html
    assert 'name="_portal_resubmitted" value="1"' in html
    assert not first.cookies  # the session cookie the browser holds is left as it is
    order.refresh_from_db()
    assert order.status == EidTransaction.Status.PENDING  # nothing read or refused yet
    assert not events(EventType.EID_ORDER_REFUSED)
    client.post(
        "/logga-in/edgepost/svar", {"state": str(order.public_id), "_portal_resubmitted": "1"}
    )
    assert Login.objects.get().issuer == "edgepost"
    # A resubmitted post that still has no session is refused, not posted round again.
    again = cookieless.post(
        "/logga-in/edgepost/svar", {"state": str(order.public_id), "_portal_resubmitted": "1"}
    )
    assert again.status_code == 302


def test_too_many_logins_from_one_address_are_refused_for_a_while(
    client: Client, settings: Any
) -> None:
    settings.LOGIN_RATE_PER_IP = 2
    start(client)
    start(client)
    response = client.post("/logga-in/edge/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_RATE_WINDOW_SECONDS
    assert "för många inloggningsförsök" in response.content.decode()
    assert events(EventType.LOGIN_REFUSED)[-1].data == {
        "provider": "edge",
        "reason": "rate-limited-ip",
    }
    # Another address is not held up.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.post("/logga-in/edge/").status_code == 200


def test_too_many_logins_of_one_person_are_refused_for_a_while(
    client: Client, settings: Any
) -> None:
    settings.LOGIN_RATE_PER_PERSON = 2
    for attempt in range(2):
        answer(client, start(client), assertion=f"a{attempt}")
        client.logout()
    response = answer(client, start(client), assertion="a2")
    assert "för många inloggningar med din e-legitimation" in response.content.decode()
    assert Login.objects.count() == 2
    refused = events(EventType.LOGIN_REFUSED)[-1]
    assert refused.data["reason"] == "rate-limited-person"
    assert TOLVAN not in str(refused.data)


def test_the_limits_let_logins_through_when_the_cache_is_down(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LOGIN_RATE_PER_IP = 1

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr("portal.identity.ratelimit.cache.add", down)
    start(client)
    assert client.post("/logga-in/edge/").status_code == 200


def test_logging_in_gives_a_new_session_id_against_session_fixation(client: Client) -> None:
    order = start(client)
    planted = client.session.session_key
    assert planted
    answer(client, order)
    assert client.session.session_key != planted
    assert Login.objects.get().session_key == client.session.session_key
    # The id from before the login is no session at all any more.
    fixed = Client()
    fixed.cookies[django_settings.SESSION_COOKIE_NAME] = planted
    assert fixed.get("/konto/").status_code == 302
