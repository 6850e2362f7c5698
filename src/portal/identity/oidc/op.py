"""A local OpenID Provider after the Swedish OpenID Connect Profile and Sweden Connect's profile.

It stands in for Sweden Connect's OpenID Providers in development, demonstrations and tests, so the
portal's client runs unchanged and offline: discovery, JWKS, an authorization endpoint with a
Swedish page where a developer picks a demo person (or enters a person with a foreign e-ID, as
through Sweden Connect's eIDAS connector) and the assurance level to assert, a token endpoint that
accepts only ``private_key_jwt`` client authentication and PKCE S256, and a UserInfo endpoint that
answers with a signed JWT. It runs as a threaded HTTP server on 127.0.0.1 (plain HTTP: it is never
meant to be reached from elsewhere).

What it checks, as a real provider would: the client is registered and the ``redirect_uri`` is one
of its registered ones (exact string match; otherwise nothing is redirected), ``response_type`` is
``code``, ``scope`` holds ``openid``, PKCE uses S256, a signed Request Object (if sent) verifies
with the client's keys; at the token endpoint, the client assertion (signature with the client's
registered JWKS or ``jwks_uri``, ``iss``/``sub`` = client id, ``aud`` = token endpoint or issuer,
``exp``, a ``jti`` not seen before), the code (single use, 60 seconds, same client and
redirect URI; a second use also revokes what the first gave) and the PKCE verifier.

Claims are released as the claims specifications say: ``naturalPersonNumber`` in the ID token and
UserInfo, ``naturalPersonInfo`` in UserInfo, Sweden Connect's ``eidasNaturalPersonIdentity``
(``prid`` and ``pridPersistence`` in the ID token, also ``eidasPersonIdentifier`` in UserInfo) and
``eidasSwedishIdentity`` (mapped number and identity binding, in UserInfo). ``sub`` is an opaque
pairwise-looking value, never the personal number.

Tests drive it without HTML (``RunningOp.authorize``, or ``POST /control/authorize`` with JSON) and
can make it misbehave (``Tamper``): claims overridden, tokens signed with a foreign key, an unsigned
or foreign UserInfo answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, RSAKey

from portal.identity import localserver
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.identity.oidc.client import (
    CLAIM_COORDINATION_NUMBER,
    CLAIM_EIDAS_COUNTRY,
    CLAIM_EIDAS_PERSON_IDENTIFIER,
    CLAIM_IDENTITY_BINDING,
    CLAIM_MAPPED_COORDINATION_NUMBER,
    CLAIM_MAPPED_PERSONAL_NUMBER,
    CLAIM_PERSONAL_NUMBER,
    CLAIM_PRID,
    CLAIM_PRID_PERSISTENCE,
    CLIENT_ASSERTION_TYPE,
    SCOPE_EIDAS_IDENTITY,
    SCOPE_EIDAS_SWEDISH_IDENTITY,
    SCOPE_NATURAL_PERSON_INFO,
    SCOPE_NATURAL_PERSON_NUMBER,
)
from portal.identity.oidc.keys import (
    ASYMMETRIC_ALGORITHMS,
    SigningKey,
    UnusableKeyError,
    import_public_key_set,
)
from portal.identity.providers.base import LOA_URIS

#: One INFO line per request (method, path, status, duration); no claim values are logged.
logger = logging.getLogger("portal.oidc.op")

CODE_TTL: Final = 60.0
ID_TOKEN_LIFETIME: Final = 300
ACCESS_TOKEN_TTL: Final = 300.0
AUTHORIZATION_TTL: Final = 600.0
#: The most a client assertion may stay valid (exp - now).
MAX_ASSERTION_LIFETIME: Final = 300
#: Process by which the simulated eIDAS connector binds a foreign person to a Swedish number.
DEMO_IDENTITY_BINDING: Final = "http://id.swedenconnect.se/id-binding/process/populationregister"
DELETE: Final = object()
"""A ``Tamper`` override value that removes the claim."""

_MAX_BODY_BYTES = 64 * 1024
_MAX_TEXT = 100
#: A client's keys fetched from its jwks_uri are used this long.
_CLIENT_JWKS_TTL = 60.0
_COUNTRY = re.compile(r"[A-Z]{2}")
_PKCE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_PENDING_PATH = re.compile(r"/authorize/(?P<id>[A-Za-z0-9_-]{16,64})")
_COORDINATION_DAY_OFFSET = 60

#: Which claims each scope releases, and where (Swedish OIDC claims spec 3, Sweden Connect 3.1).
SCOPE_CLAIMS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    SCOPE_NATURAL_PERSON_NUMBER: {
        "id_token": (CLAIM_PERSONAL_NUMBER, CLAIM_COORDINATION_NUMBER),
        "userinfo": (CLAIM_PERSONAL_NUMBER, CLAIM_COORDINATION_NUMBER),
    },
    SCOPE_NATURAL_PERSON_INFO: {
        "id_token": (),
        "userinfo": ("family_name", "given_name", "name", "birthdate"),
    },
    SCOPE_EIDAS_IDENTITY: {
        "id_token": (CLAIM_PRID, CLAIM_PRID_PERSISTENCE),
        "userinfo": (CLAIM_PRID, CLAIM_PRID_PERSISTENCE, CLAIM_EIDAS_PERSON_IDENTIFIER),
    },
    SCOPE_EIDAS_SWEDISH_IDENTITY: {
        "id_token": (),
        "userinfo": (
            CLAIM_MAPPED_PERSONAL_NUMBER,
            CLAIM_MAPPED_COORDINATION_NUMBER,
            CLAIM_IDENTITY_BINDING,
        ),
    },
}
#: Assurance levels offered on the page, with Swedish labels.
LOA_LABELS: Final[Mapping[str, str]] = {
    "http://id.elegnamnden.se/loa/1.0/loa2": "Tillitsnivå 2",
    "http://id.elegnamnden.se/loa/1.0/loa3": "Tillitsnivå 3",
    "http://id.elegnamnden.se/loa/1.0/loa4": "Tillitsnivå 4",
    "http://id.elegnamnden.se/loa/1.0/eidas-low": "eIDAS låg",
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-low": "eIDAS låg (anmäld)",
    "http://id.elegnamnden.se/loa/1.0/eidas-sub": "eIDAS väsentlig",
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub": "eIDAS väsentlig (anmäld)",
    "http://id.elegnamnden.se/loa/1.0/eidas-high": "eIDAS hög",
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-high": "eIDAS hög (anmäld)",
}


# --- Model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredClient:
    """A relying party the provider knows: its redirect URIs and its public keys (by value or by
    reference)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    jwks: Mapping[str, Any] | None = None
    jwks_uri: str | None = None


