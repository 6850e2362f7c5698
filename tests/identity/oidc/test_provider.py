"""The OIDC provider end to end against the local OpenID Provider: the whole flow for a Swedish
person, a person with a coordination number and a person with a foreign e-ID, and every way an
answer is refused (forged, expired, wrongly addressed, replayed, weak assurance, cancelled)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from portal.identity.oidc.client import (
    CLAIM_COORDINATION_NUMBER,
    CLAIM_EIDAS_PERSON_IDENTIFIER,
    CLAIM_IDENTITY_BINDING,
    CLAIM_PERSONAL_NUMBER,
    OidcClient,
    OidcError,
)
from portal.identity.oidc.keys import SigningKey
from portal.identity.oidc.op import DELETE, OpPerson, RunningOp
from portal.identity.oidc.provider import OidcProvider, reset_shared_client
from portal.identity.providers.base import (
    Assurance,
    IdentityRejected,
    ProviderError,
    Started,
    StartRequest,
    VerifiedIdentity,
    loa_uris_at_least,
)
from tests.identity.oidc.conftest import CALLBACK_URL, OIDC_TEST_CLIENT_ID, OidcTestKeys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("oidc_settings")]

LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA4 = "http://id.elegnamnden.se/loa/1.0/loa4"
EIDAS_NF_SUB = "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub"
TOLVAN = "191212121212"
DRAGAN = "197001632392"  # a coordination number (day 63)


def start_request(*, minimum: Assurance = Assurance.LOA3, state: str = "") -> StartRequest:
    return StartRequest(
        purpose="login",
        end_user_ip="127.0.0.1",
        user_agent="pytest",
        device_identifier="device",
        referring_domain="testserver",
        same_device=False,
        minimum=minimum,
        state=state or str(uuid.uuid4()),
        callback_url=CALLBACK_URL,
    )


def begin(minimum: Assurance = Assurance.LOA3) -> tuple[OidcProvider, Started, StartRequest]:
    provider = OidcProvider()
    request = start_request(minimum=minimum)
    return provider, provider.start(request), request


def redirect_url(started: Started) -> str:
    assert started.redirect is not None
    return started.redirect.url


def login(op: RunningOp, minimum: Assurance = Assurance.LOA3, **approve: Any) -> VerifiedIdentity:
    provider, started, request = begin(minimum)
    params = op.authorize(redirect_url(started), **approve)
    return provider.finish(started, params, request)


def refusal(op: RunningOp, minimum: Assurance = Assurance.LOA3, **approve: Any) -> IdentityRejected:
    with pytest.raises(IdentityRejected) as caught:
        login(op, minimum, **approve)
    # Every refusal tells the person something, in Swedish, and nothing from the answer.
    assert caught.value.message
    return caught.value


FOREIGN = OpPerson(
    given_name="Hans",
    family_name="Muster",
    country="DE",
    eidas_identifier="DE/SE/0123456789",
    birthdate="1980-02-29",
)


# --- The authentication request --------------------------------------------------------------


def test_start_sends_the_profiles_authentication_request(oidc_op: RunningOp) -> None:
    _provider, started, request = begin(Assurance.LOA3)
    url = urlsplit(redirect_url(started))
    assert f"{url.scheme}://{url.netloc}" == oidc_op.issuer
    assert url.path == "/authorize"
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == OIDC_TEST_CLIENT_ID
    assert query["redirect_uri"] == CALLBACK_URL
    assert query["state"] == request.state
    assert query["prompt"] == "login"
    assert query["ui_locales"] == "sv"
    assert query["code_challenge_method"] == "S256"
    assert query["scope"].split() == [
        "openid",
        "https://id.oidc.se/scope/naturalPersonNumber",
        "https://id.oidc.se/scope/naturalPersonInfo",
        "https://id.swedenconnect.se/scope/eidasNaturalPersonIdentity",
        "https://id.swedenconnect.se/scope/eidasSwedishIdentity",
    ]
    # Exactly the levels worth the minimum or more: no LoA 2.
    assert query["acr_values"].split() == loa_uris_at_least(Assurance.LOA3)
    assert LOA2 not in query["acr_values"]
    # The nonce and PKCE verifier stay on the server; the browser sees only the challenge.
    assert query["nonce"] == started.secrets["nonce"] == started.transaction_id
    assert started.secrets["code_verifier"] not in redirect_url(started)
    assert len(started.secrets["code_verifier"]) >= 43
    assert len(query["nonce"]) >= 32


def test_the_request_object_is_signed_with_the_client_key(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    _provider, started, request = begin()
    query = dict(parse_qsl(urlsplit(redirect_url(started)).query))
    keys = KeySet.import_key_set(oidc_keys.client.public_jwks())
    token = jwt.decode(query["request"], keys, algorithms=["ES256"])
    assert token.header["typ"] == "oauth-authz-req+jwt"
    assert token.claims["iss"] == OIDC_TEST_CLIENT_ID
    assert token.claims["aud"] == oidc_op.issuer
    assert token.claims["state"] == request.state
    assert token.claims["nonce"] == started.secrets["nonce"]
    assert token.claims["code_challenge"] == query["code_challenge"]


def test_a_loa4_minimum_asks_for_loa4_only(oidc_op: RunningOp) -> None:
    _provider, started, _request = begin(Assurance.LOA4)
    query = dict(parse_qsl(urlsplit(redirect_url(started)).query))
    assert query["acr_values"].split() == loa_uris_at_least(Assurance.LOA4)
    assert LOA3 not in query["acr_values"].split()


# --- Whole flows -------------------------------------------------------------------------------


def test_a_swedish_person_logs_in(oidc_op: RunningOp) -> None:
    identity = login(oidc_op, personal_number=TOLVAN, acr=LOA3)
    assert identity.issuer == "oidc"
    assert identity.personal_number == TOLVAN
    assert (identity.given_name, identity.surname) == ("Tolvan", "Tolvansson")
    assert identity.assurance == Assurance.LOA3
    assert identity.eidas_identifier is None
    assert identity.transaction_id  # the ID token's jti
    assert identity.attributes["acr"] == LOA3
    assert identity.attributes["personal_number_claim"] == CLAIM_PERSONAL_NUMBER
    assert identity.attributes["coordination_number"] is False
    # The subject at the provider is opaque: never the personal number.
    assert TOLVAN not in identity.attributes["sub"]
    json.dumps(identity.attributes)  # stored as JSON by the lead's services


def test_the_asserted_level_is_the_identitys(oidc_op: RunningOp) -> None:
    assert login(oidc_op, personal_number=TOLVAN, acr=LOA4).assurance == Assurance.LOA4
    assert login(oidc_op, Assurance.LOA2, acr=LOA2).assurance == Assurance.LOA2


def test_a_person_with_a_coordination_number_logs_in(oidc_op: RunningOp) -> None:
    identity = login(oidc_op, personal_number=DRAGAN)
    assert identity.personal_number == DRAGAN
    assert identity.surname == "Testović"
    assert identity.attributes["personal_number_claim"] == CLAIM_COORDINATION_NUMBER
    assert identity.attributes["coordination_number"] is True


def test_a_person_with_a_foreign_eid_logs_in(oidc_op: RunningOp) -> None:
    identity = login(oidc_op, person=FOREIGN, acr=EIDAS_NF_SUB)
    assert identity.personal_number is None  # the lead's services decide what that means
    assert identity.eidas_identifier == "DE/SE/0123456789"
    assert (identity.given_name, identity.surname) == ("Hans", "Muster")
    assert identity.assurance == Assurance.LOA3
    assert identity.attributes["prid"] == "de:0123456789"
    assert identity.attributes["prid_persistence"] == "B"
    assert identity.attributes["country"] == "DE"
    assert identity.attributes["birthdate"] == "1980-02-29"
    assert "mapped" not in identity.attributes


def test_a_foreign_person_bound_to_a_swedish_number_gets_it(oidc_op: RunningOp) -> None:
    person = OpPerson(
        given_name="Hans",
        family_name="Muster",
        country="DE",
        eidas_identifier="DE/SE/0123456789",
        mapped_personal_number="198001011231",
    )
    identity = login(oidc_op, person=person, acr=EIDAS_NF_SUB)
    assert identity.personal_number == "198001011231"
    assert identity.eidas_identifier == "DE/SE/0123456789"
    assert identity.attributes["mapped"] is True
    assert identity.attributes["identity_binding"].endswith("/populationregister")


def test_a_mapped_number_under_an_unaccepted_binding_is_not_used(
    oidc_op: RunningOp, oidc_settings: Any
) -> None:
    oidc_settings.OIDC_EIDAS_ACCEPTED_PNR_BINDINGS = [
        "http://id.swedenconnect.se/id-binding/process/swedish-eid"
    ]
    person = OpPerson(
        given_name="Hans",
        family_name="Muster",
        country="DE",
        eidas_identifier="DE/SE/0123456789",
        mapped_personal_number="198001011231",
    )
    identity = login(oidc_op, person=person, acr=EIDAS_NF_SUB)
    assert identity.personal_number is None
    assert identity.eidas_identifier == "DE/SE/0123456789"


def test_a_new_key_at_the_provider_is_fetched_once(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    login(oidc_op)  # the client has the provider's keys now
    oidc_op.state.signing_key = oidc_keys.rolled_provider  # a key rollover
    assert login(oidc_op).personal_number == TOLVAN


# --- The person cancels, or the provider says no -------------------------------------------


def test_cancelling_at_the_provider(oidc_op: RunningOp) -> None:
    rejected = refusal(oidc_op, cancel=True)
    assert rejected.reason == "cancelled"
    assert rejected.cancelled is True


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("access_denied", "cancelled"),
        ("unmet_authentication_requirements", "assurance-too-low"),
        ("login_required", "provider-error"),
        ("server_error", "provider-error"),
    ],
)
def test_error_answers(oidc_op: RunningOp, error: str, reason: str) -> None:
    provider, started, request = begin()
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, {"error": error, "state": request.state}, request)
    assert caught.value.reason == reason
    assert caught.value.cancelled is (reason == "cancelled")


def test_an_answer_for_another_state_is_refused(oidc_op: RunningOp) -> None:
    provider, started, request = begin()
    params = oidc_op.authorize(redirect_url(started))
    assert provider.response_state(params) == request.state
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, {**params, "state": str(uuid.uuid4())}, request)
    assert caught.value.reason == "state-mismatch"


def test_an_answer_naming_another_issuer_is_refused(oidc_op: RunningOp) -> None:
    provider, started, request = begin()
    params = oidc_op.authorize(redirect_url(started))
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, {**params, "iss": "https://attacker.example"}, request)
    assert caught.value.reason == "wrong-issuer"


def test_an_answer_without_a_code_is_refused(oidc_op: RunningOp) -> None:
    provider, started, request = begin()
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, {"state": request.state}, request)
    assert caught.value.reason == "bad-answer"


# --- The token endpoint ------------------------------------------------------------------------


def test_a_code_used_twice_is_refused_at_the_token_endpoint(oidc_op: RunningOp) -> None:
    provider, started, request = begin()
    params = oidc_op.authorize(redirect_url(started))
    provider.finish(started, params, request)
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, params, request)
    assert caught.value.reason == "token-endpoint-error"


def test_a_wrong_pkce_verifier_is_refused(oidc_op: RunningOp) -> None:
    provider, started, request = begin()
    params = oidc_op.authorize(redirect_url(started))
    forged = Started(
        started.transaction_id, {**started.secrets, "code_verifier": "x" * 64}, started.redirect
    )
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(forged, params, request)
    assert caught.value.reason == "token-endpoint-error"


def test_a_client_with_an_unregistered_key_is_refused(
    oidc_op: RunningOp, oidc_settings: Any, oidc_keys: OidcTestKeys
) -> None:
    _provider, started, request = begin()
    params = oidc_op.authorize(redirect_url(started))
    oidc_settings.OIDC_CLIENT_KEY = str(oidc_keys.other_client_key_path)
    reset_shared_client()
    with pytest.raises(IdentityRejected) as caught:
        OidcProvider().finish(started, params, request)
    assert caught.value.reason == "token-endpoint-error"


# --- Forged and wrongly addressed ID tokens ----------------------------------------------------


def test_an_id_token_signed_with_another_key_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(sign_id_token_with="foreign")
    assert refusal(oidc_op).reason == "bad-signature"


def test_an_expired_id_token_is_refused(oidc_op: RunningOp) -> None:
    now = int(time.time())
    oidc_op.tamper(id_token_claims={"iat": now - 900, "exp": now - 600})
    assert refusal(oidc_op).reason == "expired"


def test_an_id_token_issued_long_ago_is_refused_whatever_its_exp(oidc_op: RunningOp) -> None:
    now = int(time.time())
    oidc_op.tamper(id_token_claims={"iat": now - 3600, "exp": now + 300})
    assert refusal(oidc_op).reason == "expired"


def test_an_id_token_from_the_future_is_refused(oidc_op: RunningOp) -> None:
    now = int(time.time())
    oidc_op.tamper(id_token_claims={"iat": now + 900, "exp": now + 1200})
    assert refusal(oidc_op).reason == "not-yet-valid"


def test_an_authentication_long_ago_is_refused(oidc_op: RunningOp) -> None:
    # prompt=login asks for a fresh authentication, not a reused session.
    oidc_op.tamper(id_token_claims={"auth_time": int(time.time()) - 7200})
    assert refusal(oidc_op).reason == "stale-authentication"


def test_an_id_token_for_another_client_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(id_token_claims={"aud": "another-client"})
    assert refusal(oidc_op).reason == "wrong-audience"


def test_an_id_token_for_several_clients_needs_azp(oidc_op: RunningOp) -> None:
    oidc_op.tamper(id_token_claims={"aud": [OIDC_TEST_CLIENT_ID, "another-client"]})
    assert refusal(oidc_op).reason == "wrong-audience"
    oidc_op.tamper(
        id_token_claims={"aud": [OIDC_TEST_CLIENT_ID, "another-client"], "azp": "another-client"}
    )
    assert refusal(oidc_op).reason == "wrong-audience"


def test_an_id_token_from_another_issuer_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(id_token_claims={"iss": "https://other-op.example"})
    assert refusal(oidc_op).reason == "wrong-issuer"


def test_an_id_token_with_another_nonce_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(id_token_claims={"nonce": "a-nonce-of-another-login"})
    assert refusal(oidc_op).reason == "nonce-mismatch"


def test_an_id_token_without_a_nonce_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(id_token_claims={"nonce": DELETE})
    assert refusal(oidc_op).reason == "nonce-mismatch"


def test_an_id_token_without_sub_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(id_token_claims={"sub": DELETE})
    assert refusal(oidc_op).reason == "bad-token"


def test_an_id_token_with_a_far_expiry_is_remembered_a_day(oidc_op: RunningOp) -> None:
    from portal.identity.models import UsedAssertion  # noqa: PLC0415

    oidc_op.tamper(id_token_claims={"exp": 10**15})
    login(oidc_op)
    (used,) = UsedAssertion.objects.filter(issuer="oidc")
    assert used.expires_at.timestamp() < time.time() + 86400 + 60


def test_an_id_token_replayed_is_refused(oidc_op: RunningOp) -> None:
    # Two logins whose ID tokens carry the same identifier: the second is a replay.
    oidc_op.tamper(id_token_claims={"jti": "the-same-token"})
    login(oidc_op)
    assert refusal(oidc_op).reason == "replayed"


# --- Assurance ---------------------------------------------------------------------------------


def test_a_level_below_the_minimum_is_refused(oidc_op: RunningOp) -> None:
    assert refusal(oidc_op, Assurance.LOA3, acr=LOA2).reason == "assurance-too-low"
    assert refusal(oidc_op, Assurance.LOA4, acr=LOA3).reason == "assurance-too-low"


def test_an_unknown_level_is_refused(oidc_op: RunningOp) -> None:
    assert refusal(oidc_op, acr="https://example.com/loa/very-high").reason == "unknown-acr"


def test_a_missing_level_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(id_token_claims={"acr": DELETE})
    assert refusal(oidc_op).reason == "unknown-acr"


# --- UserInfo ------------------------------------------------------------------------------------


def test_userinfo_about_someone_else_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(userinfo_claims={"sub": "someone-else"})
    assert refusal(oidc_op).reason == "wrong-subject"


def test_userinfo_signed_with_another_key_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(sign_userinfo_with="foreign")
    assert refusal(oidc_op).reason == "bad-signature"


def test_unsigned_userinfo_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(userinfo_unsigned=True)
    assert refusal(oidc_op).reason == "unsigned-userinfo"


def test_userinfo_for_another_client_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(userinfo_claims={"aud": "another-client"})
    assert refusal(oidc_op).reason == "wrong-audience"


def test_userinfo_from_another_issuer_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(userinfo_claims={"iss": "https://other-op.example"})
    assert refusal(oidc_op).reason == "wrong-issuer"


def test_userinfo_disagreeing_with_the_id_token_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(userinfo_claims={CLAIM_PERSONAL_NUMBER: "198001011231"})
    assert refusal(oidc_op, personal_number=TOLVAN).reason == "claims-mismatch"


# --- Claims that cannot be used -------------------------------------------------------------


def test_an_invalid_personal_number_is_refused(oidc_op: RunningOp) -> None:
    wrong = {CLAIM_PERSONAL_NUMBER: "191212121213"}  # the check digit is wrong
    oidc_op.tamper(id_token_claims=wrong, userinfo_claims=wrong)
    assert refusal(oidc_op).reason == "invalid-personal-number"


def test_an_invalid_eidas_identifier_is_refused(oidc_op: RunningOp) -> None:
    oidc_op.tamper(userinfo_claims={CLAIM_EIDAS_PERSON_IDENTIFIER: "SE/SE/123"})
    assert refusal(oidc_op, person=FOREIGN, acr=EIDAS_NF_SUB).reason == "invalid-eidas-identifier"


def test_no_number_and_no_eidas_identity_gives_none(oidc_op: RunningOp) -> None:
    # What to do with nobody in particular is the lead's (missing-personal-number).
    gone = {CLAIM_PERSONAL_NUMBER: DELETE}
    oidc_op.tamper(id_token_claims=gone, userinfo_claims=gone)
    identity = login(oidc_op)
    assert identity.personal_number is None
    assert identity.eidas_identifier is None


def test_a_mapped_number_without_a_binding_is_not_used(oidc_op: RunningOp) -> None:
    person = OpPerson(
        given_name="Hans",
        family_name="Muster",
        country="DE",
        eidas_identifier="DE/SE/0123456789",
        mapped_personal_number="198001011231",
    )
    oidc_op.tamper(userinfo_claims={CLAIM_IDENTITY_BINDING: DELETE})
    assert login(oidc_op, person=person, acr=EIDAS_NF_SUB).personal_number is None


def test_an_unexpected_failure_is_a_refusal_not_a_crash(
    oidc_op: RunningOp, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider, started, request = begin()
    params = oidc_op.authorize(redirect_url(started))

    def broken(**_kwargs: Any) -> Any:
        raise RecursionError("deeply nested JSON")

    monkeypatch.setattr(provider.client, "authenticate", broken)
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, params, request)
    assert caught.value.reason == "provider-error"


# --- The provider cannot be reached, or is not what it claims ----------------------------------


def test_start_when_the_provider_is_down(oidc_settings: Any) -> None:
    oidc_settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    reset_shared_client()
    provider = OidcProvider()
    with pytest.raises(ProviderError) as caught:
        provider.start(start_request())
    assert caught.value.code == "provider-unreachable"
    assert caught.value.transient is True
    assert provider.message(caught.value.message_key)


def test_finish_when_the_provider_went_down(oidc_op: RunningOp) -> None:
    provider, started, request = begin()
    params = oidc_op.authorize(redirect_url(started))
    oidc_op.stop()
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, params, request)
    assert caught.value.reason == "provider-unreachable"


def test_a_discovery_document_naming_another_issuer_is_refused(
    oidc_op: RunningOp, oidc_settings: Any
) -> None:
    # The same provider under another name (localhost): its document says 127.0.0.1.
    oidc_settings.OIDC_ISSUER = oidc_op.issuer.replace("127.0.0.1", "localhost")
    reset_shared_client()
    with pytest.raises(ProviderError) as caught:
        OidcProvider().start(start_request())
    assert caught.value.code == "wrong-issuer"


def test_a_plain_http_issuer_elsewhere_is_refused(oidc_settings: Any) -> None:
    oidc_settings.OIDC_ISSUER = "http://op.example.com"
    reset_shared_client()
    with pytest.raises(ProviderError) as caught:
        OidcProvider().start(start_request())
    assert caught.value.code == "configuration"
    assert caught.value.transient is False


# --- Tokens the test builds itself, through a fake token endpoint ---------------------------


def _fake_provider(
    oidc_keys: OidcTestKeys, id_token: str, userinfo: bytes = b"", signer: SigningKey | None = None
) -> OidcProvider:
    issuer = "https://op.example"
    signer = signer or oidc_keys.provider

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": issuer,
                    "authorization_endpoint": issuer + "/authorize",
                    "token_endpoint": issuer + "/token",
                    "userinfo_endpoint": issuer + "/userinfo",
                    "jwks_uri": issuer + "/jwks",
                },
            )
        if path == "/jwks":
            return httpx.Response(200, json=signer.public_jwks())
        if path == "/token":
            return httpx.Response(
                200, json={"id_token": id_token, "access_token": "a", "token_type": "Bearer"}
            )
        return httpx.Response(200, content=userinfo, headers={"content-type": "application/jwt"})

    client = OidcClient(
        issuer=issuer,
        client_id=OIDC_TEST_CLIENT_ID,
        client_key=oidc_keys.client,
        transport=httpx.MockTransport(handler),
    )
    return OidcProvider(client)


def _claims(nonce: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "https://op.example",
        "sub": "abc",
        "aud": OIDC_TEST_CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "acr": LOA3,
        **changes,
    }


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not a jwt", "bad-token"),
        ("a.b.c", "bad-token"),
        # alg "none": no signature at all.
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhYmMifQ.", "bad-signature"),
    ],
)
def test_garbage_id_tokens_are_refused(oidc_keys: OidcTestKeys, token: str, reason: str) -> None:
    provider = _fake_provider(oidc_keys, token)
    request = start_request()
    started = provider.start(request)
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, {"code": "c", "state": request.state}, request)
    assert caught.value.reason == reason


def test_an_hmac_signed_id_token_is_refused(oidc_keys: OidcTestKeys) -> None:
    from joserfc.jwk import OctKey  # noqa: PLC0415

    secret = OctKey.generate_key(256)
    provider = _fake_provider(oidc_keys, "")
    request = start_request()
    started = provider.start(request)
    token = jwt.encode({"alg": "HS256"}, _claims(started.secrets["nonce"]), secret)
    provider = _fake_provider(oidc_keys, token)
    with pytest.raises(IdentityRejected) as caught:
        provider.finish(started, {"code": "c", "state": request.state}, request)
    assert caught.value.reason == "bad-signature"


def test_a_token_built_elsewhere_with_the_right_key_passes(oidc_keys: OidcTestKeys) -> None:
    # The fake endpoint itself is sound: a correct token and UserInfo are accepted.
    provider = _fake_provider(oidc_keys, "")
    request = start_request()
    started = provider.start(request)
    signer = oidc_keys.provider
    id_token = signer.sign(_claims(started.secrets["nonce"], **{CLAIM_PERSONAL_NUMBER: TOLVAN}))
    userinfo = signer.sign(
        {"iss": "https://op.example", "aud": OIDC_TEST_CLIENT_ID, "sub": "abc", "given_name": "T"}
    ).encode()
    provider = _fake_provider(oidc_keys, id_token, userinfo)
    identity = provider.finish(started, {"code": "c", "state": request.state}, request)
    assert identity.personal_number == TOLVAN
    assert identity.given_name == "T"


def test_validate_id_token_reports_reasons(oidc_keys: OidcTestKeys) -> None:
    provider = _fake_provider(oidc_keys, "")
    client = provider.client
    signer = oidc_keys.provider
    with pytest.raises(OidcError) as caught:
        client.validate_id_token(signer.sign(_claims("n", exp="soon")), nonce="n")
    assert caught.value.reason == "bad-token"
    with pytest.raises(OidcError) as caught:
        client.validate_id_token(signer.sign(_claims("n")), nonce="")
    assert caught.value.reason == "nonce-mismatch"
    header, claims = client.validate_id_token(signer.sign(_claims("n")), nonce="n")
    assert header["kid"] == signer.kid
    assert claims["sub"] == "abc"
