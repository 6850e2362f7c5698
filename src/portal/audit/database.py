"""Defence in the database (PostgreSQL): the application's runtime role may only read and append
to the audit log.

Migrations run as the tables' owner; the web processes, workers and the sequencer connect as a
separate runtime role that ``portal db_grant_runtime <role>`` gives exactly what it needs: read
and write on the portal's tables, but only SELECT and INSERT on the audit log's tables (no UPDATE,
DELETE or TRUNCATE). The triggers of migration 0002/0004 refuse changes even for the owner; the
missing privileges mean the runtime role could not drop or disable those triggers either.
"""

from __future__ import annotations

from django.db import connection

#: The tables of the audit log: events and the Merkle tree.
AUDIT_TABLES = (
    "audit_auditevent",
    "audit_logleaf",
    "audit_lognode",
    "audit_treehead",
    "audit_auditpurge",
)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def grant_runtime(role: str) -> list[str]:
    """Give ``role`` the runtime privileges (idempotent; run after every migrate). Returns the
    statements run."""
    if connection.vendor != "postgresql":
        msg = "runtime roles are a PostgreSQL feature"
        raise RuntimeError(msg)
    role_name = _quote(role)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        )
        tables = [name for (name,) in cursor.fetchall()]
        cursor.execute("SELECT current_schema()")
        row = cursor.fetchone()
        schema = _quote(str(row[0]) if row else "public")
        statements = [f"GRANT USAGE ON SCHEMA {schema} TO {role_name}"]
        for table in tables:
            statements.append(f"REVOKE ALL ON {_quote(table)} FROM {role_name}")
            privileges = (
                "SELECT, INSERT" if table in AUDIT_TABLES else "SELECT, INSERT, UPDATE, DELETE"
            )
            statements.append(f"GRANT {privileges} ON {_quote(table)} TO {role_name}")
        statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role_name}")
        for statement in statements:
            cursor.execute(statement)
    return statements


def runtime_may_change_audit_log() -> list[str]:
    """The audit tables the connected role may UPDATE, DELETE or TRUNCATE (empty when it may not)."""
    if connection.vendor != "postgresql":
        return []
    found = []
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(
                "SELECT has_table_privilege(current_user, %s, 'UPDATE')"
                " OR has_table_privilege(current_user, %s, 'DELETE')"
                " OR has_table_privilege(current_user, %s, 'TRUNCATE')",
                [table, table, table],
            )
            row = cursor.fetchone()
            if row and row[0]:
                found.append(table)
    return found
