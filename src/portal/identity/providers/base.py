"""The interface every e-ID provider implements.

Two shapes of flow exist: *polling* (BankID, Freja eID: the portal starts an order, shows a QR code
or opens the app, and asks for the result) and *redirect* (Sweden Connect over OpenID Connect or
SAML: the browser goes to the identity provider and comes back with the result). A provider
implements the half that fits; the login views drive both through this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal


class Assurance(StrEnum):
    """Assurance levels of the Swedish e-ID trust framework (tillitsnivå)."""

    LOA2 = "loa2"
    LOA3 = "loa3"
    LOA4 = "loa4"

    @property
    def rank(self) -> int:
        return int(self.value[-1])

    @property
    def uri(self) -> str:
        """The level's URI in the Swedish eID framework (SAML AuthnContextClassRef, OIDC acr)."""
        return f"http://id.elegnamnden.se/loa/1.0/{self.value}"


#: Authentication context URIs of the Swedish eID framework and what each is worth here. The eIDAS
#: levels count only when the scheme is notified ("nf"): eIDAS substantial is level 3, high level 4.
#: Any other URI (e.g. a non-notified eidas-sub) is unknown and refused.
LOA_URIS: dict[str, Assurance] = {
    "http://id.elegnamnden.se/loa/1.0/loa2": Assurance.LOA2,
    "http://id.elegnamnden.se/loa/1.0/loa3": Assurance.LOA3,
    "http://id.elegnamnden.se/loa/1.0/loa4": Assurance.LOA4,
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-low": Assurance.LOA2,
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub": Assurance.LOA3,
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-high": Assurance.LOA4,
}


def loa_uris_at_least(minimum: Assurance) -> list[str]:
    """Every known context URI worth ``minimum`` or more, the Swedish ones first."""
    return [uri for uri, level in LOA_URIS.items() if level.rank >= minimum.rank]


@dataclass(frozen=True)
class StartRequest:
    purpose: Literal["login", "sign"]
    end_user_ip: str
    user_agent: str
    device_identifier: str
    referring_domain: str
    #: The person uses the e-ID app on the device the browser runs on (autostart, no QR code).
    same_device: bool
    visible_text: str | None = None
    non_visible_data: bytes | None = None
    #: The lowest assurance the action accepts (configured per action, R12).
    minimum: Assurance = Assurance.LOA3
    #: Redirect flows: the value the identity provider must send back (OIDC ``state``, SAML
    #: ``RelayState``): the order's public id, bound to the browser session that started it.
    state: str = ""
    #: Redirect flows: the absolute address the identity provider sends the browser back to.
    callback_url: str = ""


@dataclass(frozen=True)
class Redirect:
    """Where a redirect flow sends the browser: a GET of ``url``, or, when ``form`` is given (the
    SAML HTTP-POST binding), an automatically submitted form with those fields."""

    url: str
    form: dict[str, str] | None = None


@dataclass(frozen=True)
class Started:
    transaction_id: str
    #: Kept on the server only (e.g. BankID's qrStartSecret, an OIDC nonce and PKCE verifier);
    #: never sent to the browser.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    #: Redirect flows: where to send the browser now.
    redirect: Redirect | None = None


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the e-ID says the person is, and how sure it is."""

    issuer: str
    assurance: Assurance
    transaction_id: str
    personal_number: str | None
    given_name: str
    surname: str
    eidas_identifier: str | None = None
    signature: str = ""
    ocsp_response: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    state: Literal["pending", "complete", "failed"]
    #: Key of the message to show (for BankID, an RFA key from bankid.messages).
    message_key: str
    hint_code: str = ""
    identity: VerifiedIdentity | None = None
    #: The failure was the provider being unreachable or busy, not the person's doing.
    transient: bool = False


class ProviderError(Exception):
    """Starting, polling or cancelling failed; ``message_key`` says what to tell the person."""

    def __init__(self, code: str, message_key: str, *, transient: bool) -> None:
        super().__init__(code)
        self.code = code
        self.message_key = message_key
        self.transient = transient


class IdentityRejected(Exception):
    """A redirect flow's answer was refused: forged, expired, replayed, wrongly signed or wrongly
    addressed, an assurance below the minimum, no usable identifier, or the person cancelled.

    ``reason`` is a short code for the audit log (e.g. ``bad-signature``, ``wrong-audience``,
    ``expired``, ``replayed``, ``assurance-too-low``, ``missing-personal-number``, ``cancelled``,
    ``state-mismatch``); ``message`` is what the person is told, in Swedish (translatable), and must
    not repeat anything from the rejected answer.
    """

    def __init__(self, reason: str, message: str = "", *, cancelled: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.cancelled = cancelled


class IdentityProvider(ABC):
    code: str
    name: str
    assurance: Assurance
    #: "poll" (start, then poll until done) or "redirect" (begin, then finish with the answer).
    flow: ClassVar[Literal["poll", "redirect"]] = "poll"

    @abstractmethod
    def start(self, request: StartRequest) -> Started: ...

    @abstractmethod
    def poll(self, started: Started, *, same_device: bool) -> Progress: ...

    @abstractmethod
    def cancel(self, started: Started) -> None: ...

    def message(self, key: str) -> str:
        """The text for a ``message_key`` in the active language."""
        return key

    # Polling flows with an app: what the order page shows.

    def qr_content(self, started: Started, seconds: int) -> str:
        """The QR code's content ``seconds`` after the order started; empty if there is none."""
        return ""

    def app_url(self, started: Started) -> str:
        """The address that opens the e-ID app on this device; empty if there is none."""
        return ""

    def app_button(self) -> str:
        """The label of the button that opens the app on this device."""
        return ""


class RedirectIdentityProvider(IdentityProvider):
    """A provider the browser is sent to (Sweden Connect over OpenID Connect or SAML).

    ``start`` returns a ``Started`` with ``redirect`` set and every value needed to check the answer
    (nonce, PKCE verifier, request id) in ``secrets``; ``finish`` checks the answer the browser
    brings back and returns who the person is, or raises ``IdentityRejected``.
    """

    flow: ClassVar[Literal["poll", "redirect"]] = "redirect"

    @abstractmethod
    def response_state(self, params: Mapping[str, str]) -> str:
        """The ``state`` (OIDC) or ``RelayState`` (SAML) the answer carries; empty if none."""

    @abstractmethod
    def finish(
        self, started: Started, params: Mapping[str, str], request: StartRequest
    ) -> VerifiedIdentity:
        """Check the answer (query or form parameters of the callback) and return the identity."""

    def poll(self, started: Started, *, same_device: bool) -> Progress:
        raise NotImplementedError("a redirect flow is not polled")

    def cancel(self, started: Started) -> None:
        """Nothing to cancel at the provider: the person simply does not come back."""
