"""FrejaProvider: the provider interface over the client, against the simulator."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation

from portal.identity.freja import messages
from portal.identity.freja.client import AuthRequest, FrejaClient
from portal.identity.freja.provider import FrejaProvider, app_link, reset_shared_client
from portal.identity.freja.simulator import RunningFrejaSimulator
from portal.identity.providers.base import (
    Assurance,
    Progress,
    ProviderError,
    Started,
    StartRequest,
)
from portal.identity.providers.registry import get_provider

TOLVAN = "191212121212"
DRAGAN = "197001632392"


def request(**changes: Any) -> StartRequest:
    fields: dict[str, Any] = {
        "purpose": "login",
        "end_user_ip": "192.0.2.10",
        "user_agent": "pytest",
        "device_identifier": "device",
        "referring_domain": "portal.example",
        "same_device": False,
    }
    fields.update(changes)
    return StartRequest(**fields)


@pytest.fixture
def provider(freja_settings: RunningFrejaSimulator) -> FrejaProvider:
    """The provider as the registry makes it: no arguments, the shared client from settings."""
    return FrejaProvider()


def test_the_registry_makes_it(freja_settings: RunningFrejaSimulator) -> None:
    provider = get_provider("freja")
    assert isinstance(provider, FrejaProvider)
    assert (provider.code, provider.name, provider.assurance) == (
        "freja",
        "Freja eID+",
        Assurance.LOA3,
    )
    assert provider.flow == "poll"


def test_login_from_start_to_a_verified_identity(
    provider: FrejaProvider, freja_settings: RunningFrejaSimulator
) -> None:
    started = provider.start(request())
    assert started.secrets == {"user_info_type": "INFERRED"}
    assert started.redirect is None
    assert provider.poll(started, same_device=False) == Progress("pending", "scanQr", "STARTED")
    assert provider.poll(started, same_device=True).message_key == "startingApp"

    freja_settings.state.open_transaction(started.transaction_id, TOLVAN)
    assert provider.poll(started, same_device=False) == Progress(
        "pending", "confirmInApp", "DELIVERED_TO_MOBILE"
    )

    freja_settings.state.approve(started.transaction_id)
    progress = provider.poll(started, same_device=False)
    assert (progress.state, progress.message_key) == ("complete", "complete")
    identity = progress.identity
    assert identity is not None
    assert identity.issuer == "freja"
    assert identity.assurance is Assurance.LOA3
    assert identity.transaction_id == started.transaction_id
    assert identity.personal_number == TOLVAN
    assert (identity.given_name, identity.surname) == ("Tolvan", "Tolvansson")
    assert identity.eidas_identifier is None
    assert identity.signature.count(".") == 2
    assert identity.attributes["registrationLevel"] == "PLUS"
    assert identity.attributes["ssnCountry"] == "SE"
    assert identity.attributes["userInfoType"] == "INFERRED"
    assert identity.attributes["relyingPartyUserId"]


def test_a_coordination_number_is_a_personal_number(
    provider: FrejaProvider, freja_settings: RunningFrejaSimulator
) -> None:
    started = provider.start(request())
    freja_settings.state.approve(started.transaction_id, DRAGAN)
    identity = provider.poll(started, same_device=False).identity
    assert identity is not None
    assert identity.personal_number == DRAGAN


def test_a_foreign_identity_number_is_no_personal_number(
    provider: FrejaProvider, freja_settings: RunningFrejaSimulator
) -> None:
    started = provider.start(request())
    freja_settings.state.approve(started.transaction_id, "01017012345", country="NO")
    identity = provider.poll(started, same_device=False).identity
    assert identity is not None
    assert identity.personal_number is None
    assert identity.attributes["ssnCountry"] == "NO"
    assert "01017012345" not in str(identity.attributes)


def test_a_result_without_an_identity_number_has_no_personal_number(
    freja_settings: RunningFrejaSimulator, freja_client: FrejaClient
) -> None:
    auth_ref = freja_client.init_authentication(AuthRequest(attributes=("BASIC_USER_INFO",)))
    freja_settings.state.approve(auth_ref, TOLVAN)
    provider = FrejaProvider(client=freja_client)
    progress = provider.poll(
        Started(auth_ref, secrets={"user_info_type": "INFERRED"}), same_device=False
    )
    assert progress.identity is not None
    assert progress.identity.personal_number is None
    assert progress.identity.given_name == "Tolvan"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("decline", Progress("failed", "userCancel", "userCancel")),
        ("reject", Progress("failed", "rejected", "rejected")),
    ],
)
def test_failures_in_the_app(
    provider: FrejaProvider,
    freja_settings: RunningFrejaSimulator,
    action: str,
    expected: Progress,
) -> None:
    started = provider.start(request())
    getattr(freja_settings.state, action)(started.transaction_id)
    assert provider.poll(started, same_device=False) == expected


def test_expired(provider: FrejaProvider, freja_settings: RunningFrejaSimulator) -> None:
    freja_settings.state.transaction_ttl = 0
    started = provider.start(request())
    assert provider.poll(started, same_device=False) == Progress(
        "failed", "expiredTransaction", "expiredTransaction"
    )


def test_cancel_then_poll_is_cancelled_and_a_second_cancel_is_quiet(
    provider: FrejaProvider,
) -> None:
    started = provider.start(request())
    provider.cancel(started)
    assert provider.poll(started, same_device=False) == Progress("failed", "cancelled", "cancelled")
    provider.cancel(started)


@pytest.mark.parametrize(
    ("forgery", "hint_code", "key"),
    [
        ("wrong-key", "bad-signature", "invalidAnswer"),
        ("unknown-certificate", "unknown-certificate", "invalidAnswer"),
        ("tampered-payload", "bad-signature", "invalidAnswer"),
        ("other-auth-ref", "auth-ref-mismatch", "invalidAnswer"),
        ("status-mismatch", "status-mismatch", "invalidAnswer"),
        ("unsigned", "unsigned-answer", "invalidAnswer"),
        ("stale", "stale-answer", "invalidAnswer"),
        ("low-registration-level", "registration-level-too-low", "registrationLevelTooLow"),
    ],
)
def test_a_result_that_cannot_be_believed_fails_the_login(
    provider: FrejaProvider,
    freja_settings: RunningFrejaSimulator,
    forgery: str,
    hint_code: str,
    key: str,
) -> None:
    started = provider.start(request())
    freja_settings.state.approve(started.transaction_id, TOLVAN)
    freja_settings.state.set_forgery(forgery)
    assert provider.poll(started, same_device=False) == Progress("failed", key, hint_code)


def test_signing_is_not_offered(provider: FrejaProvider) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.start(request(purpose="sign", visible_text="Jag intygar"))
    assert (raised.value.code, raised.value.message_key, raised.value.transient) == (
        "signing-not-supported",
        "signingNotSupported",
        False,
    )


def test_an_action_needing_level_4_is_refused_before_freja_is_asked(
    provider: FrejaProvider, freja_settings: RunningFrejaSimulator
) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.start(request(minimum=Assurance.LOA4))
    assert (raised.value.code, raised.value.message_key) == ("assurance-too-low", "assuranceTooLow")
    assert freja_settings.state.transactions() == []
    assert provider.start(request(minimum=Assurance.LOA2)).transaction_id


def test_freja_unavailable_is_a_transient_provider_error(
    provider: FrejaProvider, freja_settings: RunningFrejaSimulator
) -> None:
    started = provider.start(request())
    freja_settings.state.set_mode("unavailable")
    for call in (
        lambda: provider.poll(started, same_device=False),
        lambda: provider.cancel(started),
    ):
        with pytest.raises(ProviderError) as raised:
            call()
        assert (raised.value.code, raised.value.message_key, raised.value.transient) == (
            "unavailable",
            "unavailable",
            True,
        )


def test_a_freja_refusal_is_not_transient(provider: FrejaProvider) -> None:
    with pytest.raises(ProviderError) as raised:
        provider.poll(Started("A" * 64), same_device=False)
    assert (raised.value.code, raised.value.message_key, raised.value.transient) == (
        "invalidReference",
        "error",
        False,
    )


def test_missing_certificate_files_are_a_provider_error_not_a_crash(
    freja_settings: RunningFrejaSimulator, settings: Any, tmp_path: Any
) -> None:
    settings.FREJA_SIGNING_CERT = str(tmp_path / "missing.pem")
    reset_shared_client()
    with pytest.raises(ProviderError) as raised:
        FrejaProvider().start(request())
    assert (raised.value.code, raised.value.message_key, raised.value.transient) == (
        "not-configured",
        "unavailable",
        False,
    )


def test_the_qr_code_is_freja_s_bind_link(provider: FrejaProvider) -> None:
    started = Started("a+b/c=d_e-f")
    content = provider.qr_content(started, 0)
    assert content == app_link("a+b/c=d_e-f")
    assert content == provider.qr_content(started, 17)
    url = urlsplit(content)
    assert (url.scheme, url.netloc) == ("frejaeid", "bindUserToTransaction")
    assert parse_qs(url.query) == {"transactionReference": ["a+b/c=d_e-f"]}
    assert content == ("frejaeid://bindUserToTransaction?transactionReference=a%2Bb%2Fc%3Dd_e-f")


def test_on_this_device_leads_to_the_test_app_in_development_and_the_app_otherwise(
    provider: FrejaProvider, freja_settings: RunningFrejaSimulator, settings: Any
) -> None:
    started = provider.start(request(same_device=True))
    assert provider.app_url(started) == freja_settings.transaction_url(started.transaction_id)
    settings.EID_SIMULATOR = False
    assert provider.app_url(started) == app_link(started.transaction_id)


def test_the_test_app_page_for_the_app_url_exists(
    provider: FrejaProvider, freja_settings: RunningFrejaSimulator, freja_app: Any
) -> None:
    started = provider.start(request(same_device=True))
    page = freja_app.get(provider.app_url(started))
    assert page.status_code == 200
    assert "Godkänn" in page.text


def test_every_message_key_the_provider_produces_has_a_swedish_text(
    provider: FrejaProvider,
) -> None:
    produced = {
        "scanQr",
        "startingApp",
        "confirmInApp",
        "complete",
        "userCancel",
        "cancelled",
        "expiredTransaction",
        "rejected",
        "invalidAnswer",
        "registrationLevelTooLow",
        "unavailable",
        "error",
        "signingNotSupported",
        "assuranceTooLow",
        "startApp",
        "question",
    }
    assert produced <= set(messages.MESSAGES)
    with translation.override("sv"):
        for key in produced:
            assert provider.message(key) == str(messages.MESSAGES[key])
            assert provider.message(key).strip()
        assert provider.message("noSuchKey") == provider.message("error")
        assert "Freja eID" in provider.message("scanQr")
