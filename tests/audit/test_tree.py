"""The audit log's Merkle tree: sealing, signed heads, proofs through the API, verification, and
tampering of every kind detected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import audit
from portal.audit import merkle, signing, tree
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent, LogLeaf, TreeHead

TABLES = (
    "audit_auditevent",
    "audit_logleaf",
    "audit_lognode",
    "audit_treehead",
    "audit_auditpurge",
)


def _events(count: int, start: int = 0) -> list[AuditEvent]:
    with transaction.atomic():
        return [
            audit.record(
                EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": start + n, "namn": "Åsa"}
            )
            for n in range(count)
        ]


def _log(sizes: list[int]) -> list[AuditEvent]:
    """Events sealed in batches, one signed head after each."""
    made: list[AuditEvent] = []
    for size in sizes:
        made += _events(size, start=len(made))
        assert tree.seal() == size
    return made


@contextmanager
def untriggered() -> Iterator[None]:
    """Lift the append-only triggers for a tampering test (inside the test's transaction, so
    they are back afterwards): what someone with full control of the database could do."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks must be settled before a table's triggers can change.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TRIGGER {name}")
            cursor.execute("PRAGMA foreign_keys = OFF")
        yield


def test_sealing_gives_contiguous_leaves_and_a_signed_head(db: Any) -> None:
    events = _log([3, 5])
    heads = list(TreeHead.objects.order_by("size"))
    assert [h.size for h in heads] == [3, 8]
    assert list(LogLeaf.objects.order_by("seq").values_list("event_id", flat=True)) == [
        e.pk for e in events
    ]
    leaves = [bytes(v) for v in LogLeaf.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    assert bytes(heads[1].root_hash) == merkle.root(leaves)
    public = signing.public_key_bytes()
    head = heads[1]
    assert signing.verify(
        head.size, bytes(head.root_hash), head.signed_at, bytes(head.signature), public
    )
    assert not signing.verify(
        head.size + 1, bytes(head.root_hash), head.signed_at, bytes(head.signature), public
    )
    assert tree.seal() == 0  # nothing new: no new head
    assert TreeHead.objects.count() == 2
    report = tree.verify()
    assert report.ok, report.problems
    assert (report.events, report.heads) == (8, 2)


def test_an_event_committed_late_is_still_sealed(db: Any) -> None:
    early = _events(1)[0]
    _events(2)
    # A later event was sealed first (the early one's transaction was still open, say).
    with transaction.atomic():
        late_first = AuditEvent.objects.filter(pk__gt=early.pk)
    assert tree.seal() == 3
    assert LogLeaf.objects.filter(event=early).exists()
    assert late_first.count() == 2


def test_the_canonical_bytes_are_documented_json(db: Any) -> None:
    event = _events(1)[0]
    row = AuditEvent.objects.filter(pk=event.pk).values_list(*tree.COLUMNS).get()
    data = tree.canonical(row)
    obj = json.loads(data)
    assert obj["id"] == event.pk
    assert obj["type"] == "system:demo-data:load"
    assert obj["time"].endswith("Z")
    assert (
        data == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert "Åsa" in data.decode()


def test_the_tree_head_and_proofs_through_the_api(db: Any) -> None:
    client = Client()
    assert client.get("/api/v1/audit/tree-head").status_code == 404
    _log([5, 6, 2])
    head = client.get("/api/v1/audit/tree-head").json()
    assert head["size"] == 13
    assert head["signed_text"].startswith("portal-audit-tree-head-v1\n13\n")
    assert signing.verify(
        13,
        bytes.fromhex(head["root_hash"]),
        TreeHead.objects.get(size=13).signed_at,
        bytes.fromhex(head["signature"]),
        bytes.fromhex(head["public_key"]),
    )
    root = bytes.fromhex(head["root_hash"])
    for index in range(13):
        proof = client.get(f"/api/v1/audit/proofs/inclusion?index={index}&size=13").json()
        assert merkle.verify_inclusion(
            index,
            13,
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(h) for h in proof["audit_path"]],
            root,
        )
    old_root = bytes(TreeHead.objects.get(size=5).root_hash)
    consistency = client.get("/api/v1/audit/proofs/consistency?first=5&second=13").json()
    assert merkle.verify_consistency(
        5, 13, old_root, root, [bytes.fromhex(h) for h in consistency["proof"]]
    )


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("inclusion?index=13&size=13", 400),
        ("inclusion?index=0&size=7", 400),  # not the size of a signed head
        ("inclusion?index=-1&size=13", 422),
        ("inclusion?index=x&size=13", 422),
        ("inclusion?index=0&size=99999999999999999999", 422),
        ("inclusion", 422),
        ("consistency?first=13&second=5", 400),
        ("consistency?first=4&second=13", 400),
        ("consistency?first=0&second=13", 422),
        ("consistency?first=5&second=abc", 422),
    ],
)
def test_proofs_outside_the_tree_are_a_4xx_problem(db: Any, query: str, status: int) -> None:
    _log([5, 8])
    response = Client().get(f"/api/v1/audit/proofs/{query}")
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"


