"""The local OpenID Provider over real sockets: discovery, the Swedish login page, the token endpoint's
client authentication, code and PKCE checks, the signed UserInfo, and the JSON control hook."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7523 import private_key_jwt_sign  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.jwk import KeySet

from portal.identity.oidc.client import (
    CLAIM_COORDINATION_NUMBER,
    CLAIM_EIDAS_COUNTRY,
    CLAIM_EIDAS_PERSON_IDENTIFIER,
    CLAIM_PERSONAL_NUMBER,
    CLAIM_PRID,
    CLIENT_ASSERTION_TYPE,
)
from portal.identity.oidc.keys import SigningKey, load_signing_key
from portal.identity.oidc.op import OpPerson, RunningOp
from tests.identity.oidc.conftest import CALLBACK_URL, OIDC_TEST_CLIENT_ID, OidcTestKeys

VERIFIER = "v" * 43 + "-._~0123456789"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
SCOPES = (
    "openid https://id.oidc.se/scope/naturalPersonNumber "
    "https://id.oidc.se/scope/naturalPersonInfo "
    "https://id.swedenconnect.se/scope/eidasNaturalPersonIdentity"
)


def authorize_url(op: RunningOp, **changes: str) -> str:
    params = {
        "client_id": OIDC_TEST_CLIENT_ID,
        "response_type": "code",
        "scope": SCOPES,
        "redirect_uri": CALLBACK_URL,
        "state": "the-state",
        "nonce": "the-nonce",
        "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256",
        "acr_values": LOA3,
        **changes,
    }
    return op.issuer + "/authorize?" + urlencode({k: v for k, v in params.items() if v})


def assertion(op: RunningOp, key: SigningKey, **changes: Any) -> str:
    claims = changes.pop("claims", None)
    return str(
        private_key_jwt_sign(
            key.key,
            changes.pop("client_id", OIDC_TEST_CLIENT_ID),
            changes.pop("audience", op.issuer + "/token"),
            alg=key.alg,
            header={"kid": key.kid},
            claims=claims,
            expires_in=changes.pop("expires_in", 60),
        )
    )


def redeem(op: RunningOp, keys: OidcTestKeys, the_code: str, **changes: Any) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": the_code,
        "redirect_uri": CALLBACK_URL,
        "code_verifier": VERIFIER,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion(op, keys.client),
        **changes,
    }
    return httpx.post(op.issuer + "/token", data={k: v for k, v in form.items() if v is not None})


def code_for(op: RunningOp, **approve: Any) -> str:
    params = op.authorize(authorize_url(op), **approve)
    assert params["state"] == "the-state"
    assert params["iss"] == op.issuer
    return params["code"]


def provider_keys(op: RunningOp) -> KeySet:
    return KeySet.import_key_set(httpx.get(op.issuer + "/jwks.json").json())


# --- Discovery -----------------------------------------------------------------------------------


def test_discovery_has_what_the_profiles_require(oidc_op: RunningOp) -> None:
    document = httpx.get(oidc_op.issuer + "/.well-known/openid-configuration").json()
    assert document["issuer"] == oidc_op.issuer
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert document[name].startswith(oidc_op.issuer + "/")
    assert "openid" in document["scopes_supported"]
    assert document["response_types_supported"] == ["code"]
    assert "public" in document["subject_types_supported"]
    assert document["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert {"RS256", "ES256"} <= set(document["token_endpoint_auth_signing_alg_values_supported"])
    assert "none" not in document["token_endpoint_auth_signing_alg_values_supported"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert LOA3 in document["acr_values_supported"]
    assert document["claims_parameter_supported"] is True
    assert document["request_parameter_supported"] is True
    assert {"sv", "en"} <= set(document["ui_locales_supported"])
    assert CLAIM_PERSONAL_NUMBER in document["claims_supported"]


def test_jwks_has_the_public_key_only(oidc_op: RunningOp, oidc_keys: OidcTestKeys) -> None:
    response = httpx.get(oidc_op.issuer + "/jwks.json")
    (key,) = response.json()["keys"]
    assert key["kid"] == oidc_keys.provider.kid
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert "d" not in key
    assert "p" not in key


# --- The login page ----------------------------------------------------------------------------


def test_the_login_page_offers_demo_people_and_levels(oidc_op: RunningOp) -> None:
    response = httpx.get(authorize_url(oidc_op))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert 'lang="sv"' in page
    assert "Tolvan Tolvansson" in page
    assert "19121212-1212" in page
    assert "Utländsk e-legitimation (eIDAS)" in page
    assert "Tillitsnivå 3 (begärd)" in page
    assert "Avbryt" in page


def _form_action(page: str) -> str:
    match = re.search(r'<form method="post" action="(/authorize/[A-Za-z0-9_-]+)">', page)
    assert match is not None
    return match.group(1)


def test_approving_on_the_page_redirects_with_a_code(oidc_op: RunningOp) -> None:
    page = httpx.get(authorize_url(oidc_op)).text
    response = httpx.post(
        oidc_op.issuer + _form_action(page),
        data={
            "kind": "swedish",
            "personal_number": "191212121212",
            "acr": LOA3,
            "action": "approve",
        },
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(CALLBACK_URL + "?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert params["state"] == "the-state"
    assert params["iss"] == oidc_op.issuer
    assert params["code"]


def test_a_foreign_person_on_the_page(oidc_op: RunningOp, oidc_keys: OidcTestKeys) -> None:
    page = httpx.get(authorize_url(oidc_op)).text
    response = httpx.post(
        oidc_op.issuer + _form_action(page),
        data={
            "kind": "foreign",
            "country": "fi",
            "identifier": "010190-123A",
            "given_name": "Aino",
            "family_name": "Virtanen",
            "acr": "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub",
            "action": "approve",
        },
    )
    code = dict(parse_qsl(urlsplit(response.headers["location"]).query))["code"]
    tokens = redeem(oidc_op, oidc_keys, code).json()
    claims = jwt.decode(tokens["id_token"], provider_keys(oidc_op)).claims
    assert claims[CLAIM_PRID] == "fi:010190123a"
    assert CLAIM_PERSONAL_NUMBER not in claims
    userinfo = httpx.get(
        oidc_op.issuer + "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    info = jwt.decode(userinfo.text, provider_keys(oidc_op)).claims
    assert info[CLAIM_EIDAS_PERSON_IDENTIFIER] == "FI/SE/010190-123A"
    assert info["given_name"] == "Aino"
    # The country only when asked for by name (the claims parameter); this request did not.
    assert CLAIM_EIDAS_COUNTRY not in info


def test_a_foreign_person_without_a_name_is_asked_again(oidc_op: RunningOp) -> None:
    page = httpx.get(authorize_url(oidc_op)).text
    response = httpx.post(
        oidc_op.issuer + _form_action(page),
        data={"kind": "foreign", "country": "FI", "identifier": "x", "acr": LOA3},
    )
    assert response.status_code == 400
    assert "Fyll i förnamn" in response.text


def test_cancelling_on_the_page_redirects_with_access_denied(oidc_op: RunningOp) -> None:
    page = httpx.get(authorize_url(oidc_op)).text
    response = httpx.post(oidc_op.issuer + _form_action(page), data={"action": "cancel"})
    assert response.status_code == 302
    params = dict(parse_qsl(urlsplit(response.headers["location"]).query))
    assert params["error"] == "access_denied"
    assert params["state"] == "the-state"
    assert "code" not in params


def test_a_form_from_another_site_is_refused(oidc_op: RunningOp) -> None:
    page = httpx.get(authorize_url(oidc_op)).text
    response = httpx.post(
        oidc_op.issuer + _form_action(page),
        data={"kind": "swedish", "personal_number": "191212121212", "acr": LOA3},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert "location" not in response.headers


def test_a_pending_login_is_used_once(oidc_op: RunningOp) -> None:
    action = _form_action(httpx.get(authorize_url(oidc_op)).text)
    data = {"kind": "swedish", "personal_number": "191212121212", "acr": LOA3}
    assert httpx.post(oidc_op.issuer + action, data=data).status_code == 302
    assert httpx.post(oidc_op.issuer + action, data=data).status_code == 404


# --- Authentication requests that are refused ----------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "unknown-client"},
        {"redirect_uri": "https://attacker.example/callback"},
        {"redirect_uri": CALLBACK_URL + "/more"},
        {"redirect_uri": ""},
    ],
)
def test_unknown_clients_and_redirects_get_no_redirect(
    oidc_op: RunningOp, changes: dict[str, str]
) -> None:
    response = httpx.get(authorize_url(oidc_op, **changes))
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request"),
        ({"request": "not-a-jwt"}, "invalid_request_object"),
    ],
)
def test_bad_requests_are_answered_with_an_error(
    oidc_op: RunningOp, changes: dict[str, str], error: str
) -> None:
    response = httpx.get(authorize_url(oidc_op, **changes))
    assert response.status_code == 302
    params = dict(parse_qsl(urlsplit(response.headers["location"]).query))
    assert params["error"] == error
    assert params["state"] == "the-state"


def test_a_request_object_signed_by_someone_else_is_refused(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    other = load_signing_key(oidc_keys.other_client_key_path)
    now = int(time.time())
    request = other.sign(
        {"iss": OIDC_TEST_CLIENT_ID, "aud": oidc_op.issuer, "iat": now, "exp": now + 60}
    )
    params = oidc_op.authorize(authorize_url(oidc_op, request=request))
    assert params["error"] == "invalid_request_object"


def test_a_request_objects_values_win(oidc_op: RunningOp, oidc_keys: OidcTestKeys) -> None:
    now = int(time.time())
    request = oidc_keys.client.sign(
        {
            "iss": OIDC_TEST_CLIENT_ID,
            "aud": oidc_op.issuer,
            "iat": now,
            "exp": now + 60,
            "client_id": OIDC_TEST_CLIENT_ID,
            "response_type": "code",
            "state": "signed-state",
        }
    )
    params = oidc_op.authorize(authorize_url(oidc_op, request=request))
    assert params["state"] == "signed-state"


# --- The token endpoint ------------------------------------------------------------------------


def test_a_code_is_redeemed_once(oidc_op: RunningOp, oidc_keys: OidcTestKeys) -> None:
    code = code_for(oidc_op, personal_number="191212121212", acr=LOA3)
    first = redeem(oidc_op, oidc_keys, code)
    assert first.status_code == 200
    tokens = first.json()
    assert tokens["token_type"] == "Bearer"
    token = jwt.decode(tokens["id_token"], provider_keys(oidc_op))
    assert token.header["alg"] == "RS256"
    claims = token.claims
    assert claims["iss"] == oidc_op.issuer
    assert claims["aud"] == OIDC_TEST_CLIENT_ID
    assert claims["nonce"] == "the-nonce"
    assert claims["acr"] == LOA3
    assert claims[CLAIM_PERSONAL_NUMBER] == "191212121212"
    assert claims["sub"] != "191212121212"
    assert claims["exp"] - claims["iat"] <= 300  # the profile's five minutes
    assert {"auth_time", "jti"} <= set(claims)
    # Names come from UserInfo (naturalPersonInfo), not the ID token.
    assert "given_name" not in claims

    again = redeem(oidc_op, oidc_keys, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # ... and what the first redemption gave is revoked.
    userinfo = httpx.get(
        oidc_op.issuer + "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 401


def test_a_coordination_number_is_its_own_claim(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    code = code_for(oidc_op, personal_number="197001632392")
    claims = jwt.decode(
        redeem(oidc_op, oidc_keys, code).json()["id_token"], provider_keys(oidc_op)
    ).claims
    assert claims[CLAIM_COORDINATION_NUMBER] == "197001632392"
    assert CLAIM_PERSONAL_NUMBER not in claims


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_verifier": "w" * 50}, "invalid_grant"),
        ({"code_verifier": None}, "invalid_grant"),
        ({"redirect_uri": "http://testserver/other"}, "invalid_grant"),
        ({"code": "no-such-code"}, "invalid_grant"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"client_assertion": None}, "invalid_client"),
        ({"client_assertion_type": "urn:other"}, "invalid_client"),
    ],
)
def test_bad_token_requests(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys, changes: dict[str, Any], error: str
) -> None:
    code = code_for(oidc_op)
    response = redeem(oidc_op, oidc_keys, code, **changes)
    assert response.status_code in {400, 401}
    assert response.json()["error"] == error


@pytest.mark.parametrize(
    "assertion_changes",
    [
        {"audience": "https://another-op.example/token"},
        {"client_id": "unknown-client"},
        {"expires_in": -30},
        {"expires_in": 3600},
    ],
)
def test_bad_client_assertions(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys, assertion_changes: dict[str, Any]
) -> None:
    code = code_for(oidc_op)
    response = redeem(
        oidc_op,
        oidc_keys,
        code,
        client_assertion=assertion(oidc_op, oidc_keys.client, **assertion_changes),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_client_assertion_signed_with_another_key(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    other = load_signing_key(oidc_keys.other_client_key_path)
    response = redeem(
        oidc_op, oidc_keys, code_for(oidc_op), client_assertion=assertion(oidc_op, other)
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_client_assertion_is_used_once(oidc_op: RunningOp, oidc_keys: OidcTestKeys) -> None:
    used = assertion(oidc_op, oidc_keys.client)
    assert redeem(oidc_op, oidc_keys, code_for(oidc_op), client_assertion=used).status_code == 200
    replayed = redeem(oidc_op, oidc_keys, code_for(oidc_op), client_assertion=used)
    assert replayed.status_code == 401


def test_the_issuer_is_accepted_as_assertion_audience(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    response = redeem(
        oidc_op,
        oidc_keys,
        code_for(oidc_op),
        client_assertion=assertion(oidc_op, oidc_keys.client, audience=oidc_op.issuer),
    )
    assert response.status_code == 200


# --- UserInfo ----------------------------------------------------------------------------------


def test_userinfo_is_a_signed_jwt_for_the_client(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    tokens = redeem(oidc_op, oidc_keys, code_for(oidc_op, personal_number="191212121212")).json()
    response = httpx.get(
        oidc_op.issuer + "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwt"
    claims = jwt.decode(response.text, provider_keys(oidc_op)).claims
    id_claims = jwt.decode(tokens["id_token"], provider_keys(oidc_op)).claims
    assert claims["sub"] == id_claims["sub"]
    assert claims["iss"] == oidc_op.issuer
    assert claims["aud"] == OIDC_TEST_CLIENT_ID
    assert (claims["given_name"], claims["family_name"]) == ("Tolvan", "Tolvansson")
    assert claims["birthdate"] == "1912-12-12"


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer not-a-token", "Basic abc"])
def test_userinfo_needs_a_valid_token(oidc_op: RunningOp, authorization: str) -> None:
    response = httpx.get(oidc_op.issuer + "/userinfo", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


# --- The control hook ----------------------------------------------------------------------------


def test_the_control_hook_approves_without_html(
    oidc_op: RunningOp, oidc_keys: OidcTestKeys
) -> None:
    response = httpx.post(
        oidc_op.issuer + "/control/authorize",
        json={
            "url": authorize_url(oidc_op),
            "eidas": {
                "country": "DE",
                "identifier": "DE/SE/ab12",
                "given_name": "Hans",
                "family_name": "Muster",
            },
            "acr": "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub",
        },
    )
    assert response.status_code == 200
    params = response.json()["params"]
    assert params["state"] == "the-state"
    assert redeem(oidc_op, oidc_keys, params["code"]).status_code == 200


def test_the_control_hook_cancels(oidc_op: RunningOp) -> None:
    response = httpx.post(
        oidc_op.issuer + "/control/authorize",
        json={"url": authorize_url(oidc_op), "action": "cancel"},
    )
    assert response.json()["params"]["error"] == "access_denied"


def test_the_control_hook_refuses_bad_input(oidc_op: RunningOp) -> None:
    response = httpx.post(
        oidc_op.issuer + "/control/authorize",
        json={"url": authorize_url(oidc_op), "personal_number": "191212121213"},
    )
    assert response.status_code == 400
    response = httpx.post(
        oidc_op.issuer + "/control/authorize",
        json={"url": authorize_url(oidc_op), "personal_number": "191212121212"},
        headers={"Host": "attacker.example"},
    )
    assert response.status_code == 400


def test_an_eidas_person_has_no_swedish_number_unless_bound(oidc_op: RunningOp) -> None:
    bound = OpPerson(
        given_name="A",
        family_name="B",
        country="DE",
        eidas_identifier="DE/SE/1",
        mapped_personal_number="198001011231",
    )
    claims = bound.claims()
    assert CLAIM_PERSONAL_NUMBER not in claims
    assert claims["https://id.swedenconnect.se/claim/mappedPersonalIdentityNumber"] == (
        "198001011231"
    )
