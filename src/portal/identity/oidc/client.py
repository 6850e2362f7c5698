"""An OpenID Connect relying-party client after the Swedish OpenID Connect Profile (id.oidc.se) and
Sweden Connect's profile of it.

What the profiles ask of a relying party, and what this client does:

* the authorization code flow only, with PKCE (S256), an unguessable ``state`` and ``nonce``,
  ``prompt=login`` (no single sign-on across services) and ``ui_locales=sv``; the request
  parameters are also sent as a signed Request Object (Sweden Connect recommends it);
* ``private_key_jwt`` client authentication at the token endpoint: a fresh assertion per call,
  signed with the portal's key, ``aud`` the token endpoint;
* the ID token checked as OpenID Connect Core 3.1.3.7 says: signature against the provider's JWKS
  (asymmetric algorithms only), ``iss``, ``aud`` (and ``azp``), ``exp``/``iat`` with a small leeway,
  ``nonce``;
* the UserInfo answer must be signed (a JWT): signature, ``iss``, ``aud``, and ``sub`` equal to the
  ID token's;
* the provider's metadata comes from its discovery document and is cached per process, as are its
  keys (fetched again once when a token names a key not yet known: a key rollover).

Every failure is an ``OidcError`` with a short reason; the provider turns it into what the person is
told. Nothing here logs a claim's value.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import httpx
import structlog
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc7523 import private_key_jwt_sign  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingAlgorithmError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet

from portal.identity.oidc.keys import (
    ASYMMETRIC_ALGORITHMS,
    SigningKey,
    UnusableKeyError,
    import_public_key_set,
)

logger = structlog.get_logger(__name__)

#: Scope values of the Swedish OpenID Connect Profile and of Sweden Connect.
SCOPE_NATURAL_PERSON_NUMBER: Final = "https://id.oidc.se/scope/naturalPersonNumber"
SCOPE_NATURAL_PERSON_INFO: Final = "https://id.oidc.se/scope/naturalPersonInfo"
SCOPE_EIDAS_IDENTITY: Final = "https://id.swedenconnect.se/scope/eidasNaturalPersonIdentity"
SCOPE_EIDAS_SWEDISH_IDENTITY: Final = "https://id.swedenconnect.se/scope/eidasSwedishIdentity"
DEFAULT_SCOPES: Final = (
    SCOPE_NATURAL_PERSON_NUMBER,
    SCOPE_NATURAL_PERSON_INFO,
    SCOPE_EIDAS_IDENTITY,
    SCOPE_EIDAS_SWEDISH_IDENTITY,
)

#: Claims of the Swedish OpenID Connect Profile (https://id.oidc.se/claim/...).
CLAIM_PERSONAL_NUMBER: Final = "https://id.oidc.se/claim/personalIdentityNumber"
CLAIM_COORDINATION_NUMBER: Final = "https://id.oidc.se/claim/coordinationNumber"
CLAIM_COORDINATION_NUMBER_LEVEL: Final = "https://id.oidc.se/claim/coordinationNumberLevel"
#: Claims of Sweden Connect (https://id.swedenconnect.se/claim/...), for eIDAS authentications.
CLAIM_PRID: Final = "https://id.swedenconnect.se/claim/prid"
CLAIM_PRID_PERSISTENCE: Final = "https://id.swedenconnect.se/claim/pridPersistence"
CLAIM_EIDAS_PERSON_IDENTIFIER: Final = "https://id.swedenconnect.se/claim/eidasPersonIdentifier"
CLAIM_EIDAS_COUNTRY: Final = "https://id.swedenconnect.se/claim/eidasCountry"
CLAIM_MAPPED_PERSONAL_NUMBER: Final = (
    "https://id.swedenconnect.se/claim/mappedPersonalIdentityNumber"
)
CLAIM_MAPPED_COORDINATION_NUMBER: Final = (
    "https://id.swedenconnect.se/claim/mappedCoordinationNumber"
)
CLAIM_IDENTITY_BINDING: Final = "https://id.swedenconnect.se/claim/identityBinding"
#: Claims that identify the person: the ID token and UserInfo must agree on them when both carry one.
IDENTITY_CLAIMS: Final = (
    "sub",
    CLAIM_PERSONAL_NUMBER,
    CLAIM_COORDINATION_NUMBER,
    CLAIM_PRID,
    CLAIM_EIDAS_PERSON_IDENTIFIER,
    CLAIM_MAPPED_PERSONAL_NUMBER,
    CLAIM_MAPPED_COORDINATION_NUMBER,
)

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Seconds of clock difference tolerated on exp, iat and nbf.
DEFAULT_LEEWAY: Final = 60
#: An ID token issued longer ago than this is refused even if its exp says otherwise (the profile
#: caps an ID token's lifetime at five minutes).
MAX_ID_TOKEN_AGE: Final = 600
#: The portal asks for a fresh authentication (prompt=login): an ID token whose auth_time is older
#: than this reused an earlier session and is refused.
MAX_AUTHENTICATION_AGE: Final = 900
#: A client assertion is valid this long.
CLIENT_ASSERTION_LIFETIME: Final = 60
METADATA_TTL: Final = 3600.0
JWKS_TTL: Final = 3600.0
#: After fetching the JWKS because of an unknown key, it is not fetched so again for this long.
JWKS_MIN_REFRESH_INTERVAL: Final = 10.0
MAX_RESPONSE_BYTES: Final = 1024 * 1024
_LOOPBACK_NAMES: Final = frozenset({"localhost"})
_REQUIRED_ENDPOINTS: Final = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
)


class OidcError(Exception):
    """A step of the flow failed. ``reason`` is a short code for the audit log:

    ``configuration``, ``provider-unreachable``, ``discovery-error``, ``token-endpoint-error``, ``bad-token``,
    ``bad-signature``, ``wrong-issuer``, ``wrong-audience``, ``expired``, ``not-yet-valid``,
    ``nonce-mismatch``, ``stale-authentication``, ``userinfo-error``, ``unsigned-userinfo``, ``wrong-subject``,
    ``claims-mismatch``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ProviderMetadata:
    """What the portal uses of an OpenID Provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    scopes_supported: frozenset[str] | None
    acr_values_supported: frozenset[str] | None
    request_parameter_supported: bool


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep on the server to check the answer."""

    url: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str


