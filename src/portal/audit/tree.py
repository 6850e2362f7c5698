"""The audit log's Merkle tree: sealing events into it, proving, and verifying everything.

Events are appended by ``audit.record`` in the request's own transaction, so a request never waits
for the tree. The **sequencer** (``seal``; ``portal audit seal --follow`` runs it every second)
takes the committed events that are not yet in the tree, in id order, gives each the next leaf
number, stores its leaf hash and the hashes of the subtrees it completes, and signs a new tree
head. Leaf hash = SHA-256(0x00 ‖ canonical bytes of the event), interior node = SHA-256(0x01 ‖ left
‖ right), as in RFC 9162 (``audit.merkle``).

An event's **canonical bytes** are the UTF-8 JSON object below with sorted keys and no whitespace
(``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``); ``portal audit
export`` writes exactly these objects, one per line, so that a verifier outside the portal can
recompute every leaf.

``verify`` recomputes every leaf from the events as stored, rebuilds the tree, and checks every
signed head; a modified, deleted, inserted or reordered event is named.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from portal.audit import merkle, signing
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent, AuditPurge, LogLeaf, LogNode, TreeHead

T = TypeVar("T")

#: Events committed up to this long after they were recorded are still found by the sequencer
#: (a transaction open longer than this would leave its events for the full sweep of ``verify``
#: to report). Requests and tasks commit in seconds.
SEAL_WINDOW = timedelta(minutes=10)
#: How often ``portal audit seal --follow`` looks back through SEAL_WINDOW for events committed
#: after later ones were sealed; its other runs take only the events newer than anything sealed.
#: Looking back reads every event of the window: at 2 000 events a second 1.2 million of them,
#: about a second of the database's time, too much for every run.
LOOK_BACK_EVERY = timedelta(seconds=30)
BATCH_SIZE = 5_000
#: The columns of an event that its canonical bytes are made of, in the order read.
COLUMNS = (
    "id",
    "occurred_at",
    "event_type",
    "actor_kind",
    "actor_id",
    "login_id",
    "employer_ref",
    "object_type",
    "object_id",
    "outcome",
    "data",
    "request_id",
    "ip_address",
    "user_agent_hash",
)


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_object(row: tuple[Any, ...]) -> dict[str, Any]:
    """The JSON object of an event (a row of ``COLUMNS``), as exported and hashed."""
    (
        event_id, occurred_at, event_type, actor_kind, actor_id, login_id, employer_ref,
        object_type, object_id, outcome, data, request_id, ip_address, user_agent_hash,
    ) = row  # fmt: skip
    return {
        "v": 1,
        "id": event_id,
        "time": _time(occurred_at),
        "type": event_type,
        "actor_kind": actor_kind,
        "actor": actor_id,
        "login": login_id,
        "employer": employer_ref,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "data": data,
        "request_id": request_id,
        "ip": ip_address,
        "ua": user_agent_hash,
    }


def canonical(row: tuple[Any, ...]) -> bytes:
    return canonical_json(canonical_object(row))


#: What ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` uses, made
#: once: ``dumps`` with these arguments builds a new encoder for every call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(obj: dict[str, Any]) -> bytes:
    return _ENCODER.encode(obj).encode()


# --- the sequencer ----------------------------------------------------------------------------


def latest_head() -> TreeHead | None:
    return TreeHead.objects.order_by("-size").first()


def _lock_sequencer() -> None:
    """One sequencer at a time: on PostgreSQL a transaction-level advisory lock (SQLite writers
    are serialised by the database anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x6175646974])  # "audit"


