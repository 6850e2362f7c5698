"""Fixtures for Sweden Connect over SAML and eIDAS: test keys once per session, a local test IdP
per test (free port), and the portal's SAML settings pointing at it.

``saml_idp`` is the running IdP (``portal.identity.saml.idp.RunningIdp``); ``saml_settings`` points
the SP's settings at it (and resets the per-process SP); a test that logs in through it needs both,
plus ``db`` for the replay table. ``saml_keys`` holds the key pairs, among them a ``forger`` pair
the IdP's metadata does not know.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.saml.idp import IdpKeys, RunningIdp, start_idp
from portal.identity.saml.keys import KeyPair, ensure_key_pair
from portal.identity.saml.sp import reset_shared_service_provider, shared_service_provider

#: The framework's minimum RSA size: enough for tests, and quick to generate.
_TEST_KEY_BITS = 2048


@dataclass(frozen=True)
class SamlKeys:
    sp_signing: KeyPair
    sp_encryption: KeyPair
    idp: IdpKeys
    #: A key pair nobody trusts: what a forger signs or encrypts with.
    forger: KeyPair


def _pair(directory: Path, name: str) -> KeyPair:
    return ensure_key_pair(
        directory / f"{name}.key", directory / f"{name}.pem", f"test {name}", bits=_TEST_KEY_BITS
    )


@pytest.fixture(scope="session")
def saml_keys(tmp_path_factory: pytest.TempPathFactory) -> SamlKeys:
    directory = tmp_path_factory.mktemp("saml-keys")
    return SamlKeys(
        sp_signing=_pair(directory, "sp-signing"),
        sp_encryption=_pair(directory, "sp-encryption"),
        idp=IdpKeys(
            signing=_pair(directory, "idp-signing"),
            metadata_signing=_pair(directory, "metadata-signing"),
        ),
        forger=_pair(directory, "forger"),
    )


@pytest.fixture(scope="session")
def saml_idp(saml_keys: SamlKeys) -> Iterator[RunningIdp]:
    """The local test IdP (Swedish IdP and eIDAS connector) on a free port, one per session. It
    reads the portal's SP metadata in-process, from the current settings, each time a request
    arrives; each pending request is answered once, so tests do not see each other's."""
    with start_idp(
        keys=saml_keys.idp,
        sp_metadata=lambda: shared_service_provider().metadata_document(),
        people=DEMO_PEOPLE,
    ) as idp:
        yield idp


@pytest.fixture
def saml_settings(settings: Any, saml_keys: SamlKeys, saml_idp: RunningIdp) -> Iterator[Any]:
    """The portal's SAML settings, pointing at ``saml_idp``. The shared SP follows the settings by
    itself (it is made anew when one changes); it is reset afterwards all the same."""
    settings.SAML_SP_ENTITY_ID = settings.BASE_URL + "/saml/metadata.xml"
    settings.SAML_SP_KEY = str(saml_keys.sp_signing.key)
    settings.SAML_SP_CERT = str(saml_keys.sp_signing.cert)
    settings.SAML_SP_ENCRYPTION_KEY = str(saml_keys.sp_encryption.key)
    settings.SAML_SP_ENCRYPTION_CERT = str(saml_keys.sp_encryption.cert)
    settings.SAML_SP_PREVIOUS_ENCRYPTION_KEYS = []
    settings.SAML_IDP_METADATA = saml_idp.metadata_url
    settings.SAML_METADATA_SIGNING_CERT = str(saml_idp.metadata_signing_cert)
    settings.SAML_IDP_ENTITY_ID = saml_idp.entity_id("se")
    settings.SAML_EIDAS_IDP_ENTITY_ID = saml_idp.entity_id("eidas")
    settings.SAML_REQUEST_BINDING = "post"
    yield settings
    reset_shared_service_provider()
