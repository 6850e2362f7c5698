"""Reading configuration from the environment.

Every setting the portal reads comes through these helpers, so that a wrong value fails at start-up
with a message that names the variable, instead of somewhere deep inside a request. Each variable is
documented in docs/configuration.md; a test checks that the two lists agree.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

#: Names of every variable read through this module, filled as settings are loaded.
READ_VARIABLES: set[str] = set()


def env_str(name: str, default: str = "") -> str:
    READ_VARIABLES.add(name)
    return os.environ.get(name, default).strip()


def env_bool(name: str, *, default: bool) -> bool:
    READ_VARIABLES.add(name)
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    msg = f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}"
    raise ImproperlyConfigured(msg)


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    READ_VARIABLES.add(name)
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        msg = f"{name} must be a whole number, not {raw!r}"
        raise ImproperlyConfigured(msg) from None
    if minimum is not None and value < minimum:
        msg = f"{name} must be at least {minimum}, not {value}"
        raise ImproperlyConfigured(msg)
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    READ_VARIABLES.add(name)
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        msg = f"{name} must be one of {', '.join(choices)}, not {value!r}"
        raise ImproperlyConfigured(msg)
    return value
