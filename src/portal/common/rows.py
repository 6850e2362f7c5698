"""Reads written out in SQL for the commonest pages, with values converted as the ORM would.

Building an ORM query costs far more CPU than running it: some 1.5 ms for
``Employer.objects.filter(public_id=...).first()`` against 0.2 ms for the statement it becomes.
``first_by`` gives the same instance the ORM would (every column, each value through the field's
and the backend's converters, so SQLite's text dates and UUIDs come back as on PostgreSQL), with a
statement made once per process; ``read`` runs a written-out statement and converts each column
as the model field it names; ``insert`` writes a new row as ``save()`` would; ``upsert`` writes a
new row or updates the one it collides with, in one statement. tests/common/test_rows.py holds
them to the ORM, and each written-out statement has a test against the ORM expression it stands
for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields import AutoFieldMixin

M = TypeVar("M", bound=models.Model)

#: What a constant written into a statement may be: a choice's value as the code names it.
_CONSTANT = re.compile(r"[a-z][a-z0-9_]*")

#: A column's value as the database gives it, to what the field holds (``apply_converters``).
Converter = Callable[[Any, Any, Any], Any]


@cache
def _converters(field: models.Field[Any, Any], alias: str) -> tuple[Any, list[Converter]]:
    """``field``'s column as an expression, and what turns its value as the database gives it
    into what the field holds (as ``SQLCompiler.apply_converters`` does)."""
    connection = connections[alias]
    column = field.get_col(field.model._meta.db_table)
    return column, [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]


def constant(value: str) -> str:
    """A constant of the code (a choice's value, such as a role), as an SQL string literal.

    Values from outside are always parameters. A constant that decides how many rows a part of a
    statement finds (administrators are few among memberships, users many) is written into the
    statement instead, so that PostgreSQL's plan for the prepared statement is made for it: with
    a parameter, the plan made for any value can price itself above one made for the value, and
    PostgreSQL then plans the statement anew on every run (docs/performance.md). Only lowercase
    names pass, so nothing that needs quoting can get in."""
    text = str(value)
    if not _CONSTANT.fullmatch(text):
        msg = f"not a constant of the code to write into a statement: {text!r}"
        raise ValueError(msg)
    return f"'{text}'"


def converted(
    values: list[Any], fields: Sequence[models.Field[Any, Any]], alias: str, start: int = 0
) -> list[Any]:
    """``values`` with those from ``start`` on converted as the model fields ``fields`` (in
    order) are when the ORM reads them from the database ``alias``, in place."""
    connection = connections[alias]
    for index, field in enumerate(fields, start):
        column, converters = _converters(field, alias)
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    return values


@cache
def _statement(model: type[models.Model], column: str, alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = model._meta
    key = meta.get_field(column)
    assert isinstance(key, models.Field)  # noqa: S101 (a concrete field, not a relation's reverse)
    # Names from the model's own metadata, quoted; the value is a parameter.
    return (
        f"SELECT {', '.join(quote(str(field.column)) for field in meta.concrete_fields)}"  # noqa: S608
        f" FROM {quote(meta.db_table)} WHERE {quote(str(key.column))} = %s"
    )


def columns(model: type[models.Model], *names: str) -> list[models.Field[Any, Any]]:
    """``model``'s fields ``names``, for ``read``."""
    found = [model._meta.get_field(name) for name in names]
    assert all(isinstance(field, models.Field) for field in found)  # noqa: S101 (concrete fields)
    return found  # type: ignore[return-value]


def read(
    model: type[models.Model],
    sql: str,
    params: Sequence[Any],
    fields: Sequence[models.Field[Any, Any]],
    *,
    plain: int = 0,
) -> list[list[Any]]:
    """The rows of a written-out statement on ``model``'s database, whose columns are the model
    fields ``fields`` in order, each value converted as the ORM converts that field's; the
    statement's first ``plain`` columns come before them, as the database gives them."""
    alias = router.db_for_read(model)
    return [converted(list(row), fields, alias, plain) for row in fetch(alias, sql, params)]


def fetch(alias: str, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a written-out statement on the database ``alias``, as the database gives them
    (carrying a row left by ``insert_with_next_read``)."""
    connection = connections[alias]
    params = list(params)
    if getattr(connection, _DEFERRED, None) is not None:
        sql, params = _carrying_deferred(connection, sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found: list[tuple[Any, ...]] = cursor.fetchall()
    return found


@cache
def column_list(model: type[models.Model], prefix: str) -> str:
    """Every column of ``model``, in field order, of the table named ``prefix`` in a statement:
    the SELECT list ``instances`` reads ``model`` from."""
    quote = connections[router.db_for_read(model)].ops.quote_name
    return ", ".join(
        f"{prefix}.{quote(str(field.column))}" for field in model._meta.concrete_fields
    )


def instances(
    sql: str, params: Sequence[Any], *models_read: type[models.Model], plain: int = 0
) -> list[tuple[Any, ...]]:
    """Each row of a written-out statement as instances of ``models_read``, whose columns it
    selects one model after another (``column_list`` of each), as the ORM would give them; the
    statement's first ``plain`` columns come first in each row, as the database gives them."""
    alias = router.db_for_read(models_read[0])
    fieldsets = [list(model._meta.concrete_fields) for model in models_read]
    names = [[field.attname for field in fields] for fields in fieldsets]
    rows = read(
        models_read[0],
        sql,
        params,
        [field for fields in fieldsets for field in fields],
        plain=plain,
    )
    found = []
    for row in rows:
        start = plain
        built: list[Any] = row[:plain]
        for model, fields, attnames in zip(models_read, fieldsets, names, strict=True):
            built.append(model.from_db(alias, attnames, row[start : start + len(fields)]))
            start += len(fields)
        found.append(tuple(built))
    return found


@cache
def _insert_statement(
    model: type[models.Model], alias: str
) -> tuple[str, list[models.Field[Any, Any]], bool]:
    """The INSERT of a new ``model`` row (every concrete column but a generated key), its fields in
    order, and whether the statement gives back the new key (RETURNING)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    key = meta.pk
    # The database makes the key (an AutoField), so it is left out of the INSERT.
    assert key is not None  # noqa: S101
    assert isinstance(cast("Any", key), AutoFieldMixin)  # noqa: S101
    fields = [field for field in meta.local_concrete_fields if field is not key]
    returning = connection.features.can_return_columns_from_insert
    # Names from the model's own metadata, quoted; the values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)}"  # noqa: S608
        f" ({', '.join(quote(str(field.column)) for field in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        + (f" RETURNING {quote(str(key.column))}" if returning else "")
    )
    return sql, fields, returning


def insert(instance: M) -> M:
    """Write a new ``instance`` as ``instance.save()`` does for a model whose key the database
    makes and that has no signal receivers, parents or unsaved related objects: each value through
    its field's ``pre_save`` and ``get_db_prep_save``, the new key set on the instance."""
    model = type(instance)
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, fields, returning = _insert_statement(model, alias)
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if returning:
            row = cursor.fetchone()
            instance.pk = row[0] if row else None
        else:
            instance.pk = connection.ops.last_insert_id(cursor, model._meta.db_table, "id")
    instance._state.adding = False
    instance._state.db = alias
    return instance


@cache
def _upsert_statement(
    model: type[models.Model], alias: str, unique: tuple[str, ...], update: tuple[str, ...]
) -> tuple[str, list[models.Field[Any, Any]]]:
    """The INSERT of a new ``model`` row that, when a row with the same ``unique`` columns is
    there, updates that row's ``update`` fields instead, giving back every column of the row."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    key = meta.pk
    assert isinstance(cast("Any", key), AutoFieldMixin)  # noqa: S101 (the database makes the key)
    fields = [field for field in meta.local_concrete_fields if field is not key]

    def column(name: str) -> str:
        return quote(str(columns(model, name)[0].column))

    # Names from the model's own metadata, quoted; the values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)}"  # noqa: S608
        f" ({', '.join(quote(str(field.column)) for field in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        f" ON CONFLICT ({', '.join(column(name) for name in unique)}) DO UPDATE SET "
        + ", ".join(f"{column(name)} = EXCLUDED.{column(name)}" for name in update)
        + f" RETURNING {', '.join(quote(str(field.column)) for field in meta.concrete_fields)}"
    )
    return sql, fields


def upsert(instance: M, *, unique: Sequence[str], update: Sequence[str]) -> M:
    """Write ``instance`` as a new row, or, if a row with the same values of the ``unique``
    fields (a unique constraint's, in its order) is there, update that row's ``update`` fields
    with ``instance``'s: one statement (``INSERT ... ON CONFLICT ... DO UPDATE``, PostgreSQL and
    SQLite alike) instead of ``update_or_create``'s transaction of four or five. Gives the row as
    it is now, as the ORM would read it (the other fields of an updated row keep their values).
    Each value goes through its field's ``pre_save`` and ``get_db_prep_save``, as ``save()``."""
    model = type(instance)
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, fields = _upsert_statement(model, alias, tuple(unique), tuple(update))
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 (an INSERT ... RETURNING gives its row)
    every = list(model._meta.concrete_fields)
    return model.from_db(
        alias, [field.attname for field in every], converted(list(row), every, alias)
    )


def first_by(model: type[M], column: str, value: Any) -> M | None:
    """The instance of ``model`` whose ``column`` (a unique field) is ``value``, or None: what
    ``model.objects.filter(**{column: value}).first()`` gives."""
    alias = router.db_for_read(model)
    field = model._meta.get_field(column)
    assert isinstance(field, models.Field)  # noqa: S101 (a concrete field, not a relation's reverse)
    try:
        prepared = field.get_db_prep_value(field.to_python(value), connections[alias])
    except (
        ValidationError,
        ValueError,
        TypeError,
    ):  # a value the field cannot hold matches nothing
        return None
    fields = list(model._meta.concrete_fields)
    rows = read(model, _statement(model, column, alias), [prepared], fields)
    if not rows:
        return None
    return model.from_db(alias, [field.attname for field in fields], rows[0])


# --- A row written with the next read ------------------------------------------------------------

#: The connection's attribute that holds the instance ``insert_with_next_read`` left to write.
_DEFERRED = "portal_deferred_insert"


def insert_with_next_read(instance: models.Model) -> None:
    """Write a new ``instance`` as ``insert`` does, with the connection's next statement rather
    than by itself, when that can be done safely: on PostgreSQL, outside a transaction, and when
    nothing else waits to be written.

    The next ``read`` on the connection carries the INSERT in front of its SELECT as a
    data-modifying WITH clause (one round trip and one commit instead of two; PostgreSQL runs
    such a clause to completion whether the SELECT reads it or not), and the instance's key stays
    unknown. Any other statement writes it first, by itself and outside any transaction begun
    since (an execute wrapper), and ``write_deferred`` writes it at the end of a request that ran
    no further statement. If the carrying statement fails, neither is written: the read did not
    happen. Elsewhere (SQLite, inside a transaction) it is ``insert`` at once."""
    connection = connections[router.db_for_write(type(instance))]
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or getattr(connection, _DEFERRED, None) is not None
    ):
        insert(instance)
        return
    setattr(connection, _DEFERRED, instance)
    connection.execute_wrappers.append(_write_deferred_first)


def write_deferred() -> None:
    """Write what ``insert_with_next_read`` left on any connection of this thread (a request's
    end)."""
    for connection in connections.all(initialized_only=True):
        if getattr(connection, _DEFERRED, None) is not None:
            _write_alone(connection)


def _take_deferred(connection: BaseDatabaseWrapper) -> models.Model:
    instance = getattr(connection, _DEFERRED)
    setattr(connection, _DEFERRED, None)
    connection.execute_wrappers.remove(_write_deferred_first)
    return cast("models.Model", instance)


def _carrying_deferred(
    connection: BaseDatabaseWrapper, sql: str, params: list[Any]
) -> tuple[str, list[Any]]:
    """``sql`` with the deferred INSERT in front of it, and the parameters of both."""
    if connection.in_atomic_block:
        # Begun since: the row must not depend on that transaction.
        _write_alone(connection)
        return sql, params
    instance = _take_deferred(connection)
    model = type(instance)
    insert_sql, fields, returning = _insert_statement(model, connection.alias)
    if returning:
        insert_sql = insert_sql.rpartition(" RETURNING ")[0]
    values = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    instance._state.adding = False
    instance._state.db = connection.alias
    head = sql.lstrip()
    # A statement with a WITH clause of its own gets the INSERT as its first part.
    for keyword in ("WITH RECURSIVE ", "WITH "):
        if head[: len(keyword)].upper() == keyword:
            rest = head[len(keyword) :]
            return f"{keyword}_deferred AS ({insert_sql}), {rest}", [*values, *params]
    return f"WITH _deferred AS ({insert_sql}) {sql}", [*values, *params]


def _write_deferred_first(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    _write_alone(context["connection"])
    return execute(sql, params, many, context)


def _write_alone(connection: BaseDatabaseWrapper) -> None:
    """Write the deferred row by itself, committed at once even when a transaction has been
    begun since it was deferred: no statement has run in that transaction yet (this is the
    first), so the driver has not begun it on the server and the row can go before it."""
    instance = _take_deferred(connection)
    raw = connection.connection
    begun = (
        connection.in_atomic_block
        and raw is not None
        and not raw.autocommit
        and raw.info.transaction_status == raw.info.transaction_status.IDLE
    )
    if begun:
        raw.autocommit = True
    try:
        insert(instance)
    finally:
        if begun:
            raw.autocommit = False
