from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


def check_runtime_role(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy``: the role the portal runs as must not be able to rewrite the audit log."""
    from django.db import DatabaseError  # noqa: PLC0415

    from portal.audit.database import runtime_may_change_audit_log  # noqa: PLC0415

    try:
        tables = runtime_may_change_audit_log()
    except DatabaseError:
        return []  # the database is unreachable; readiness checks report that
    if not tables:
        return []
    return [
        checks.Warning(
            "the database role the portal runs as may update, delete or truncate the audit log "
            f"({', '.join(tables)})",
            hint="Run migrations as the tables' owner and the portal as a separate role given its "
            "privileges with `portal db_grant_runtime <role>` (docs/audit.md).",
            id="audit.W001",
        )
    ]


class AuditConfig(AppConfig):
    name = "portal.audit"
    label = "audit"
    verbose_name = "Händelselogg"

    def ready(self) -> None:
        checks.register(check_runtime_role, checks.Tags.database, deploy=True)
