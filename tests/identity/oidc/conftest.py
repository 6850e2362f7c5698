"""Fixtures for Sweden Connect over OpenID Connect: keys made once per session, a local OpenID
Provider per test on a free port, and the portal's settings pointing at it.

Reusable elsewhere: ``oidc_op`` (a running ``RunningOp``; ``oidc_op.issuer`` is its address) and
``oidc_settings`` (the settings pointing at it, caches reset; depends on ``oidc_op``). The provider
knows the portal as client ``OIDC_TEST_CLIENT_ID`` with redirect URIs ``oidc_callback_urls``
(``PORTAL_BASE_URL``'s and ``http://testserver``'s ``/logga-in/oidc/svar``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.oidc.keys import SigningKey, ensure_private_key, load_signing_key
from portal.identity.oidc.op import RegisteredClient, RunningOp, start_op
from portal.identity.oidc.provider import reset_shared_client

OIDC_TEST_CLIENT_ID = "portal-test"
CALLBACK_PATH = "/logga-in/oidc/svar"
#: The callback every provider test uses in its StartRequest.
CALLBACK_URL = "http://testserver" + CALLBACK_PATH


@dataclass(frozen=True)
class OidcTestKeys:
    # Not a test class, whatever its name says.
    __test__ = False

    provider: SigningKey
    #: Another key for the provider, for a key rollover.
    rolled_provider: SigningKey
    client_key_path: Path
    client: SigningKey
    other_client_key_path: Path


@pytest.fixture(scope="session")
def oidc_keys(tmp_path_factory: pytest.TempPathFactory) -> OidcTestKeys:
    """The provider's RSA key and the portal's EC client key (and a second, unregistered one)."""
    directory = tmp_path_factory.mktemp("oidc")
    provider = load_signing_key(ensure_private_key(directory / "op.key", "rsa"))
    rolled = load_signing_key(ensure_private_key(directory / "op-rolled.key", "rsa"))
    client_path = ensure_private_key(directory / "client.key")
    other_path = ensure_private_key(directory / "other-client.key")
    return OidcTestKeys(
        provider=provider,
        rolled_provider=rolled,
        client_key_path=client_path,
        client=load_signing_key(client_path),
        other_client_key_path=other_path,
    )


@pytest.fixture
def oidc_callback_urls(settings: Any) -> tuple[str, ...]:
    return (CALLBACK_URL, settings.BASE_URL + CALLBACK_PATH)


@pytest.fixture
def oidc_op(oidc_keys: OidcTestKeys, oidc_callback_urls: tuple[str, ...]) -> Iterator[RunningOp]:
    """A local OpenID Provider on a free port, knowing the portal as a client."""
    client = RegisteredClient(
        client_id=OIDC_TEST_CLIENT_ID,
        redirect_uris=oidc_callback_urls,
        jwks=oidc_keys.client.public_jwks(),
    )
    with start_op(signing_key=oidc_keys.provider, clients=[client], people=DEMO_PEOPLE) as op:
        yield op


@pytest.fixture
def oidc_settings(oidc_op: RunningOp, oidc_keys: OidcTestKeys, settings: Any) -> Iterator[Any]:
    """The portal's settings pointing at ``oidc_op``, with the provider's shared client reset."""
    settings.OIDC_ISSUER = oidc_op.issuer
    settings.OIDC_CLIENT_ID = OIDC_TEST_CLIENT_ID
    settings.OIDC_CLIENT_KEY = str(oidc_keys.client_key_path)
    settings.OIDC_TIMEOUT_SECONDS = 5
    settings.OIDC_CA_CERT = ""
    settings.OIDC_SIGNED_REQUEST = True
    if "oidc" not in settings.EID_ALLOWED_ISSUERS:
        settings.EID_ALLOWED_ISSUERS = [*settings.EID_ALLOWED_ISSUERS, "oidc"]
    reset_shared_client()
    yield settings
    reset_shared_client()