def test_verify_and_export_commands(db: Any, tmp_path: Any, capsys: Any) -> None:
    _log([4, 4])
    call_command("audit", "verify")
    assert "The audit log verifies: 8 events, 2 signed tree heads" in capsys.readouterr().out
    target = tmp_path / "audit.jsonl"
    call_command("audit", "export", "--output", str(target))
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [("tree_head" in line) for line in lines] == [False] * 4 + [True] + [False] * 4 + [True]
    # An outside verifier needs nothing but the export and the public key.
    frontier = merkle.Frontier()
    for line in lines:
        if "event" in line:
            data = json.dumps(
                line["event"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            frontier.append(merkle.leaf_hash(data.encode()))
        else:
            head = line["tree_head"]
            assert frontier.root().hex() == head["root"]
            assert frontier.size == head["size"]


def test_verify_exits_non_zero_naming_the_event(db: Any) -> None:
    events = _log([3, 3])
    with untriggered(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET object_id = 'x' WHERE id = %s", [events[4].pk])
    with pytest.raises(Exception, match=f"event {events[4].pk} \\(leaf 4\\) has been modified"):
        call_command("audit", "verify")


TAMPERING = st.sampled_from(
    ["modify", "delete", "insert", "reorder", "swap", "rehash", "drop-leaf"]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=4),
    how=TAMPERING,
    pick=st.integers(min_value=0, max_value=10_000),
    other=st.integers(min_value=0, max_value=10_000),
)
def test_every_tampering_is_detected(
    db: Any, sizes: list[int], how: str, pick: int, other: int
) -> None:
    with transaction.atomic():
        events = _log(sizes)
        assert tree.verify().ok
        victim = events[pick % len(events)]
        second = events[other % len(events)]
        with untriggered(), connection.cursor() as cursor:
            _tamper(cursor, how, victim, second, events)
        report = tree.verify(now=timezone.now() + timedelta(hours=1))
        assert not report.ok, (how, sizes)
        transaction.set_rollback(True)


def _tamper(
    cursor: Any, how: str, victim: AuditEvent, second: AuditEvent, events: list[AuditEvent]
) -> None:
    if how == "modify":
        cursor.execute(
            "UPDATE audit_auditevent SET event_type = 'access:grant:create' WHERE id = %s",
            [victim.pk],
        )
    elif how == "delete":
        cursor.execute("DELETE FROM audit_logleaf WHERE event_id = %s", [victim.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    elif how == "insert":
        with transaction.atomic():
            forged = audit.record(
                EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"forged": True}
            )
        cursor.execute(
            "UPDATE audit_auditevent SET occurred_at = %s WHERE id = %s",
            [victim.occurred_at, forged.pk],
        )
    elif how == "reorder":
        # The leaves of two events swapped (or, for one event, its leaf given to the last one).
        target = second if second.pk != victim.pk else events[-1]
        if target.pk == victim.pk:
            cursor.execute(
                "UPDATE audit_auditevent SET data = '{\"n\": -1}' WHERE id = %s", [victim.pk]
            )
            return
        cursor.execute("SELECT seq FROM audit_logleaf WHERE event_id = %s", [victim.pk])
        (a,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM audit_logleaf WHERE event_id = %s", [target.pk])
        (b,) = cursor.fetchone()
        cursor.execute("UPDATE audit_logleaf SET event_id = -1 WHERE seq = %s", [a])
        cursor.execute("UPDATE audit_logleaf SET event_id = %s WHERE seq = %s", [victim.pk, b])
        cursor.execute("UPDATE audit_logleaf SET event_id = %s WHERE seq = %s", [target.pk, a])
    elif how == "swap":
        # Two events' contents exchanged, ids kept.
        other = second if second.pk != victim.pk else events[-1]
        if other.pk == victim.pk:
            cursor.execute(
                "UPDATE audit_auditevent SET occurred_at = %s WHERE id = %s",
                [victim.occurred_at - timedelta(seconds=1), victim.pk],
            )
            return
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s WHERE id = %s",
            [json.dumps(other.data), victim.pk],
        )
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s WHERE id = %s",
            [json.dumps(victim.data), other.pk],
        )
    elif how == "rehash":
        # The event and its leaf hash both rewritten: the signed heads still give it away.
        cursor.execute(
            "UPDATE audit_auditevent SET object_id = 'forged' WHERE id = %s", [victim.pk]
        )
        row = AuditEvent.objects.filter(pk=victim.pk).values_list(*tree.COLUMNS).get()
        cursor.execute(
            "UPDATE audit_logleaf SET leaf_hash = %s WHERE event_id = %s",
            [merkle.leaf_hash(tree.canonical(row)), victim.pk],
        )
    elif how == "drop-leaf":
        cursor.execute("DELETE FROM audit_logleaf WHERE event_id = %s", [victim.pk])
