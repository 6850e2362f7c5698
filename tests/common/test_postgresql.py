"""The PostgreSQL backend's health check (``portal.common.postgresql``): a quiet connection is
usable without a round trip; one the server closed, one in a failed transaction or one with
something unread is asked ``SELECT 1`` as Django's own backend asks it, and replaced when it
cannot answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connections
from django.db.backends.postgresql import base as django_base

from portal.common.postgresql.base import DatabaseWrapper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def alone() -> Iterator[Any]:
    """A connection of the test's own, outside the test's transaction."""
    made = connections.create_connection("default")
    made.ensure_connection()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each time Django's own check (``SELECT 1``) runs."""
    asked: list[object] = []
    django_check = django_base.DatabaseWrapper.is_usable

    def counted(self: Any) -> bool:
        asked.append(self)
        return bool(django_check(self))

    monkeypatch.setattr(django_base.DatabaseWrapper, "is_usable", counted)
    return asked


def _other(alone: Any, sql: str) -> None:
    """``sql`` on yet another connection."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql)
    finally:
        other.close()


def test_the_portal_uses_its_backend(alone: Any) -> None:
    assert isinstance(alone, DatabaseWrapper)
    assert alone.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_quiet_connection_is_usable_without_a_round_trip(
    alone: Any, round_trips: list[object]
) -> None:
    with alone.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert alone.is_usable()
    # Inside a transaction too.
    alone.set_autocommit(False)
    with alone.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert alone.is_usable()
    alone.rollback()
    alone.set_autocommit(True)
    assert round_trips == []


def test_a_connection_the_server_closed_is_not_usable(
    alone: Any, round_trips: list[object]
) -> None:
    _other(alone, f"SELECT pg_terminate_backend({alone.connection.info.backend_pid})")
    # The server's last message and the end of the stream reach the socket.
    deadline = time.monotonic() + 5
    while alone.is_usable():
        assert time.monotonic() < deadline, "the closed connection still passed the check"
        time.sleep(0.01)
    assert round_trips == [alone]
    # Django replaces it before the request's first statement.
    alone.health_check_done = False
    alone.close_if_health_check_failed()
    assert alone.connection is None
    with alone.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_connection_in_a_failed_transaction_is_not_usable(
    alone: Any, round_trips: list[object]
) -> None:
    alone.set_autocommit(False)
    with alone.cursor() as cursor, pytest.raises(Exception, match="division by zero"):
        cursor.execute("SELECT 1 / 0")
    assert not alone.is_usable()
    assert round_trips == [alone]
    alone.rollback()
    alone.set_autocommit(True)


def test_a_connection_with_something_unread_asks_the_server(
    alone: Any, round_trips: list[object]
) -> None:
    with alone.cursor() as cursor:
        cursor.execute("LISTEN portal_health_check_test")
    _other(alone, "NOTIFY portal_health_check_test")
    deadline = time.monotonic() + 5
    while not round_trips:
        assert time.monotonic() < deadline, "the notification never reached the socket"
        assert alone.is_usable()
        time.sleep(0.01)
    assert round_trips == [alone]


def test_a_connection_without_a_socket_to_look_at_is_asked(
    alone: Any, round_trips: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost() -> int:
        msg = "the connection is lost"
        raise psycopg.OperationalError(msg)

    monkeypatch.setattr(alone.connection, "fileno", lost)
    # Django's SELECT 1 decides (here the connection still answers).
    assert alone.is_usable()
    assert round_trips == [alone]