@dataclass(frozen=True)
class Authentication:
    """The checked result: the ID token's header and claims and the UserInfo claims."""

    id_token: dict[str, Any]
    id_token_header: dict[str, Any]
    userinfo: dict[str, Any]
    raw_id_token: str

    def claims(self) -> dict[str, Any]:
        """UserInfo's claims with the ID token's on top (they agree on identity claims)."""
        return {**self.userinfo, **self.id_token}


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url(url: str) -> bool:
    """https, or plain http to this machine only (the local OpenID Provider)."""
    scheme = urlsplit(url).scheme
    return scheme == "https" or (scheme == "http" and is_loopback_url(url))


class OidcClient:
    """One client per process and provider: it caches the metadata and keys, and keeps a pool of
    TLS connections to the provider."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_key: SigningKey | Callable[[], SigningKey],
        timeout: float = 10.0,
        ca_cert: str = "",
        scopes: Iterable[str] = DEFAULT_SCOPES,
        signed_request: bool = True,
        leeway: int = DEFAULT_LEEWAY,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not issuer or not secure_url(issuer):
            raise OidcError("configuration", "the issuer must be an https:// URL")
        self.issuer = issuer
        self.client_id = client_id
        self._client_key = client_key
        self.scopes = tuple(scope for scope in scopes if scope != "openid")
        self.signed_request = signed_request
        self.leeway = leeway
        self.clock = clock
        verify: ssl.SSLContext | bool = True
        if ca_cert:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_cert)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            verify = context
        self._http = httpx.Client(
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            follow_redirects=False,
            transport=transport,
        )
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._jwks: tuple[float, KeySet] | None = None
        self._forced_refresh_at = float("-inf")

    def close(self) -> None:
        self._http.close()

    @property
    def client_key(self) -> SigningKey:
        key = self._client_key
        return key if isinstance(key, SigningKey) else key()

    # --- discovery and keys --------------------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        """The provider's metadata, from its discovery document (cached for an hour)."""
        now = time.monotonic()
        with self._lock:
            cached = self._metadata
        if cached is not None and now - cached[0] < METADATA_TTL:
            return cached[1]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, what="discovery")
        metadata = self._parse_metadata(document)
        with self._lock:
            self._metadata = (now, metadata)
        return metadata

    def _parse_metadata(self, document: Mapping[str, Any]) -> ProviderMetadata:
        # OpenID Connect Discovery 4.3: the issuer in the document must be exactly the one asked.
        if document.get("issuer") != self.issuer:
            raise OidcError("wrong-issuer", "the discovery document names another issuer")
        endpoints: dict[str, str] = {}
        for name in _REQUIRED_ENDPOINTS:
            value = document.get(name)
            if not isinstance(value, str) or not secure_url(value):
                raise OidcError("discovery-error", f"{name} is missing or not https")
            endpoints[name] = value
        methods = document.get("token_endpoint_auth_methods_supported")
        if isinstance(methods, list) and "private_key_jwt" not in methods:
            raise OidcError("discovery-error", "the provider does not accept private_key_jwt")
        challenges = document.get("code_challenge_methods_supported")
        if isinstance(challenges, list) and "S256" not in challenges:
            raise OidcError("discovery-error", "the provider does not support PKCE S256")
        return ProviderMetadata(
            issuer=self.issuer,
            authorization_endpoint=endpoints["authorization_endpoint"],
            token_endpoint=endpoints["token_endpoint"],
            userinfo_endpoint=endpoints["userinfo_endpoint"],
            jwks_uri=endpoints["jwks_uri"],
            scopes_supported=_string_set(document.get("scopes_supported")),
            acr_values_supported=_string_set(document.get("acr_values_supported")),
            request_parameter_supported=document.get("request_parameter_supported") is True,
        )

    def key_set(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys (cached for an hour). ``refresh`` fetches them again, for a
        token naming a key not yet known, unless that was done in the last few seconds (a stream
        of such tokens must not become a stream of fetches)."""
        now = time.monotonic()
        with self._lock:
            cached = self._jwks
            if refresh:
                if now - self._forced_refresh_at < JWKS_MIN_REFRESH_INTERVAL and cached:
                    return cached[1]
                self._forced_refresh_at = now
        if cached is not None and not refresh and now - cached[0] < JWKS_TTL:
            return cached[1]
        document = self._get_json(self.metadata().jwks_uri, what="jwks")
        try:
            keys = import_public_key_set(document)
        except UnusableKeyError as error:
            raise OidcError("discovery-error", f"jwks: {error}") from None
        with self._lock:
            self._jwks = (now, keys)
        return keys

    # --- the authentication request ------------------------------------------------------------

    def authorization_request(
        self,
        *,
        redirect_uri: str,
        state: str,
        acr_values: Iterable[str],
        ui_locales: str = "sv",
    ) -> AuthorizationRequest:
        """The address of the authentication request, with a fresh nonce and PKCE verifier."""
        metadata = self.metadata()
        nonce = generate_token(43)
        code_verifier = generate_token(64)
        scopes = self._scopes(metadata)
        acr = list(acr_values)
        if metadata.acr_values_supported:
            acr = [value for value in acr if value in metadata.acr_values_supported] or acr
        params: dict[str, str] = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": " ".join(scopes),
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(code_verifier),
            "code_challenge_method": "S256",
            "prompt": "login",
            "ui_locales": ui_locales,
        }
        if acr:
            params["acr_values"] = " ".join(acr)
        if SCOPE_EIDAS_IDENTITY in scopes:
            # Sweden Connect delivers the eIDAS country only when it is asked for by name.
            params["claims"] = json.dumps(
                {"userinfo": {CLAIM_EIDAS_COUNTRY: None}, "id_token": {CLAIM_EIDAS_COUNTRY: None}},
                separators=(",", ":"),
            )
        if self.signed_request and metadata.request_parameter_supported:
            params["request"] = self._request_object(params, metadata)
        separator = "&" if urlsplit(metadata.authorization_endpoint).query else "?"
        return AuthorizationRequest(
            url=metadata.authorization_endpoint + separator + urlencode(params),
            nonce=nonce,
            code_verifier=code_verifier,
        )

    def _scopes(self, metadata: ProviderMetadata) -> list[str]:
        wanted = list(self.scopes)
        if metadata.scopes_supported is not None:
            # Only what the provider offers: an unknown scope may make it refuse the request.
            wanted = [scope for scope in wanted if scope in metadata.scopes_supported]
        return ["openid", *wanted]

    def _request_object(self, params: Mapping[str, str], metadata: ProviderMetadata) -> str:
        now = int(self.clock())
        claims: dict[str, Any] = {
            key: json.loads(value) if key == "claims" else value for key, value in params.items()
        }
        claims.update(
            {
                "iss": self.client_id,
                "aud": metadata.issuer,
                "iat": now,
                "exp": now + 300,
                "jti": generate_token(32),
            }
        )
        return self.client_key.sign(claims, typ="oauth-authz-req+jwt")

    # --- the answer ----------------------------------------------------------------------------

    def authenticate(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> Authentication:
        """Redeem the code, check the ID token, fetch and check the signed UserInfo."""
        tokens = self.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
        header, id_claims = self.validate_id_token(tokens.id_token, nonce=nonce)
        userinfo = self.userinfo(tokens.access_token, subject=str(id_claims["sub"]))
        for name in IDENTITY_CLAIMS:
            if name in userinfo and name in id_claims and userinfo[name] != id_claims[name]:
                raise OidcError("claims-mismatch", f"UserInfo and the ID token differ on {name}")
        return Authentication(
            id_token=id_claims,
            id_token_header=header,
            userinfo=userinfo,
            raw_id_token=tokens.id_token,
        )

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> Tokens:
        """The token request (``authorization_code`` grant, ``private_key_jwt``, PKCE)."""
        metadata = self.metadata()
        key = self.client_key
        assertion = private_key_jwt_sign(
            key.key,
            self.client_id,
            metadata.token_endpoint,
            alg=key.alg,
            header={"kid": key.kid},
            issued_at=int(self.clock()),
            expires_in=CLIENT_ASSERTION_LIFETIME,
        )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": self.client_id,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        response = self._request("POST", metadata.token_endpoint, what="token", data=form)
        data = _json_object(response)
        if response.status_code != httpx.codes.OK or data is None:
            error = str(data.get("error", "")) if data else ""
            logger.warning(
                "oidc_token_error", status=response.status_code, error=error[:64] or None
            )
            raise OidcError("token-endpoint-error", error or f"HTTP {response.status_code}")
        id_token = data.get("id_token")
        access_token = data.get("access_token")
        token_type = str(data.get("token_type", "")).lower()
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise OidcError("token-endpoint-error", "no id_token or access_token in the answer")
        if token_type != "bearer":  # noqa: S105 -- a token type, not a password
            raise OidcError("token-endpoint-error", "the access token is not a bearer token")
        return Tokens(id_token=id_token, access_token=access_token)

    def validate_id_token(self, raw: str, *, nonce: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check an ID token (OpenID Connect Core 3.1.3.7); returns its header and claims."""
        header, claims = self._verify_jwt(raw)
        options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
        }
        id_token = CodeIDToken(
            claims, header, options=options, params={"nonce": nonce, "client_id": self.client_id}
        )
        now = int(self.clock())
        try:
            if not nonce or id_token.get("nonce") is None:
                raise MissingClaimError("nonce")
            id_token.validate(now=now, leeway=self.leeway)
        except ExpiredTokenError:
            raise OidcError("expired", "the ID token has expired") from None
        except (InvalidClaimError, MissingClaimError) as error:
            raise OidcError(_claim_reason(error), str(error)) from None
        except JoseError as error:
            raise OidcError("bad-token", str(error)) from None
        if claims["iat"] < now - MAX_ID_TOKEN_AGE - self.leeway:
            raise OidcError("expired", "the ID token was issued too long ago")
        auth_time = claims.get("auth_time")
        if isinstance(auth_time, (int, float)) and not isinstance(auth_time, bool):
            if auth_time < now - MAX_AUTHENTICATION_AGE - self.leeway:
                raise OidcError("stale-authentication", "the person authenticated long ago")
            if auth_time > now + self.leeway:
                raise OidcError("not-yet-valid", "auth_time is in the future")
        return header, dict(claims)

    def userinfo(self, access_token: str, *, subject: str) -> dict[str, Any]:
        """The UserInfo claims; the answer must be a JWT signed by the provider for this client,
        about ``subject``."""
        metadata = self.metadata()
        response = self._request(
            "GET",
            metadata.userinfo_endpoint,
            what="userinfo",
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/jwt"},
        )
        if response.status_code != httpx.codes.OK:
            logger.warning("oidc_userinfo_error", status=response.status_code)
            raise OidcError("userinfo-error", f"HTTP {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/jwt":
            raise OidcError("unsigned-userinfo", "the UserInfo answer is not a signed JWT")
        _header, claims = self._verify_jwt(response.text.strip())
        if claims.get("iss") != self.issuer:
            raise OidcError("wrong-issuer", "the UserInfo JWT has another issuer")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.client_id not in audiences:
            raise OidcError("wrong-audience", "the UserInfo JWT is not for this client")
        if claims.get("sub") != subject:
            raise OidcError("wrong-subject", "the UserInfo JWT is about someone else")
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and exp <= self.clock() - self.leeway:
            raise OidcError("expired", "the UserInfo JWT has expired")
        return dict(claims)

    # --- plumbing ------------------------------------------------------------------------------

    def _verify_jwt(self, raw: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the signature with the provider's keys (once more with fresh keys if the token
        names an unknown one); returns header and claims."""
        for attempt in range(2):
            keys = self.key_set(refresh=attempt > 0)
            try:
                token = jwt.decode(raw, keys, algorithms=ASYMMETRIC_ALGORITHMS)
            except InvalidKeyIdError:
                if attempt == 0:
                    logger.info("oidc_unknown_key_id_refreshing_jwks")
                    continue
                raise OidcError(
                    "bad-signature", "signed with a key the provider does not have"
                ) from None
            except (BadSignatureError, UnsupportedAlgorithmError, MissingAlgorithmError):
                raise OidcError("bad-signature", "the signature does not verify") from None
            except (JoseError, ValueError, TypeError, KeyError) as error:
                raise OidcError("bad-token", f"not a usable JWT: {type(error).__name__}") from None
            if not isinstance(token.claims, dict):
                raise OidcError("bad-token", "the JWT's payload is not an object")
            return dict(token.header), dict(token.claims)
        raise OidcError("bad-signature")  # pragma: no cover -- the loop always returns or raises

    def _get_json(self, url: str, *, what: str) -> dict[str, Any]:
        response = self._request("GET", url, what=what, headers={"Accept": "application/json"})
        data = _json_object(response)
        if response.status_code != httpx.codes.OK or data is None:
            logger.warning("oidc_fetch_error", call=what, status=response.status_code)
            # A provider that is down or overloaded is worth trying again later; anything else
            # is a broken configuration on one side or the other.
            reason = "provider-unreachable" if response.is_server_error else "discovery-error"
            raise OidcError(reason, f"{what}: HTTP {response.status_code}")
        return data

    def _request(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            logger.warning("oidc_unreachable", call=what, reason="timeout")
            raise OidcError("provider-unreachable", f"{what}: timeout") from None
        except httpx.HTTPError as error:
            logger.warning("oidc_unreachable", call=what, reason=type(error).__name__)
            raise OidcError("provider-unreachable", f"{what}: {type(error).__name__}") from None
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise OidcError("provider-unreachable", f"{what}: the answer is too large")
        logger.info(
            "oidc_call",
            call=what,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _string_set(value: Any) -> frozenset[str] | None:
    if not isinstance(value, list):
        return None
    return frozenset(item for item in value if isinstance(item, str))


def _claim_reason(error: InvalidClaimError | MissingClaimError) -> str:
    claim = error.claim
    if claim == "iss":
        return "wrong-issuer"
    if claim in {"aud", "azp"}:
        return "wrong-audience"
    if claim == "nonce":
        return "nonce-mismatch"
    if claim in {"iat", "nbf"} and isinstance(error, InvalidClaimError):
        # joserfc says "issued in the future" or "not yet valid"; a malformed time is just bad.
        text = str(error.description or "")
        if "future" in text or "not yet" in text:
            return "not-yet-valid"
    return "bad-token"