def seal(
    *, batch_size: int = BATCH_SIZE, now: datetime | None = None, look_back: bool = True
) -> int:
    """Seal one batch of committed events into the tree and sign the new head. Returns how many
    events were sealed (0 when there was nothing to do). Without ``look_back`` only the events
    newer than anything sealed are taken, not those committed late (see ``LOOK_BACK_EVERY``)."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock_sequencer()
        head = latest_head()
        frontier = merkle.Frontier(
            head.size if head else 0, [bytes.fromhex(h) for h in head.frontier] if head else []
        )
        max_event_id = head.max_event_id if head else 0
        rows = _unsealed(max_event_id, now, batch_size, look_back=look_back)
        if not rows:
            return 0
        leaves: list[tuple[int, int, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for row in rows:
            seq = frontier.size
            leaf = merkle.leaf_hash(canonical(row))
            leaves.append((seq, row[0], leaf))
            nodes.extend(node for node in frontier.append(leaf) if node[0] > 0)
        _insert_tree(leaves, nodes)
        root = frontier.root()
        TreeHead.objects.create(
            size=frontier.size,
            root_hash=root,
            signed_at=now,
            signature=signing.sign(frontier.size, root, now),
            key_id=signing.key_id(),
            frontier=[h.hex() for h in frontier.hashes],
            max_event_id=max(max_event_id, *(row[0] for row in rows)),
        )
    return len(rows)


def _unsealed(
    max_event_id: int, now: datetime, limit: int, *, look_back: bool = True
) -> list[tuple[Any, ...]]:
    """The next ``limit`` committed events not in the tree, by id: those newer than anything
    sealed, and those recorded recently enough that their transaction may have committed after a
    later event was sealed.

    Two queries rather than one with an OR: nothing above ``max_event_id`` is sealed yet, so the
    newer ones need no anti-join and come straight off the primary key in order (one query over
    the whole backlog would read and sort all of it for every batch); only the late ones, at or
    below ``max_event_id`` and inside the window, are looked for among the leaves."""
    events = AuditEvent.objects.order_by("id").values_list(*COLUMNS)
    newer = list(events.filter(id__gt=max_event_id)[:limit])
    if not look_back:
        return newer
    recent = events.filter(occurred_at__gte=now - SEAL_WINDOW)
    late = list(recent.filter(id__lte=max_event_id, leaf__isnull=True)[:limit])
    if not late:
        return newer
    return sorted(late + newer, key=lambda row: row[0])[:limit]


def _insert_tree(leaves: list[tuple[int, int, bytes]], nodes: list[tuple[int, int, bytes]]) -> None:
    """Store a batch's leaves ``(seq, event id, hash)`` and completed nodes ``(level, index,
    hash)``. On PostgreSQL one INSERT of arrays per table (building thousands of model instances
    and a statement with three parameters per row took most of a batch's time)."""
    if connection.vendor != "postgresql":
        LogLeaf.objects.bulk_create(
            LogLeaf(seq=seq, event_id=event_id, leaf_hash=value) for seq, event_id, value in leaves
        )
        LogNode.objects.bulk_create(
            LogNode(level=level, index=index, hash=value) for level, index, value in nodes
        )
        return
    with connection.cursor() as cursor:
        for statement, rows in (
            (
                (
                    'INSERT INTO audit_logleaf ("seq", "event_id", "leaf_hash")'
                    " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[])"
                ),
                leaves,
            ),
            (
                (
                    'INSERT INTO audit_lognode ("level", "index", "hash")'
                    " SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])"
                ),
                nodes,
            ),
        ):
            if rows:
                cursor.execute(statement, [list(column) for column in zip(*rows, strict=True)])


def seal_pending(*, now: datetime | None = None, look_back: bool = True) -> int:
    """What ``portal audit seal --follow`` does each time: seal a batch, and more only while they
    come full (a backlog). Unlike ``seal_all`` it does not go on sealing the few events that
    arrived meanwhile: under a steady load that would sign a head every few events, without end."""
    total = 0
    while sealed := seal(now=now, look_back=look_back):
        total += sealed
        if sealed < BATCH_SIZE:
            break
    return total


def seal_all(*, now: datetime | None = None) -> int:
    """Seal until nothing is left (tests, commands)."""
    total = 0
    while sealed := seal(now=now):
        total += sealed
    return total


# --- proofs -------------------------------------------------------------------------------------


class ProofError(ValueError):
    """A proof was asked for a size or index the log cannot prove (outside the tree)."""


def _node_lookup(ranges: Iterable[tuple[int, int]]) -> Callable[[int, int], bytes]:
    wanted = {node for start, end in ranges for node in merkle.range_nodes(start, end)}
    leaves = [index for level, index in wanted if level == 0]
    interior = [(level, index) for level, index in wanted if level > 0]
    found: dict[tuple[int, int], bytes] = {
        (0, seq): bytes(value)
        for seq, value in LogLeaf.objects.filter(seq__in=leaves).values_list("seq", "leaf_hash")
    }
    if interior:
        from django.db.models import Q  # noqa: PLC0415

        condition = Q()
        for level, index in interior:
            condition |= Q(level=level, index=index)
        found.update(
            ((level, index), bytes(value))
            for level, index, value in LogNode.objects.filter(condition).values_list(
                "level", "index", "hash"
            )
        )

    def node(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            raise ProofError(f"the tree has no node {level}/{index}") from None

    return node


def _head_of_size(size: int) -> TreeHead:
    head: TreeHead | None = TreeHead.objects.filter(size=size).first()
    if head is None:
        raise ProofError(f"no signed tree head has size {size}")
    return head


def leaf_hash_at(index: int) -> bytes:
    value = LogLeaf.objects.filter(seq=index).values_list("leaf_hash", flat=True).first()
    if value is None:
        raise ProofError(f"the tree has no leaf {index}")
    return bytes(value)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (a signed head's size)."""
    _head_of_size(size)
    try:
        ranges = merkle.inclusion_ranges(index, size)
    except merkle.ProofRangeError as error:
        raise ProofError(str(error)) from None
    node = _node_lookup(ranges)
    return [merkle.range_hash(start, end, node) for start, end in ranges]


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``new_size`` leaves extends the tree of ``old_size``."""
    _head_of_size(old_size)
    _head_of_size(new_size)
    try:
        ranges = merkle.consistency_ranges(old_size, new_size)
    except merkle.ProofRangeError as error:
        raise ProofError(str(error)) from None
    node = _node_lookup(ranges)
    return [merkle.range_hash(start, end, node) for start, end in ranges]


# --- verification ------------------------------------------------------------------------------


@dataclass
class Report:
    """What ``verify`` found: the number of events and heads checked, and every problem (the
    first one names the first bad event)."""

    events: int = 0
    heads: int = 0
    #: Leaves whose events were purged by retention (their stored hashes are used).
    purged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _leaf_rows(chunk: int) -> Iterator[tuple[int, bytes, tuple[Any, ...]]]:
    """Every leaf in order with its event's columns (only the id when the event is gone), in chunks by
    leaf number (keyset, so a million leaves never sit in memory at once)."""
    last = -1
    while True:
        leaves = list(
            LogLeaf.objects.filter(seq__gt=last)
            .order_by("seq")
            .values_list("seq", "leaf_hash", "event_id")[:chunk]
        )
        if not leaves:
            return
        events: dict[int, tuple[Any, ...]] = {
            row[0]: row
            for row in AuditEvent.objects.filter(
                id__in=[event_id for _seq, _hash, event_id in leaves]
            ).values_list(*COLUMNS)
        }
        for seq, leaf_hash, event_id in leaves:
            yield seq, bytes(leaf_hash), events.get(event_id) or (event_id,)
        last = leaves[-1][0]


def _leaf_events(chunk: int) -> Iterator[tuple[int, bytes, int, bytes | None]]:
    """Every leaf in order: its number, its stored hash, its event's id and the event's canonical
    bytes (None when the event is gone)."""
    if connection.vendor == "postgresql":
        return _leaf_events_postgresql(chunk)
    return (
        (seq, stored, row[0], canonical(row) if len(row) > 1 else None)
        for seq, stored, row in _leaf_rows(chunk)
    )


#: The leaves and their events' canonical bytes, PostgreSQL writing all of them but ``data``: it
#: writes a text as json.dumps(..., ensure_ascii=False) does (to_json escapes ``"``, ``\``,
#: ``\b``, ``\f``, ``\n``, ``\r``, ``\t`` and the other control characters as ``\u00xx``, nothing
#: else), numbers as digits, the time as ``_time`` does (for the years 1000-9999), in the keys'
#: sorted order; ``data`` is parsed from its jsonb text as the ORM parses it and written by
#: ``canonical_json``'s encoder. Hashing then needs no row conversion, and json only for ``data``,
#: not for the whole object. tests/audit/test_tree_fast_paths.py holds the bytes to ``canonical``'s.
_LEAF_EVENTS_SQL = """
SELECT
    l.seq, l.leaf_hash, l.event_id,
    '{"actor":' || coalesce(e.actor_id::text, 'null')
    || ',"actor_kind":' || to_json(e.actor_kind)::text
    || ',"data":',
    e.data,
    ',"employer":' || coalesce(to_json(e.employer_ref)::text, 'null')
    || ',"id":' || e.id::text
    || ',"ip":' || coalesce(to_json(e.ip_address)::text, 'null')
    || ',"login":' || coalesce(e.login_id::text, 'null')
    || ',"object_id":' || to_json(e.object_id)::text
    || ',"object_type":' || to_json(e.object_type)::text
    || ',"outcome":' || coalesce(to_json(e.outcome)::text, 'null')
    || ',"request_id":' || to_json(e.request_id)::text
    || ',"time":"' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    || '","type":' || to_json(e.event_type)::text
    || ',"ua":' || coalesce(to_json(e.user_agent_hash)::text, 'null')
    || ',"v":1}'
FROM audit_logleaf l LEFT JOIN audit_auditevent e ON e.id = l.event_id
WHERE l.seq > %s ORDER BY l.seq LIMIT %s
"""


def _leaf_events_postgresql(chunk: int) -> Iterator[tuple[int, bytes, int, bytes | None]]:
    def chunks() -> Iterator[list[tuple[Any, ...]]]:
        last = -1
        with connection.cursor() as cursor:
            while True:
                cursor.execute(_LEAF_EVENTS_SQL, [last, chunk])
                rows = cursor.fetchall()
                if not rows:
                    return
                yield rows
                last = rows[-1][0]

    # Outside a transaction another connection sees the same committed log: the next chunk is
    # read while this one is hashed (the database works on the other core). Inside one (tests)
    # it would not see the transaction's rows, so the chunks are read in turn.
    encode, loads = _ENCODER.encode, json.loads
    for rows in chunks() if connection.in_atomic_block else _read_ahead(chunks):
        for seq, stored, event_id, head, data, tail in rows:
            if data is None:  # never NULL in a stored event: the event is gone
                yield seq, stored, event_id, None
            else:
                yield seq, stored, event_id, (head + encode(loads(data)) + tail).encode()


def _read_ahead(produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    """What ``produce()`` yields, produced one item ahead in a thread of its own (with its own
    database connection, closed at the end). An exception there is raised here; stopping early
    stops the thread."""
    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def work() -> None:
        try:
            for item in produce():
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as error:  # noqa: BLE001 (handed to the reading thread)
            put(("error", error))
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name="audit-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def public_keys() -> dict[str, bytes]:
    """The keys tree heads may be signed with: the current one and any retired ones
    (``PORTAL_AUDIT_PREVIOUS_PUBLIC_KEYS``), by key id."""
    import base64  # noqa: PLC0415

    keys = {signing.key_id(): signing.public_key_bytes()}
    for text in settings.AUDIT_PREVIOUS_PUBLIC_KEYS:
        raw = base64.b64decode(text)
        keys[signing.key_id(raw)] = raw
    return keys


def verify(*, chunk: int = 20_000, now: datetime | None = None) -> Report:
    """Recompute the whole tree from the events as they are stored and check every signed head.

    Problems found, in log order: a leaf number missing, an event that is gone (deleted), an event
    whose canonical bytes no longer give its leaf hash (modified, or moved to another leaf: the
    event id is part of the bytes), a head whose root or signature does not match, and events
    older than the sequencer's window that are in no leaf (inserted behind the sequencer's back).
    """
    report = Report()
    keys = public_keys()
    heads = list(TreeHead.objects.order_by("size").values_list(
        "size", "root_hash", "signed_at", "signature", "key_id"
    ))  # fmt: skip
    head_at = {
        size: (bytes(root), signed_at, bytes(sig), key) for size, root, signed_at, sig, key in heads
    }
    frontier = merkle.Frontier()
    expected_seq = 0
    purged_before = purged_up_to()
    # Once per event, a million times: names bound here, the tree's size counted here.
    append, leaf_hash, size = frontier.append, merkle.leaf_hash, 0
    for seq, stored_hash, event_id, event in _leaf_events(chunk):
        if seq != expected_seq:
            report.problems.append(f"leaf {expected_seq} is missing (the next leaf is {seq})")
            expected_seq = seq
        if event is None:
            if seq >= purged_before:
                report.problems.append(f"event {event_id} (leaf {seq}) has been deleted")
            else:
                report.purged += 1
            computed = stored_hash
        else:
            computed = leaf_hash(event)
            if computed != stored_hash:
                report.problems.append(f"event {event_id} (leaf {seq}) has been modified or moved")
        append(computed)
        expected_seq += 1
        size += 1
        if size in head_at:
            _check_head(report, frontier, head_at[size], keys)
    report.events = size
    for size in head_at:
        if size > frontier.size:
            report.problems.append(f"tree head of size {size} has no leaves behind it")
    if 0 in head_at:
        _check_head(report, merkle.Frontier(), head_at[0], keys)
    # Events old enough to have been sealed, that are in no leaf: inserted afterwards.
    now = now or timezone.now()
    unsealed = (
        AuditEvent.objects.filter(leaf__isnull=True, occurred_at__lt=now - SEAL_WINDOW)
        .order_by("id")
        .values_list("id", flat=True)[:10]
    )
    report.problems.extend(
        f"event {event_id} is in no leaf of the tree (inserted?)" for event_id in unsealed
    )
    return report


def _check_head(
    report: Report,
    frontier: merkle.Frontier,
    head: tuple[bytes, datetime, bytes, str],
    keys: dict[str, bytes],
) -> None:
    root, signed_at, signature, key = head
    report.heads += 1
    if frontier.root() != root:
        report.problems.append(
            f"tree head of size {frontier.size} does not match the events before it"
        )
    public = keys.get(key)
    if public is None:
        report.problems.append(f"tree head of size {frontier.size} is signed by unknown key {key}")
    elif not signing.verify(frontier.size, root, signed_at, signature, public):
        report.problems.append(f"tree head of size {frontier.size} has a bad signature")


# --- export -------------------------------------------------------------------------------------


def export_lines(*, chunk: int = 20_000) -> Iterator[bytes]:
    """JSON Lines for an external archive: one line per tree head and per event, in leaf order,
    each head after the last event it covers. Events are their canonical objects with their leaf
    number; heads carry size, root, time, signature and the public key."""
    keys = public_keys()
    heads = {
        size: (bytes(root), signed_at, bytes(sig), key)
        for size, root, signed_at, sig, key in TreeHead.objects.order_by("size").values_list(
            "size", "root_hash", "signed_at", "signature", "key_id"
        )
    }

    def head_line(size: int) -> bytes:
        root, signed_at, signature, key = heads[size]
        return (
            canonical_json(
                {
                    "tree_head": {
                        "size": size,
                        "root": root.hex(),
                        "signed_at_ms": int(signed_at.timestamp() * 1000),
                        "signature": signature.hex(),
                        "key_id": key,
                        "public_key": keys[key].hex() if key in keys else None,
                    }
                }
            )
            + b"\n"
        )

    if 0 in heads:
        yield head_line(0)
    count = 0
    for seq, stored, _event_id, event in _leaf_events(chunk):
        if event is not None:
            # canonical_json({"leaf": seq, "event": canonical_object(row)}), from the event's bytes
            yield b'{"event":%s,"leaf":%d}\n' % (event, seq)
        else:
            # A purged event: its hash, so that the tree can still be rebuilt.
            yield canonical_json({"leaf": seq, "purged": True, "leaf_hash": stored.hex()}) + b"\n"
        count = seq + 1
        if count in heads:
            yield head_line(count)


# --- retention -----------------------------------------------------------------------------------


def purged_up_to() -> int:
    """Leaves before this number have had their events purged (0: none)."""
    value = AuditPurge.objects.order_by("-up_to_seq").values_list("up_to_seq", flat=True).first()
    return int(value or 0)


def retention_cutoff(today: date | None = None) -> date:
    """The first day of the oldest month to keep: events before it are past retention."""
    today = today or timezone.localdate()
    years = settings.AUDIT_RETENTION_YEARS
    return date(today.year - years, today.month, 1)


def purge(*, before: date | None = None, dry_run: bool = False) -> AuditPurge | None:
    """Remove the events recorded before ``before`` (the retention cutoff: a month boundary), as
    one block of the oldest leaves: every leaf up to the first event that is to be kept. Their
    leaf hashes, the tree's nodes and every signed head stay, so the rest still verifies; the
    purge is recorded as an event. Needs the tables' owner (the runtime role cannot delete).
    Returns the purge, or None when there was nothing to remove (or ``dry_run``)."""
    cutoff = before or retention_cutoff()
    moment = timezone.make_aware(datetime(cutoff.year, cutoff.month, cutoff.day))  # noqa: DTZ001
    with transaction.atomic():
        _lock_sequencer()
        start = purged_up_to()
        # The first sealed leaf whose event is to be kept: everything before it goes.
        keep = (
            LogLeaf.objects.filter(seq__gte=start, event__occurred_at__gte=moment)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        head = latest_head()
        end = keep if keep is not None else (head.size if head else 0)
        if end <= start:
            return None
        doomed = LogLeaf.objects.filter(seq__gte=start, seq__lt=end).values("event_id")
        count = AuditEvent.objects.filter(id__in=doomed).count()
        if dry_run:
            return AuditPurge(before=cutoff, up_to_seq=end, events=count)
        with _triggers_lifted("audit_auditevent"), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM audit_auditevent WHERE id IN"
                " (SELECT event_id FROM audit_logleaf WHERE seq >= %s AND seq < %s)",
                [start, end],
            )
        record_purge = AuditPurge.objects.create(before=cutoff, up_to_seq=end, events=count)
        from portal.audit.services import record  # noqa: PLC0415

        record(
            EventType.AUDIT_PURGED,
            actor=None,
            object_type="audit-log",
            data={"before": cutoff.isoformat(), "leaves": [start, end], "events": count},
        )
    return record_purge


@contextmanager
def _triggers_lifted(table: str) -> Iterator[None]:
    """The append-only triggers of ``table`` off for the purge's own statement, inside its
    transaction (PostgreSQL: only the owner may; SQLite: the trigger is dropped and made again)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                yield
            finally:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
                " AND name LIKE %s",
                [table, "%delete%"],
            )
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {name}")
            try:
                yield
            finally:
                for _name, sql in triggers:
                    cursor.execute(sql)
