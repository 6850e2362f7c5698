"""Production refuses to start insecurely; a correct production configuration passes Django's
deployment checks with no warning. Each case runs the real ``portal`` command in its own process,
since settings are read once, at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.server import portal_env, run_portal

STRONG_KEY = "p7Xq2vN9sL4kT8wR1yB6mC3zF5hJ0dG2aE9uI7oP4lK8nM1qW3eR6tY5uI2oP9aS"


#: A fixed Ed25519 private key for the tests, base64 (never used anywhere else).
AUDIT_KEY = "9FQgq3pDqz0Mhs0Ue3tVRJc8u3cO4Zy1JkR7m9m4FfA="


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    values = {
        "PORTAL_ENVIRONMENT": "production",
        "SECRET_KEY": STRONG_KEY,
        "ALLOWED_HOSTS": "portal.example.se",
        "PORTAL_EID_SIMULATOR": "false",
        "BANKID_CLIENT_CERT": "/etc/portal/bankid/client.pem",
        "BANKID_CLIENT_KEY": "/etc/portal/bankid/client.key",
        "BANKID_CA_CERT": "/etc/portal/bankid/ca.pem",
        "COMPANY_REGISTER_URL": "https://register.example.se/api/v1",
        "PORTAL_BASE_URL": "https://portal.example.se",
        "PORTAL_AUDIT_SIGNING_KEY": AUDIT_KEY,
    }
    values.update(overrides)
    return portal_env(tmp_path, **values)


def test_a_correct_production_configuration_passes_the_deployment_checks(tmp_path: Path) -> None:
    done = run_portal(["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "SECRET_KEY is too weak"),
        ({"DEBUG": "true"}, "DEBUG is on"),
        ({"PORTAL_EID_SIMULATOR": "true"}, "PORTAL_EID_SIMULATOR is on"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is not set"),
        ({"BANKID_CLIENT_KEY": ""}, "BANKID_CLIENT_KEY is not set"),
        ({"COMPANY_REGISTER_URL": ""}, "COMPANY_REGISTER_URL is not set"),
        ({"COMPANY_REGISTER": "file"}, "COMPANY_REGISTER is file"),
        ({"PORTAL_BASE_URL": "http://portal.example.se"}, "PORTAL_BASE_URL is not set"),
        ({"PORTAL_AUDIT_SIGNING_KEY": ""}, "PORTAL_AUDIT_SIGNING_KEY is not set"),
        ({"PORTAL_AUDIT_SIGNING_KEY": "bm90IGEga2V5"}, "not a base64 Ed25519 private key"),
    ],
)
def test_production_refuses_to_start_insecurely(
    tmp_path: Path, overrides: dict[str, str], expected: str
) -> None:
    done = run_portal(["check"], production_env(tmp_path, **overrides))
    assert done.returncode != 0
    assert "Refusing to start in production" in done.stderr
    assert expected in done.stderr


def test_the_simulator_is_off_in_production_unless_switched_on(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["PORTAL_EID_SIMULATOR"]
    done = run_portal(["check"], env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT must be a whole number"),
        ("PORTAL_SESSION_IDLE_MINUTES", "0", "PORTAL_SESSION_IDLE_MINUTES must be at least 1"),
        ("PORTAL_ENVIRONMENT", "staging", "PORTAL_ENVIRONMENT must be one of"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL is not a database address"),
        ("DATABASE_PREPARE_THRESHOLD", "-1", "DATABASE_PREPARE_THRESHOLD must be at least 0"),
    ],
)
def test_a_wrong_value_names_the_variable(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    done = run_portal(["check"], portal_env(tmp_path, **{name: value}))
    assert done.returncode != 0
    assert expected in done.stderr


def test_development_runs_with_no_configuration_at_all(tmp_path: Path) -> None:
    done = run_portal(["check"], portal_env(tmp_path))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (None, "{'prepare_threshold': 5, 'server_side_binding': True}"),
        ("2", "{'prepare_threshold': 2, 'server_side_binding': True}"),
        ("0", "{}"),
    ],
)
def test_postgresql_statements_are_prepared_unless_switched_off(
    tmp_path: Path, threshold: str | None, expected: str
) -> None:
    env = portal_env(tmp_path, DATABASE_URL="postgres://portal@127.0.0.1:9/portal")
    if threshold is not None:
        env["DATABASE_PREPARE_THRESHOLD"] = threshold
    show = (
        "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS'];"
        " print({k: o[k] for k in sorted(o) if k in ('prepare_threshold', 'server_side_binding')})"
    )
    done = run_portal(["shell", "-c", show], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == expected
