"""The portal's client key for private_key_jwt: generated in development, read from a PEM file
otherwise, and published (public part only) at /oidc/jwks.json; and the local provider's command."""

from __future__ import annotations

import json
import stat
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.management import CommandError, call_command
from django.http import Http404
from django.test import RequestFactory
from joserfc.jwk import RSAKey

from portal.identity.oidc.keys import (
    UnusableKeyError,
    client_key,
    ensure_private_key,
    import_public_key_set,
    load_signing_key,
    reset_client_key,
)
from portal.identity.oidc.views import jwks
from tests.support.server import VENV_BIN, free_port, portal_env


@pytest.fixture
def key_settings(settings: Any, tmp_path: Path) -> Any:
    settings.OIDC_CLIENT_KEY = str(tmp_path / "oidc" / "client.key")
    settings.EID_SIMULATOR = True
    if "oidc" not in settings.EID_ALLOWED_ISSUERS:
        settings.EID_ALLOWED_ISSUERS = [*settings.EID_ALLOWED_ISSUERS, "oidc"]
    reset_client_key()
    yield settings
    reset_client_key()


def _write(path: Path, key: Any) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def test_a_development_key_is_generated_at_first_use(key_settings: Any) -> None:
    path = Path(key_settings.OIDC_CLIENT_KEY)
    assert not path.exists()
    key = client_key()
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert key.alg == "ES256"
    # The same key the next time, and after a restart.
    reset_client_key()
    assert client_key().kid == key.kid


def test_no_key_is_generated_when_the_simulators_are_off(key_settings: Any) -> None:
    key_settings.EID_SIMULATOR = False
    with pytest.raises(UnusableKeyError):
        client_key()
    assert not Path(key_settings.OIDC_CLIENT_KEY).exists()


def test_no_key_configured(key_settings: Any) -> None:
    key_settings.OIDC_CLIENT_KEY = ""
    with pytest.raises(UnusableKeyError):
        client_key()


def test_rsa_and_ec_keys_pick_their_algorithm(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert load_signing_key(_write(tmp_path / "rsa.pem", rsa_key)).alg == "RS256"
    p384 = ec.generate_private_key(ec.SECP384R1())
    assert load_signing_key(_write(tmp_path / "p384.pem", p384)).alg == "ES384"


@pytest.mark.parametrize(
    "make",
    [
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 -- refused
        lambda: ec.generate_private_key(ec.SECP256K1()),
        ed25519.Ed25519PrivateKey.generate,
    ],
)
def test_weak_or_unsupported_keys_are_refused(tmp_path: Path, make: Any) -> None:
    with pytest.raises(UnusableKeyError):
        load_signing_key(_write(tmp_path / "key.pem", make()))


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a key")
    with pytest.raises(UnusableKeyError):
        load_signing_key(path)
    with pytest.raises(UnusableKeyError):
        load_signing_key(tmp_path / "missing.pem")


def test_an_existing_key_is_never_replaced(tmp_path: Path) -> None:
    path = ensure_private_key(tmp_path / "k.pem")
    before = path.read_bytes()
    ensure_private_key(path, "rsa")
    assert path.read_bytes() == before


def test_a_jwks_keeps_only_public_signing_keys(tmp_path: Path) -> None:
    key = load_signing_key(ensure_private_key(tmp_path / "k.pem"))
    private = {**key.key.as_dict(private=True), "kid": "leaked", "use": "sig"}
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 -- dropped
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small_jwk = RSAKey.import_key(small.public_key()).as_dict()
    keys = import_public_key_set(
        {
            "keys": [
                private,
                {**key.public_jwk(), "kid": "for-encryption", "use": "enc"},
                {"kty": "oct", "k": "c2VjcmV0", "kid": "symmetric"},
                {**small_jwk, "kid": "small"},
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                },
            ]
        }
    )
    (only,) = list(keys)
    assert only.kid == "leaked"
    assert not only.is_private
    with pytest.raises(UnusableKeyError):
        import_public_key_set({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})
    with pytest.raises(UnusableKeyError):
        import_public_key_set(["not", "a", "set"])


def test_the_jwks_view_publishes_the_public_key(key_settings: Any) -> None:
    response = jwks(RequestFactory().get("/oidc/jwks.json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    document = json.loads(response.content)
    (key,) = document["keys"]
    assert key["kid"] == client_key().kid
    assert key["use"] == "sig"
    assert key["alg"] == "ES256"
    assert "d" not in key


def test_the_jwks_view_answers_get_only(key_settings: Any) -> None:
    response = jwks(RequestFactory().post("/oidc/jwks.json"))
    assert response.status_code == 405


def test_the_jwks_view_is_not_found_when_oidc_is_off(key_settings: Any) -> None:
    key_settings.EID_ALLOWED_ISSUERS = ["bankid"]
    with pytest.raises(Http404):
        jwks(RequestFactory().get("/oidc/jwks.json"))


def test_the_jwks_view_is_not_found_without_a_key(key_settings: Any) -> None:
    key_settings.OIDC_CLIENT_KEY = ""
    with pytest.raises(Http404):
        jwks(RequestFactory().get("/oidc/jwks.json"))


def test_the_local_provider_refuses_to_run_without_the_simulator_setting(settings: Any) -> None:
    settings.EID_SIMULATOR = False
    with pytest.raises(CommandError, match="PORTAL_EID_SIMULATOR"):
        call_command("oidc-provider")


def test_the_command_serves_the_portal_as_its_client(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "portal"), "oidc-provider", "--port", str(port)],
        env=portal_env(tmp_path, OIDC_ISSUER=f"http://127.0.0.1:{port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the provider exited at start-up"
            try:
                discovery = httpx.get(issuer + "/.well-known/openid-configuration", timeout=1)
                if discovery.is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the provider did not start within 30 s"
            time.sleep(0.1)
        assert discovery.json()["issuer"] == issuer
        page = httpx.get(
            issuer + "/authorize",
            params={
                "client_id": "portal-development",
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": "http://127.0.0.1:8000/logga-in/oidc/svar",
                "state": "s",
                "code_challenge": "x" * 43,
                "code_challenge_method": "S256",
            },
        )
        assert page.status_code == 200
        assert "Tolvan Tolvansson" in page.text
        # Both keys were made under var/oidc: the provider's and the portal's own.
        assert (tmp_path / "var" / "oidc" / "op.key").is_file()
        assert (tmp_path / "var" / "oidc" / "client.key").is_file()
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors
    assert f"OIDC_ISSUER={issuer}" in output
