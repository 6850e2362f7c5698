"""The audit log: every activity in the portal, append-only (R14).

Service functions call ``audit.record(...)`` (``from portal import audit``) inside their transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

#: The session key under which the login (``identity.Login`` id) of a session is kept.
SESSION_LOGIN_KEY = "_portal_login_id"

if TYPE_CHECKING:
    from portal.audit.services import record as record
    from portal.audit.services import record_read as record_read


def __getattr__(name: str) -> Any:
    # Imported on first use: the models behind ``record`` need the app registry to be ready.
    if name == "record":
        from portal.audit.services import record  # noqa: PLC0415

        return record
    if name == "record_read":
        from portal.audit.services import record_read  # noqa: PLC0415

        return record_read
    raise AttributeError(name)