@dataclass(frozen=True)
class OpPerson:
    """Who the provider says authenticated. A Swedish e-ID has ``personal_number`` (a coordination
    number when the day is over 60); a foreign one has ``country`` and ``eidas_identifier`` and,
    when bound to the population register, ``mapped_personal_number``."""

    given_name: str
    family_name: str
    personal_number: str | None = None
    country: str | None = None
    eidas_identifier: str | None = None
    mapped_personal_number: str | None = None
    birthdate: str | None = None

    @property
    def key(self) -> str:
        if self.personal_number:
            return self.personal_number
        return f"eidas:{self.country}:{self.eidas_identifier}"

    @property
    def prid(self) -> str | None:
        """A provisional identifier in the manner of ELN-0611's default-eIDAS algorithm
        (simplified): the country and the identifier's own part, lower case."""
        if not (self.country and self.eidas_identifier):
            return None
        own = self.eidas_identifier.rsplit("/", 1)[-1]
        cleaned = re.sub(r"[^0-9A-Za-z]", "", own).lower()
        return f"{self.country.lower()}:{cleaned}"

    def claims(self) -> dict[str, Any]:
        """Every claim the provider could release about the person."""
        data: dict[str, Any] = {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "name": f"{self.given_name} {self.family_name}",
        }
        if self.birthdate:
            data["birthdate"] = self.birthdate
        if self.personal_number:
            coordination = int(self.personal_number[6:8]) > _COORDINATION_DAY_OFFSET
            name = CLAIM_COORDINATION_NUMBER if coordination else CLAIM_PERSONAL_NUMBER
            data[name] = self.personal_number
            if "birthdate" not in data and not coordination:
                number = self.personal_number
                data["birthdate"] = f"{number[:4]}-{number[4:6]}-{number[6:8]}"
        if self.country and self.eidas_identifier:
            data[CLAIM_EIDAS_PERSON_IDENTIFIER] = self.eidas_identifier
            data[CLAIM_EIDAS_COUNTRY] = self.country
            data[CLAIM_PRID] = self.prid
            data[CLAIM_PRID_PERSISTENCE] = "B"
            if self.mapped_personal_number:
                number = self.mapped_personal_number
                coordination = int(number[6:8]) > _COORDINATION_DAY_OFFSET
                data[
                    CLAIM_MAPPED_COORDINATION_NUMBER
                    if coordination
                    else CLAIM_MAPPED_PERSONAL_NUMBER
                ] = number
                data[CLAIM_IDENTITY_BINDING] = DEMO_IDENTITY_BINDING
        return data


@dataclass
class Tamper:
    """Ways to make the provider misbehave, for tests of the client's checks.

    ``id_token_claims`` and ``userinfo_claims`` override claims (``DELETE`` removes one);
    ``*_key="foreign"`` signs with a key not in the provider's JWKS, under the provider's own
    ``kid``; ``userinfo_unsigned`` answers UserInfo with plain JSON.
    """

    id_token_claims: dict[str, Any] = field(default_factory=dict)
    sign_id_token_with: Literal["op", "foreign"] = "op"  # noqa: S105 -- not a password
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    sign_userinfo_with: Literal["op", "foreign"] = "op"
    userinfo_unsigned: bool = False


@dataclass
class PendingAuthorization:
    id: str
    client_id: str
    redirect_uri: str
    state: str | None
    nonce: str | None
    scopes: tuple[str, ...]
    acr_values: tuple[str, ...]
    code_challenge: str
    claims_request: Mapping[str, Any]
    created_at: float


@dataclass
class IssuedCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    scopes: tuple[str, ...]
    claims_request: Mapping[str, Any]
    person: OpPerson
    acr: str
    auth_time: int
    created_at: float
    used: bool = False
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class AccessGrant:
    client_id: str
    subject: str
    claims: dict[str, Any]
    expires_at: float


class RequestRefused(Exception):
    """An authorization request that cannot be answered by redirect (unknown client, unregistered
    redirect URI, unknown or expired pending request): shown to the person, nothing is sent."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AuthorizationError(Exception):
    """An authorization request refused with an error sent to the client's redirect URI."""

    def __init__(self, location: str, error: str) -> None:
        super().__init__(error)
        self.location = location
        self.error = error


