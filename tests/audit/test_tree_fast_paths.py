"""The audit tree's fast paths give what the plain ones give: PostgreSQL writing the events'
canonical bytes for ``verify`` and ``export``, the read-ahead thread, and the sequencer's batches
(``seal_pending``, looking back for late events only now and then)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import audit
from portal.audit import tree
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent, LogLeaf
from tests.audit.test_tree import untriggered

#: What the columns can hold that the two ways must write alike.
DATA: list[dict[str, Any]] = [
    {"namn": "Åsa Öberg", "emoji": "\U0001f600", "sep": "\u2028", "ctl": "\x01\x1f\x7f"},
    {"quote": 'a"b\\c', "newline": "x\ny\tz", "nested": {"b": [1, None, True, {"c": []}]}},
    {"big": 2**70, "negative": -(2**63), "float": 1.5e-7, "half": 0.5, "exp": 1e16},
    {},
    {"list": [], "empty": "", "false": False, "ö": {"ä": "å"}},
]
TIMES = [
    datetime(2026, 1, 1, 0, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1999, 6, 15, 12, 30, 45, 123_000, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, 0, 1, tzinfo=UTC),
    datetime(2100, 2, 28, 8, 0, 0, 500_000, tzinfo=UTC),
]


def _event(n: int, **columns: Any) -> AuditEvent:
    defaults: dict[str, Any] = {
        "occurred_at": TIMES[n % len(TIMES)],
        "event_type": EventType.GRANT_CREATED,
        "actor_kind": "system",
        "object_type": "employer" if n % 2 else "",
        "object_id": ["", "x\ty", "back\\slash", 'qu"ote', "Ärende 7"][n % 5],
        "data": DATA[n % len(DATA)],
        "request_id": ["", "abc", "r" * 64, "\n", "ü"][n % 5],
        "ip_address": [None, "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.7", "10.0.0.1"][n % 5],
        "employer_ref": [None, "e1", "", "ö", "e" * 36][n % 5],
        "login_id": [None, 1, 2**62, 0, -1][n % 5],
        "outcome": [None, "success", "denied", "failure", ""][n % 5],
        "user_agent_hash": [None, "a" * 64, "", "b" * 64, "\x1b"][n % 5],
    }
    return AuditEvent(**(defaults | columns))


def _both_ways(chunk: int) -> tuple[list[Any], list[Any]]:
    fast = list(tree._leaf_events_postgresql(chunk))
    plain = [
        (seq, stored, row[0], tree.canonical(row) if len(row) > 1 else None)
        for seq, stored, row in tree._leaf_rows(chunk)
    ]
    return fast, plain


@pytest.mark.postgres
def test_postgresql_writes_the_canonical_bytes_as_canonical_does(db: Any) -> None:
    made = AuditEvent.objects.bulk_create(_event(n) for n in range(10))
    with transaction.atomic():
        audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": 1})
    tree.seal_all()
    with untriggered(), connection.cursor() as cursor:
        # A leaf whose event is gone has no bytes, either way.
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [made[2].pk])
    fast, plain = _both_ways(3)  # chunks of 3: the keyset crosses chunk boundaries
    assert fast == plain
    assert len(fast) == 11
    assert fast[2][3] is None
    assert all(tree.merkle.leaf_hash(event) == stored for _, stored, _, event in fast if event)


TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(TEXT, min_size=8, max_size=8),
    data=st.dictionaries(TEXT, JSON, max_size=5),
    moment=st.datetimes(
        min_value=datetime(1000, 1, 1),  # noqa: DTZ001 (made aware below)
        max_value=datetime(9999, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    ip=st.none() | st.ip_addresses().map(str),
    login=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
@pytest.mark.postgres
def test_postgresql_writes_any_event_as_canonical_does(
    db: Any, texts: list[str], data: dict[str, Any], moment: datetime, ip: str | None, login: Any
) -> None:
    with transaction.atomic():
        AuditEvent.objects.bulk_create(
            [
                _event(
                    0,
                    occurred_at=moment,
                    event_type=texts[0][:64],
                    actor_kind=texts[1][:16],
                    object_type=texts[2][:64],
                    object_id=texts[3][:64],
                    request_id=texts[4][:64],
                    employer_ref=texts[5][:36] or None,
                    outcome=texts[6][:16] or None,
                    user_agent_hash=texts[7][:64] or None,
                    data=data,
                    ip_address=ip,
                    login_id=login,
                )
            ]
        )
        tree.seal_all()
        fast, plain = _both_ways(20)
        assert fast == plain
        transaction.set_rollback(True)


def test_canonical_json_is_json_dumps() -> None:
    for data in DATA:
        obj = {"data": data, "v": 1, "time": "2026-01-01T00:00:00.000000Z"}
        assert (
            tree.canonical_json(obj)
            == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        )


def test_the_read_ahead_yields_everything_in_order_and_passes_errors_on() -> None:
    assert list(tree._read_ahead(lambda: iter(range(50)))) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("broken")

    got = []
    with pytest.raises(ValueError, match="broken"):
        got.extend(tree._read_ahead(failing))
    assert got == [1]


def test_stopping_early_stops_the_read_ahead_thread() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    reader = tree._read_ahead(endless)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()
    assert not any(t.name == "audit-read-ahead" for t in threading.enumerate())


def test_seal_pending_seals_full_batches_and_stops_at_a_short_one(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tree, "BATCH_SIZE", 2)
    real_seal = tree.seal
    sizes: list[int] = []

    def seal(**kwargs: Any) -> int:
        sealed = real_seal(batch_size=2, **kwargs)
        sizes.append(sealed)
        return sealed

    monkeypatch.setattr(tree, "seal", seal)
    with transaction.atomic():
        for n in range(5):
            audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": n})
    assert tree.seal_pending() == 5
    assert sizes == [2, 2, 1]
    sizes.clear()
    with transaction.atomic():
        for n in range(4):
            audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": n})
    assert tree.seal_pending() == 4
    assert sizes == [2, 2, 0]
    assert LogLeaf.objects.count() == 9
    assert tree.verify().ok


def test_without_looking_back_a_late_event_waits_for_the_next_look(db: Any) -> None:
    early = AuditEvent.objects.bulk_create([_event(0, occurred_at=timezone.now())])[0]
    later = AuditEvent.objects.bulk_create([_event(1, occurred_at=timezone.now())])[0]
    # As if the early event's transaction had not committed when the later one was sealed.
    with untriggered(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET id = -id WHERE id = %s", [early.pk])
        assert tree.seal_pending(look_back=False) == 1
        cursor.execute("UPDATE audit_auditevent SET id = -id WHERE id = %s", [-early.pk])
    assert tree.seal_pending(look_back=False) == 0
    assert tree.seal_pending() == 1
    assert list(LogLeaf.objects.order_by("seq").values_list("event_id", flat=True)) == [
        later.pk,
        early.pk,
    ]
    assert tree.verify().ok
