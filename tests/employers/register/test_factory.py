from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.employers.register import SHIPPED_FILE, FileRegister, HttpRegister, get_register

SETTINGS = (
    "COMPANY_REGISTER",
    "COMPANY_REGISTER_FILE",
    "COMPANY_REGISTER_URL",
    "COMPANY_REGISTER_TOKEN",
    "COMPANY_REGISTER_TIMEOUT_SECONDS",
)


def test_without_any_settings_the_shipped_fictional_file_is_used(settings: Any) -> None:
    for name in SETTINGS:
        if hasattr(settings, name):
            delattr(settings, name)
    register = get_register()
    assert isinstance(register, FileRegister)
    assert register.path == SHIPPED_FILE
    assert register.lookup("5599011235") is not None


def test_a_file_of_ones_own(settings: Any, tmp_path: Path) -> None:
    settings.COMPANY_REGISTER = "file"
    settings.COMPANY_REGISTER_FILE = str(tmp_path / "register.json")
    register = get_register()
    assert isinstance(register, FileRegister)
    assert register.path == tmp_path / "register.json"
    assert get_register() is register


def test_the_http_register(settings: Any) -> None:
    settings.COMPANY_REGISTER = "http"
    settings.COMPANY_REGISTER_URL = "https://register.invalid/v1/"
    settings.COMPANY_REGISTER_TOKEN = "token"
    settings.COMPANY_REGISTER_TIMEOUT_SECONDS = 7
    register = get_register()
    assert isinstance(register, HttpRegister)
    assert register.base_url == "https://register.invalid/v1"
    assert register.timeout == 7
    assert get_register() is register
    settings.COMPANY_REGISTER_TIMEOUT_SECONDS = 3
    assert get_register() is not register


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"COMPANY_REGISTER": "ldap"}, "must be one of file, http"),
        ({"COMPANY_REGISTER": "http", "COMPANY_REGISTER_URL": ""}, "COMPANY_REGISTER_URL is empty"),
        (
            {"COMPANY_REGISTER": "http", "COMPANY_REGISTER_URL": "ftp://register.invalid"},
            "http",
        ),
        (
            {
                "COMPANY_REGISTER": "http",
                "COMPANY_REGISTER_URL": "https://register.invalid",
                "COMPANY_REGISTER_TIMEOUT_SECONDS": "soon",
            },
            "must be a number",
        ),
        (
            {
                "COMPANY_REGISTER": "http",
                "COMPANY_REGISTER_URL": "https://register.invalid",
                "COMPANY_REGISTER_TIMEOUT_SECONDS": 0,
            },
            "positive",
        ),
    ],
)
def test_a_misconfiguration_is_refused(
    settings: Any, overrides: dict[str, Any], message: str
) -> None:
    for name, value in overrides.items():
        setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        get_register()
