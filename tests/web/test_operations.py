"""Health and readiness, as a load balancer sees them: over HTTP, from a real server process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from django.test import Client

from tests.support.server import portal_env, portal_server


@pytest.mark.django_db
def test_healthz_and_readyz_answer_when_all_is_well(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 9 of this machine: the connection is refused at once.
    env = portal_env(
        tmp_path, DATABASE_URL="postgres://portal@127.0.0.1:9/portal", DATABASE_CONNECT_TIMEOUT="2"
    )
    with portal_server(env, migrate=False) as base_url:
        assert httpx.get(f"{base_url}/healthz").status_code == 200
        response = httpx.get(f"{base_url}/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
        assert response.json()["status"] == 503
        # The pages that need no database keep working; none of it is a 500.
        assert httpx.get(f"{base_url}/driftstatus/").status_code == 200


def test_a_production_server_sends_hsts_and_redirects_to_https(tmp_path: Path) -> None:
    env = portal_env(
        tmp_path,
        PORTAL_ENVIRONMENT="production",
        SECRET_KEY="p7Xq2vN9sL4kT8wR1yB6mC3zF5hJ0dG2aE9uI7oP4lK8nM1qW3eR6tY5uI2oP9aS",
        ALLOWED_HOSTS="127.0.0.1",
        PORTAL_EID_SIMULATOR="false",
        BANKID_CLIENT_CERT="/etc/portal/bankid/client.pem",
        BANKID_CLIENT_KEY="/etc/portal/bankid/client.key",
        BANKID_CA_CERT="/etc/portal/bankid/ca.pem",
        COMPANY_REGISTER_URL="https://register.example.se/api/v1",
        PORTAL_BASE_URL="https://portal.example.se",
        PORTAL_TRUST_X_FORWARDED_PROTO="true",
        PORTAL_AUDIT_SIGNING_KEY="9FQgq3pDqz0Mhs0Ue3tVRJc8u3cO4Zy1JkR7m9m4FfA=",
    )
    with portal_server(env, collectstatic=True) as base_url:
        plain = httpx.get(f"{base_url}/hjalp/")
        assert plain.status_code == 301
        port = base_url.rsplit(":", 1)[1]
        assert plain.headers["location"] == f"https://127.0.0.1:{port}/hjalp/"
        secure = httpx.get(f"{base_url}/hjalp/", headers={"x-forwarded-proto": "https"})
        assert secure.status_code == 200
        assert (
            secure.headers["strict-transport-security"]
            == "max-age=63072000; includeSubDomains; preload"
        )
        assert "Secure" in secure.headers["set-cookie"]
        css = httpx.get(
            f"{base_url}/static/portal/portal.css",
            headers={"x-forwarded-proto": "https", "accept-encoding": "br, gzip"},
        )
        # Collected, fingerprinted static files; the plain name still answers for links from mail.
        assert css.status_code == 200
        # Compressed once at collectstatic, except the developers' source maps.
        assert css.headers["content-encoding"] == "br"
        source_map = httpx.get(
            f"{base_url}/static/ninja/swagger-ui-bundle.js.map",
            headers={"x-forwarded-proto": "https", "accept-encoding": "br, gzip"},
        )
        assert source_map.status_code == 200
        assert "content-encoding" not in source_map.headers
        missing = httpx.get(f"{base_url}/finns-inte/", headers={"x-forwarded-proto": "https"})
        assert missing.status_code == 404
        assert "Sidan finns inte" in missing.text
