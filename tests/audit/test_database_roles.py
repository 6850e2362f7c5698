"""On PostgreSQL the runtime role may only read and append to the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from portal import audit
from portal.audit.apps import check_runtime_role
from portal.audit.constants import EventType

ROLE = "portal_runtime_test"


@pytest.fixture
def runtime_role(db: Any) -> str:
    with connection.cursor() as cursor:
        # No parameter: a DO block takes none when they are sent apart from the statement.
        cursor.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN"
            f" CREATE ROLE {ROLE} NOLOGIN; END IF; END $$"
        )
    call_command("db_grant_runtime", ROLE)
    return ROLE


@pytest.mark.postgres
def test_the_runtime_role_may_append_and_read_but_never_change_the_log(runtime_role: str) -> None:
    with transaction.atomic():
        event = audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": 1})
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Even without the triggers: the owner lifts them, the runtime role still may not.
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(f"SET ROLE {runtime_role}")
        try:
            with transaction.atomic():
                audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": 2})
            cursor.execute("SELECT count(*) FROM audit_auditevent")
            assert cursor.fetchone()[0] >= 2
            for statement in (
                "UPDATE audit_auditevent SET data = '{}' WHERE id = %s",
                "DELETE FROM audit_auditevent WHERE id = %s",
                "TRUNCATE audit_auditevent CASCADE",
                "ALTER TABLE audit_auditevent ENABLE TRIGGER USER",
            ):
                with (
                    pytest.raises(DatabaseError, match=r"permission denied|must be owner"),
                    transaction.atomic(),
                ):
                    cursor.execute(statement, [event.pk] if "%s" in statement else None)
            # The rest of the portal is read and written as usual.
            cursor.execute("UPDATE access_membership SET reason = reason WHERE false")
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


@pytest.mark.postgres
def test_the_deploy_check_warns_when_the_role_may_change_the_log(runtime_role: str) -> None:
    assert [m.id for m in check_runtime_role()] == ["audit.W001"]  # the test runs as the owner
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {runtime_role}")
        try:
            assert check_runtime_role() == []
        finally:
            cursor.execute("RESET ROLE")


def test_the_command_needs_postgresql(db: Any) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("this is about the other databases")
    from django.core.management.base import CommandError  # noqa: PLC0415

    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("db_grant_runtime", ROLE)