class TokenError(Exception):
    """An OAuth error answer of the token or UserInfo endpoint."""

    def __init__(
        self, error: str, description: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


def _redirect_location(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return redirect_uri + ("&" if urlsplit(redirect_uri).query else "?") + query


def _override(claims: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(claims)
    for name, value in overrides.items():
        if value is DELETE:
            result.pop(name, None)
        else:
            result[name] = value
    return result


# --- State ---------------------------------------------------------------------------------------


class OpState:
    """Everything the provider knows, behind one lock."""

    def __init__(
        self,
        *,
        signing_key: SigningKey,
        clients: Iterable[RegisteredClient],
        people: Iterable[Any] = (),
    ) -> None:
        self.issuer = ""
        self.signing_key = signing_key
        self.clients = {client.client_id: client for client in clients}
        #: Demo people (``personal_number``, ``given_name``, ``surname``, optional ``role_hint``).
        self.people = tuple(people)
        self.tamper = Tamper()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._subject_secret = secrets.token_bytes(32)
        self._pending: dict[str, PendingAuthorization] = {}
        self._codes: dict[str, IssuedCode] = {}
        self._grants: dict[str, AccessGrant] = {}
        self._seen_assertions: dict[str, float] = {}
        self._client_keys: dict[str, tuple[float, KeySet]] = {}
        self._foreign_key: SigningKey | None = None

    # --- discovery ---

    def endpoint(self, path: str) -> str:
        return self.issuer + path

    def metadata(self) -> dict[str, Any]:
        scopes = ["openid", *SCOPE_CLAIMS]
        claims = sorted(
            {"sub", "acr", "auth_time", CLAIM_EIDAS_COUNTRY}
            | {
                claim
                for spec in SCOPE_CLAIMS.values()
                for names in spec.values()
                for claim in names
            }
        )
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.endpoint("/authorize"),
            "token_endpoint": self.endpoint("/token"),
            "userinfo_endpoint": self.endpoint("/userinfo"),
            "jwks_uri": self.endpoint("/jwks.json"),
            "scopes_supported": scopes,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": [self.signing_key.alg],
            "userinfo_signing_alg_values_supported": [self.signing_key.alg],
            "request_object_signing_alg_values_supported": list(ASYMMETRIC_ALGORITHMS),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ASYMMETRIC_ALGORITHMS),
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": list(LOA_URIS),
            "claims_supported": claims,
            "claims_parameter_supported": True,
            "request_parameter_supported": True,
            "request_uri_parameter_supported": False,
            "ui_locales_supported": ["sv", "en"],
            "prompt_values_supported": ["none", "login"],
            "authorization_response_iss_parameter_supported": True,
            "service_documentation": self.endpoint("/"),
        }

    def jwks(self) -> dict[str, Any]:
        return self.signing_key.public_jwks()

    # --- the authorization endpoint ---

    def begin(self, query: Mapping[str, str]) -> PendingAuthorization:
        """Check an authentication request; keep it until the person approves or cancels.

        Raises ``RequestRefused`` (nothing can be sent back) or ``AuthorizationError`` (an error
        answer for the client's redirect URI).
        """
        client = self.clients.get(query.get("client_id", ""))
        if client is None:
            raise RequestRefused("Okänd klient (client_id).")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise RequestRefused(
                "Adressen att skicka svaret till (redirect_uri) är inte registrerad."
            )
        params = dict(query)
        state = params.get("state")

        def refuse(error: str) -> AuthorizationError:
            return AuthorizationError(
                _redirect_location(
                    redirect_uri, {"error": error, "state": state, "iss": self.issuer}
                ),
                error,
            )

        if "request" in params:
            try:
                params.update(self._request_object(client, params["request"]))
            except TokenError:
                raise refuse("invalid_request_object") from None
            if (
                params.get("client_id") != client.client_id
                or params.get("redirect_uri", redirect_uri) != redirect_uri
            ):
                raise refuse("invalid_request_object")
            state = params.get("state")
        if params.get("response_type") != "code":
            raise refuse("unsupported_response_type")
        scopes = tuple(params.get("scope", "").split())
        if "openid" not in scopes:
            raise refuse("invalid_scope")
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or not challenge:
            # The profile forbids "plain"; this provider asks every client for PKCE.
            raise refuse("invalid_request")
        claims_request: Mapping[str, Any] = {}
        if params.get("claims"):
            try:
                parsed = json.loads(params["claims"])
            except ValueError:
                raise refuse("invalid_request") from None
            if not isinstance(parsed, dict):
                raise refuse("invalid_request")
            claims_request = parsed
        pending = PendingAuthorization(
            id=secrets.token_urlsafe(24),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            state=state,
            nonce=params.get("nonce"),
            scopes=scopes,
            acr_values=tuple(params.get("acr_values", "").split()),
            code_challenge=challenge,
            claims_request=claims_request,
            created_at=time.monotonic(),
        )
        with self._lock:
            self._sweep()
            self._pending[pending.id] = pending
        return pending

    def _request_object(self, client: RegisteredClient, value: str) -> dict[str, str]:
        claims = self._verify_client_jwt(
            client, value, audiences={self.issuer, self.endpoint("/authorize")}
        )
        return {
            key: json.dumps(item) if isinstance(item, (dict, list)) else str(item)
            for key, item in claims.items()
            if key not in {"iss", "aud", "exp", "iat", "nbf", "jti"}
        }

    def pending(self, pending_id: str) -> PendingAuthorization:
        with self._lock:
            self._sweep()
            found = self._pending.get(pending_id)
        if found is None:
            raise RequestRefused(
                "Inloggningen finns inte längre. Gå tillbaka till webbplatsen och börja om.",
                HTTPStatus.NOT_FOUND,
            )
        return found

    def approve(self, pending_id: str, person: OpPerson, acr: str) -> str:
        """The person authenticated: the address (with code and state) to send the browser to."""
        with self._lock:
            self._sweep()
            pending = self._pending.pop(pending_id, None)
            if pending is None:
                raise RequestRefused(
                    "Inloggningen finns inte längre. Gå tillbaka till webbplatsen och börja om.",
                    HTTPStatus.NOT_FOUND,
                )
            code = secrets.token_urlsafe(32)
            self._codes[code] = IssuedCode(
                code=code,
                client_id=pending.client_id,
                redirect_uri=pending.redirect_uri,
                code_challenge=pending.code_challenge,
                nonce=pending.nonce,
                scopes=pending.scopes,
                claims_request=pending.claims_request,
                person=person,
                acr=acr,
                auth_time=int(time.time()),
                created_at=time.monotonic(),
            )
        return _redirect_location(
            pending.redirect_uri, {"code": code, "state": pending.state, "iss": self.issuer}
        )

    def deny(self, pending_id: str, error: str = "access_denied") -> str:
        """The person cancelled: the address (with the error and state) to send the browser to."""
        with self._lock:
            pending = self._pending.pop(pending_id, None)
        if pending is None:
            raise RequestRefused(
                "Inloggningen finns inte längre. Gå tillbaka till webbplatsen och börja om.",
                HTTPStatus.NOT_FOUND,
            )
        return _redirect_location(
            pending.redirect_uri,
            {
                "error": error,
                "error_description": "The user cancelled the authentication.",
                "state": pending.state,
                "iss": self.issuer,
            },
        )

    def authorize(
        self,
        url: str,
        *,
        person: OpPerson | None = None,
        acr: str | None = None,
        cancel: bool = False,
    ) -> dict[str, str]:
        """What a browser would bring back to the client for the authentication request ``url``,
        without the page: the callback's query parameters (``code``, ``state``, ``iss``; or
        ``error``). ``acr`` defaults to the first requested level (else LoA 3); ``person`` to the
        first demo person."""
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        try:
            pending = self.begin(query)
        except AuthorizationError as error:
            return dict(parse_qsl(urlsplit(error.location).query))
        if cancel:
            location = self.deny(pending.id)
        else:
            chosen = person or self.demo_person(None)
            if chosen is None:
                raise RequestRefused("Ingen person att legitimera.")
            level = acr or next(
                (value for value in pending.acr_values if value in LOA_URIS),
                "http://id.elegnamnden.se/loa/1.0/loa3",
            )
            location = self.approve(pending.id, chosen, level)
        return dict(parse_qsl(urlsplit(location).query))

    def demo_person(self, personal_number: str | None) -> OpPerson | None:
        for demo in self.people:
            if personal_number in {None, demo.personal_number}:
                return OpPerson(
                    given_name=demo.given_name,
                    family_name=demo.surname,
                    personal_number=demo.personal_number,
                )
        return None

    # --- the token endpoint ---

    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Redeem a code: check the client assertion, the code and the PKCE verifier."""
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE or not form.get(
            "client_assertion"
        ):
            raise TokenError(
                "invalid_client", "private_key_jwt is required", HTTPStatus.UNAUTHORIZED
            )
        client = self._authenticate_client(form["client_assertion"], form.get("client_id"))
        if form.get("grant_type") != "authorization_code":
            raise TokenError("unsupported_grant_type", "only authorization_code")
        now = time.monotonic()
        with self._lock:
            self._sweep()
            issued = self._codes.get(form.get("code", ""))
            if issued is None or now - issued.created_at > CODE_TTL:
                raise TokenError("invalid_grant", "unknown or expired code")
            if issued.used:
                # RFC 6749 4.1.2: a code used twice revokes what it gave the first time.
                for token in issued.access_tokens:
                    self._grants.pop(token, None)
                raise TokenError("invalid_grant", "the code has been used already")
            if issued.client_id != client.client_id:
                raise TokenError("invalid_grant", "the code was issued to another client")
            if form.get("redirect_uri") != issued.redirect_uri:
                raise TokenError("invalid_grant", "redirect_uri does not match")
            verifier = form.get("code_verifier", "")
            if not _PKCE_VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
                create_s256_code_challenge(verifier), issued.code_challenge
            ):
                raise TokenError("invalid_grant", "PKCE verification failed")
            issued.used = True
            access_token = secrets.token_urlsafe(32)
            issued.access_tokens.append(access_token)
            subject = self.subject(issued.person, client.client_id)
            self._grants[access_token] = AccessGrant(
                client_id=client.client_id,
                subject=subject,
                claims=self._released(issued, "userinfo"),
                expires_at=now + ACCESS_TOKEN_TTL,
            )
            tamper = replace(self.tamper)
        issued_at = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": client.client_id,
            "exp": issued_at + ID_TOKEN_LIFETIME,
            "iat": issued_at,
            "auth_time": issued.auth_time,
            "acr": issued.acr,
            "jti": secrets.token_urlsafe(16),
            **self._released(issued, "id_token"),
        }
        if issued.nonce is not None:
            claims["nonce"] = issued.nonce
        claims = _override(claims, tamper.id_token_claims)
        id_token = self._signer(tamper.sign_id_token_with).sign(claims)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_TTL),
            "id_token": id_token,
            "scope": " ".join(issued.scopes),
        }

    def _released(
        self, issued: IssuedCode, where: Literal["id_token", "userinfo"]
    ) -> dict[str, Any]:
        """The person's claims the client asked for (by scope or ``claims``) to go ``where``."""
        available = issued.person.claims()
        names: set[str] = set()
        for scope in issued.scopes:
            names.update(SCOPE_CLAIMS.get(scope, {}).get(where, ()))
        requested = issued.claims_request.get(where)
        if isinstance(requested, dict):
            names.update(name for name in requested if isinstance(name, str))
        return {name: available[name] for name in sorted(names) if name in available}

    def _authenticate_client(self, assertion: str, client_id: str | None) -> RegisteredClient:
        claimed = client_id or _unverified_issuer(assertion)
        client = self.clients.get(claimed or "")
        if client is None:
            raise TokenError("invalid_client", "unknown client", HTTPStatus.UNAUTHORIZED)
        try:
            claims = self._verify_client_jwt(
                client, assertion, audiences={self.endpoint("/token"), self.issuer}
            )
        except TokenError as error:
            raise TokenError("invalid_client", error.description, HTTPStatus.UNAUTHORIZED) from None
        if claims.get("sub") != client.client_id:
            raise TokenError("invalid_client", "sub must be the client id", HTTPStatus.UNAUTHORIZED)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise TokenError("invalid_client", "the assertion has no jti", HTTPStatus.UNAUTHORIZED)
        with self._lock:
            key = f"{client.client_id}\n{jti}"
            if key in self._seen_assertions:
                raise TokenError(
                    "invalid_client", "the assertion has been used already", HTTPStatus.UNAUTHORIZED
                )
            self._seen_assertions[key] = float(claims["exp"])
        return client

    def _verify_client_jwt(
        self, client: RegisteredClient, value: str, *, audiences: set[str]
    ) -> dict[str, Any]:
        """Check a JWT the client signed (a client assertion or a Request Object)."""
        for attempt in range(2):
            keys = self._client_key_set(client, refresh=attempt > 0)
            try:
                token = jwt.decode(value, keys, algorithms=ASYMMETRIC_ALGORITHMS)
                break
            except InvalidKeyIdError:
                if attempt == 0 and client.jwks_uri:
                    continue  # the client may have rolled its key over
                raise TokenError("invalid_client", "signed with an unknown key") from None
            except JoseError as error:
                raise TokenError("invalid_client", f"signature: {error.error}") from None
            except (ValueError, TypeError, KeyError):
                raise TokenError("invalid_client", "not a JWT") from None
        else:  # pragma: no cover -- the loop breaks or raises
            raise TokenError("invalid_client", "signature")
        claims = token.claims
        if not isinstance(claims, dict) or claims.get("iss") != client.client_id:
            raise TokenError("invalid_client", "iss must be the client id")
        audience = claims.get("aud")
        listed = {audience} if isinstance(audience, str) else set(audience or ())
        if not listed & audiences:
            raise TokenError("invalid_client", "wrong aud")
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= now - 5:
            raise TokenError("invalid_client", "expired")
        if exp > now + MAX_ASSERTION_LIFETIME + 5:
            raise TokenError("invalid_client", "valid for too long")
        iat = claims.get("iat")
        if isinstance(iat, (int, float)) and iat > now + 30:
            raise TokenError("invalid_client", "issued in the future")
        return dict(claims)

    def _client_key_set(self, client: RegisteredClient, *, refresh: bool) -> KeySet:
        if client.jwks is not None:
            try:
                return import_public_key_set(dict(client.jwks))
            except UnusableKeyError as error:
                raise TokenError("invalid_client", str(error)) from None
        now = time.monotonic()
        with self._lock:
            cached = self._client_keys.get(client.client_id)
        if cached is not None and not refresh and now - cached[0] < _CLIENT_JWKS_TTL:
            return cached[1]
        try:
            response = httpx.get(client.jwks_uri or "", timeout=5.0)
            keys = import_public_key_set(response.json())
        except (httpx.HTTPError, ValueError) as error:
            raise TokenError(
                "invalid_client", f"the client's JWKS: {type(error).__name__}"
            ) from None
        with self._lock:
            self._client_keys[client.client_id] = (now, keys)
        return keys

    # --- the UserInfo endpoint ---

    def userinfo(self, authorization: str) -> tuple[str, bytes]:
        """The UserInfo answer for a bearer token: content type and body (a signed JWT)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise TokenError("invalid_token", "a bearer token is required", HTTPStatus.UNAUTHORIZED)
        with self._lock:
            grant = self._grants.get(token.strip())
            tamper = replace(self.tamper)
        if grant is None or grant.expires_at < time.monotonic():
            raise TokenError("invalid_token", "unknown or expired token", HTTPStatus.UNAUTHORIZED)
        claims: dict[str, Any] = {
            "sub": grant.subject,
            **grant.claims,
            "iss": self.issuer,
            "aud": grant.client_id,
            "iat": int(time.time()),
        }
        claims = _override(claims, tamper.userinfo_claims)
        if tamper.userinfo_unsigned:
            return "application/json", json.dumps(claims).encode("utf-8")
        return "application/jwt", self._signer(tamper.sign_userinfo_with).sign(claims).encode(
            "ascii"
        )

    # --- helpers ---

    def subject(self, person: OpPerson, client_id: str) -> str:
        """A stable, opaque ``sub`` per person and client (never the personal number)."""
        digest = hmac.new(
            self._subject_secret, f"{client_id}\n{person.key}".encode(), hashlib.sha256
        )
        return digest.hexdigest()[:32]

    def _signer(self, which: Literal["op", "foreign"]) -> _ForeignSigner | SigningKey:
        if which == "op":
            return self.signing_key
        with self._lock:
            if self._foreign_key is None:
                self._foreign_key = SigningKey(RSAKey.generate_key(2048), "RS256")
            foreign = self._foreign_key
        return _ForeignSigner(foreign, kid=self.signing_key.kid, alg=self.signing_key.alg)

    def set_tamper(self, tamper: Tamper | None = None) -> None:
        with self._lock:
            self.tamper = tamper or Tamper()

    def _sweep(self) -> None:
        now = time.monotonic()
        for pending_id in [
            pid for pid, item in self._pending.items() if now - item.created_at > AUTHORIZATION_TTL
        ]:
            del self._pending[pending_id]
        for code in [c for c, item in self._codes.items() if now - item.created_at > 10 * CODE_TTL]:
            del self._codes[code]
        for token in [t for t, grant in self._grants.items() if grant.expires_at < now]:
            del self._grants[token]
        wall = time.time()
        for key in [k for k, exp in self._seen_assertions.items() if exp < wall - 60]:
            del self._seen_assertions[key]


@dataclass(frozen=True)
class _ForeignSigner:
    """Signs with a key the provider never published, but names the provider's key: a forgery."""

    key: SigningKey
    kid: str
    alg: str

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        algorithm = self.key.alg
        return jwt.encode(
            {"alg": algorithm, "kid": self.kid, "typ": typ},
            claims,
            self.key.key,
            algorithms=[algorithm],
        )


def _unverified_issuer(value: str) -> str | None:
    """The ``iss`` of a JWT, read without checking anything (only to find whose keys to use)."""
    parts = value.split(".")
    if len(parts) != 3:  # noqa: PLR2004 -- header, payload, signature
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    return issuer if isinstance(issuer, str) else None


# --- HTTP ----------------------------------------------------------------------------------------


class _Server(localserver.LocalServer):
    label = "OpenID Provider"
    log = logger
    state: OpState


class _BadRequest(Exception):
    pass


_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #f6f6f6; }
main { max-width: 44rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; }
fieldset { background: #fff; border: 1px solid #767676; border-radius: .5rem;
  padding: .75rem 1rem; margin: 1rem 0; }
legend { font-weight: 700; }
label { display: block; font-weight: 600; margin-top: .75rem; }
label.choice { font-weight: 400; margin-top: .25rem; }
input, select, button { font: inherit; margin-top: .25rem; }
input:not([type=radio]), select { width: 100%; box-sizing: border-box; padding: .4rem;
  border: 1px solid #595959; }
button { padding: .5rem 1rem; margin-top: .75rem; margin-right: .5rem; border-radius: .3rem;
  border: 2px solid #193e4f; background: #193e4f; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #193e4f; }
:focus-visible { outline: 3px solid #d12c2c; outline-offset: 2px; }
.error { border: 2px solid #b00020; background: #fdecee; padding: .75rem 1rem; }
.hint { color: #4a4a4a; font-size: .95rem; }
"""


def _h(text: str) -> str:
    return html.escape(text, quote=True)


class _Handler(localserver.LocalHandler):
    server_version = "PortalLocalOP/1.0"
    server: _Server

    failure_text = b"Ett fel uppstod i OpenID-providern."
    # No form-action: the answer to the form is a redirect to the client, on another origin.
    page_headers = localserver.html_page_headers(_STYLE, form_action=None)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        self._serve_request(lambda: self._route(url.path, url.query), url.path)

    def _route(self, path: str, query_string: str) -> int:  # noqa: PLR0911 (one per endpoint)
        state = self.server.state
        try:
            body = self._read_body(_MAX_BODY_BYTES)
        except localserver.BodyError:
            return self._send_json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request"})
        read = self.command in {"GET", "HEAD"}
        if path == "/.well-known/openid-configuration" and read:
            return self._send_json(HTTPStatus.OK, state.metadata())
        if path == "/jwks.json" and read:
            return self._send_json(HTTPStatus.OK, state.jwks(), "application/jwk-set+json")
        if path == "/token" and self.command == "POST":
            return self._token(body)
        if path == "/userinfo" and self.command in {"GET", "POST", "HEAD"}:
            return self._userinfo()
        if path == "/control/authorize" and self.command == "POST":
            return self._control(body)
        if path == "/authorize" and read:
            return self._authorize(dict(parse_qsl(query_string, keep_blank_values=True)))
        match = _PENDING_PATH.fullmatch(path)
        if match and self.command == "POST":
            return self._decide(match["id"], body)
        if path == "/" and read:
            return self._send_page(HTTPStatus.OK, self._render_index())
        return self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    # --- endpoints ---

    def _token(self, body: bytes) -> int:
        try:
            form = self._form(body)
            answer = self.server.state.token(form)
        except TokenError as error:
            headers = (
                {"WWW-Authenticate": "Bearer"} if error.status == HTTPStatus.UNAUTHORIZED else {}
            )
            return self._send_json(
                error.status,
                {"error": error.error, "error_description": error.description},
                headers=headers,
            )
        except _BadRequest:
            return self._send_json(HTTPStatus.BAD_REQUEST, {"error": "invalid_request"})
        return self._send_json(HTTPStatus.OK, answer, headers={"Pragma": "no-cache"})

    def _userinfo(self) -> int:
        try:
            content_type, body = self.server.state.userinfo(self.headers.get("Authorization", ""))
        except TokenError as error:
            return self._send_json(
                error.status,
                {"error": error.error, "error_description": error.description},
                headers={"WWW-Authenticate": f'Bearer error="{error.error}"'},
            )
        self._send(HTTPStatus.OK, body, content_type)
        return HTTPStatus.OK

    def _control(self, body: bytes) -> int:
        """JSON: {"url": authentication request, "action": "approve"|"cancel", "personal_number"
        or "eidas": {country, identifier, given_name, family_name, mapped_personal_number},
        "acr"} -> {"location", "params"}."""
        if not self._local_host():
            return self._send_json(HTTPStatus.BAD_REQUEST, {"error": "bad_host"})
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict) or not isinstance(data.get("url"), str):
                raise ValueError("url")
            state = self.server.state
            if data.get("action", "approve") == "cancel":
                params = state.authorize(data["url"], cancel=True)
            else:
                person = _person_from_control(state, data)
                acr = data.get("acr")
                params = state.authorize(
                    data["url"], person=person, acr=acr if isinstance(acr, str) and acr else None
                )
        except (ValueError, InvalidPersonalNumber) as error:
            return self._send_json(
                HTTPStatus.BAD_REQUEST, {"error": "invalid_request", "detail": str(error)}
            )
        except RequestRefused as error:
            return self._send_json(error.status, {"error": "refused", "detail": error.message})
        return self._send_json(HTTPStatus.OK, {"params": params})

    def _authorize(self, query: Mapping[str, str]) -> int:
        try:
            pending = self.server.state.begin(query)
        except RequestRefused as error:
            return self._send_page(error.status, self._render_error(error.message))
        except AuthorizationError as error:
            return self._redirect(error.location)
        return self._send_page(HTTPStatus.OK, self._render_login(pending))

    def _decide(self, pending_id: str, body: bytes) -> int:  # noqa: PLR0911 (one per outcome)
        state = self.server.state
        if not self._local_host() or not self._same_origin():
            return self._send_page(
                HTTPStatus.FORBIDDEN,
                self._render_error("Formuläret skickades från en annan webbplats."),
            )
        try:
            form = self._form(body)
            pending = state.pending(pending_id)
        except _BadRequest:
            return self._send_page(
                HTTPStatus.BAD_REQUEST, self._render_error("Formuläret kunde inte läsas.")
            )
        except RequestRefused as error:
            return self._send_page(error.status, self._render_error(error.message))
        if form.get("action") == "cancel":
            return self._redirect(state.deny(pending_id))
        try:
            person = _person_from_form(state, form)
        except ValueError as error:
            return self._send_page(
                HTTPStatus.BAD_REQUEST, self._render_login(pending, error=str(error))
            )
        acr = form.get("acr", "")
        if acr not in LOA_URIS:
            return self._send_page(
                HTTPStatus.BAD_REQUEST, self._render_login(pending, error="Välj en tillitsnivå.")
            )
        try:
            return self._redirect(state.approve(pending_id, person, acr))
        except RequestRefused as error:
            return self._send_page(error.status, self._render_error(error.message))

    # --- pages ---

    def _page(self, title: str, body: str) -> str:
        return (
            '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_h(title)}</title><style>{_STYLE}</style></head><body><main>"
            f"<h1>{_h(title)}</h1>"
            '<p class="hint">Lokal OpenID Connect-leverantör som efterliknar Sweden Connect. '
            "Endast för utveckling och demonstration – ingen riktig e-legitimation används.</p>"
            f"{body}</main></body></html>"
        )

    def _render_index(self) -> str:
        state = self.server.state
        items = "".join(
            f"<li><code>{_h(state.endpoint(path))}</code></li>"
            for path in (
                "/.well-known/openid-configuration",
                "/jwks.json",
                "/authorize",
                "/token",
                "/userinfo",
            )
        )
        return self._page("Sweden Connect (lokal test-OP)", f"<p>Adresser:</p><ul>{items}</ul>")

    def _render_error(self, message: str) -> str:
        return self._page(
            "Sweden Connect (lokal test-OP)", f'<p class="error" role="alert">{_h(message)}</p>'
        )

    def _render_login(self, pending: PendingAuthorization, *, error: str | None = None) -> str:
        state = self.server.state
        people = "".join(
            f'<option value="{_h(person.personal_number)}">'
            f"{_h(person.given_name)} {_h(person.surname)} – {_h(_format_number(person.personal_number))}"
            f"{(' (' + _h(person.role_hint) + ')') if getattr(person, 'role_hint', '') else ''}"
            "</option>"
            for person in state.people
        )
        requested = [value for value in pending.acr_values if value in LOA_LABELS]
        ordered = requested + [value for value in LOA_LABELS if value not in requested]
        levels = "".join(
            f'<option value="{_h(value)}"{" selected" if index == 0 else ""}>'
            f"{_h(LOA_LABELS[value])}{' (begärd)' if value in requested else ''}</option>"
            for index, value in enumerate(ordered)
        )
        parts = [
            f'<p class="error" role="alert">{_h(error)}</p>' if error else "",
            f"<p>Klienten <strong>{_h(pending.client_id)}</strong> vill att du legitimerar dig.</p>",
            f'<form method="post" action="/authorize/{_h(pending.id)}">',
            "<fieldset><legend>Vem legitimerar sig?</legend>",
            (
                '<label class="choice"><input type="radio" name="kind" value="swedish" checked> '
                "Svensk e-legitimation (demoperson)</label>"
            ),
            (
                '<label class="choice"><input type="radio" name="kind" value="foreign"> '
                "Utländsk e-legitimation (eIDAS)</label></fieldset>"
            ),
            "<fieldset><legend>Svensk e-legitimation</legend>",
            '<label for="person">Demoperson</label>',
            f'<select id="person" name="personal_number">{people}</select></fieldset>',
            "<fieldset><legend>Utländsk e-legitimation (eIDAS)</legend>",
            '<label for="country">Land (två bokstäver, till exempel DE)</label>',
            '<input id="country" name="country" maxlength="2" autocomplete="off">',
            '<label for="identifier">Personidentifierare från landet</label>',
            '<input id="identifier" name="identifier" autocomplete="off">',
            '<label for="given">Förnamn</label>',
            '<input id="given" name="given_name" autocomplete="off">',
            '<label for="family">Efternamn</label>',
            '<input id="family" name="family_name" autocomplete="off">',
            '<label for="birthdate">Födelsedatum (valfritt, ÅÅÅÅ-MM-DD)</label>',
            '<input id="birthdate" name="birthdate" autocomplete="off">',
            '<label for="mapped">Kopplat svenskt personnummer (valfritt)</label>',
            (
                '<input id="mapped" name="mapped_personal_number" inputmode="numeric" '
                'aria-describedby="mapped-hint" autocomplete="off">'
            ),
            (
                '<p class="hint" id="mapped-hint">Som när eIDAS-noden har kopplat personen till '
                "folkbokföringen.</p></fieldset>"
            ),
            "<fieldset><legend>Tillitsnivå</legend>",
            '<label for="acr">Tillitsnivå att intyga</label>',
            f'<select id="acr" name="acr">{levels}</select></fieldset>',
            '<button type="submit" name="action" value="approve">Legitimera</button>',
            '<button type="submit" name="action" value="cancel" class="secondary">Avbryt</button>',
            "</form>",
        ]
        return self._page("Sweden Connect (lokal test-OP)", "".join(parts))

    # --- plumbing ---

    def _form(self, body: bytes) -> dict[str, str]:
        try:
            fields = self._form_fields(body, max_fields=40)
        except ValueError:
            raise _BadRequest from None
        if any(len(values) > 1 for values in fields.values()):
            # OAuth: a parameter must not appear twice.
            raise _BadRequest
        return {name: values[0].strip() for name, values in fields.items()}

    def _redirect(self, location: str) -> int:
        self._send(HTTPStatus.FOUND, b"", "text/plain; charset=utf-8", {"Location": location})
        return HTTPStatus.FOUND


def _format_number(number: str) -> str:
    return f"{number[:8]}-{number[8:]}" if len(number) == 12 else number  # noqa: PLR2004


def _text(value: Any, label: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValueError(f"Fyll i {label}.")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{label.capitalize()} är för långt.")
    return text


def _foreign_person(data: Mapping[str, Any]) -> OpPerson:
    country = _text(data.get("country"), "land").upper()
    if not _COUNTRY.fullmatch(country):
        raise ValueError("Ange landet med två bokstäver, till exempel DE.")
    identifier = _text(data.get("identifier"), "personidentifierare")
    if "/" not in identifier:
        # The eIDAS form: the issuing country, the receiving country, the identifier.
        identifier = f"{country}/SE/{identifier}"
    mapped = data.get("mapped_personal_number")
    mapped_number = (
        normalise_personal_number(mapped) if isinstance(mapped, str) and mapped.strip() else None
    )
    birthdate = data.get("birthdate")
    if (
        isinstance(birthdate, str)
        and birthdate.strip()
        and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", birthdate.strip())
    ):
        raise ValueError("Ange födelsedatumet som ÅÅÅÅ-MM-DD.")
    return OpPerson(
        given_name=_text(data.get("given_name"), "förnamn"),
        family_name=_text(data.get("family_name"), "efternamn"),
        country=country,
        eidas_identifier=identifier,
        mapped_personal_number=mapped_number,
        birthdate=birthdate.strip() if isinstance(birthdate, str) and birthdate.strip() else None,
    )


def _person_from_form(state: OpState, form: Mapping[str, str]) -> OpPerson:
    if form.get("kind") == "foreign":
        try:
            return _foreign_person(form)
        except InvalidPersonalNumber:
            raise ValueError("Det kopplade personnumret är inte giltigt.") from None
    person = state.demo_person(form.get("personal_number", ""))
    if person is None:
        raise ValueError("Välj en demoperson.")
    return person


def _person_from_control(state: OpState, data: Mapping[str, Any]) -> OpPerson:
    eidas = data.get("eidas")
    if isinstance(eidas, dict):
        return _foreign_person(eidas)
    number = data.get("personal_number")
    if number is None:
        person = state.demo_person(None)
        if person is None:
            raise ValueError("no demo person")
        return person
    if not isinstance(number, str):
        raise ValueError("personal_number")
    normalised = normalise_personal_number(number)
    demo = state.demo_person(normalised)
    given, family = (demo.given_name, demo.family_name) if demo else ("Test", "Testsson")
    return OpPerson(
        given_name=str(data.get("given_name") or given),
        family_name=str(data.get("family_name") or family),
        personal_number=normalised,
    )


# --- Running -------------------------------------------------------------------------------------


class RunningOp(localserver.RunningServers):
    """A started provider; ``stop()`` it, or use ``with``."""

    def __init__(self, *, state: OpState, server: _Server) -> None:
        self.state = state
        self.issuer = state.issuer
        self._server = server
        super().__init__({"oidc-op": server})

    @property
    def port(self) -> int:
        return self._server.server_port

    def authorize(
        self,
        url: str,
        *,
        person: OpPerson | None = None,
        personal_number: str | None = None,
        acr: str | None = None,
        cancel: bool = False,
    ) -> dict[str, str]:
        """The callback's query parameters for the authentication request ``url``, as if the
        person had approved (as ``person``, or the demo person with ``personal_number``) or
        cancelled on the page."""
        if person is None and personal_number is not None:
            person = self.state.demo_person(personal_number) or OpPerson(
                given_name="Test", family_name="Testsson", personal_number=personal_number
            )
        return self.state.authorize(url, person=person, acr=acr, cancel=cancel)

    def tamper(self, **changes: Any) -> None:
        """Misbehave from now on (see ``Tamper``); ``tamper()`` with nothing behaves again."""
        self.state.set_tamper(Tamper(**changes))

    def _before_shutdown(self) -> None:
        self.state.stopping.set()


def start_op(
    *,
    signing_key: SigningKey,
    clients: Iterable[RegisteredClient],
    people: Iterable[Any] = (),
    port: int = 0,
) -> RunningOp:
    """Start the provider on ``http://127.0.0.1:<port>`` (0: a free port; the returned object's
    ``issuer`` says which). It runs in a daemon thread until ``stop()``."""
    state = OpState(signing_key=signing_key, clients=clients, people=people)
    server = _Server(("127.0.0.1", port), _Handler, state=state)
    state.issuer = f"http://127.0.0.1:{server.server_port}"
    return RunningOp(state=state, server=server)
