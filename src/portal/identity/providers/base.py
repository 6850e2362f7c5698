"""The interface every e-ID provider implements.

Two shapes of flow exist: *polling* (BankID, Freja eID: the portal starts an order, shows a QR code
or opens the app, and asks for the result) and *redirect* (Sweden Connect over OpenID Connect or
SAML: the browser goes to the identity provider and comes back with the result). A provider
implements the half that fits; the login views drive both through this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Assurance(StrEnum):
    """Assurance levels of the Swedish e-ID trust framework (tillitsnivå)."""

    LOA2 = "loa2"
    LOA3 = "loa3"
    LOA4 = "loa4"

    @property
    def rank(self) -> int:
        return int(self.value[-1])


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


@dataclass(frozen=True)
class Started:
    transaction_id: str
    #: Kept on the server only (e.g. BankID's qrStartSecret); never sent to the browser.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)


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


class IdentityProvider(ABC):
    code: str
    name: str
    assurance: Assurance

    @abstractmethod
    def start(self, request: StartRequest) -> Started: ...

    @abstractmethod
    def poll(self, started: Started, *, same_device: bool) -> Progress: ...

    @abstractmethod
    def cancel(self, started: Started) -> None: ...

    def message(self, key: str) -> str:
        """The text for a ``message_key`` in the active language."""
        return key
