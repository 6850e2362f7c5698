"""Retention: old events are purged a month at a time, and what remains still verifies."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from portal.audit import merkle, tree
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent, AuditPurge, LogLeaf, TreeHead
from tests.audit.test_tree import untriggered


def _at(day: date, n: int) -> AuditEvent:
    """An event recorded on ``day`` (inserted with that time: the log only refuses changes)."""
    return AuditEvent.objects.create(
        occurred_at=timezone.make_aware(datetime(day.year, day.month, day.day, 12)),  # noqa: DTZ001
        event_type=EventType.SYSTEM_DEMO_DATA_LOADED,
        actor_kind="system",
        data={"n": n},
        outcome="success",
    )


@pytest.fixture
def old_and_new(db: Any) -> list[AuditEvent]:
    days = [
        date(2019, 1, 10),
        date(2019, 1, 20),
        date(2019, 2, 5),
        date(2021, 6, 1),
        date(2026, 11, 1),
    ]
    events = [_at(day, n) for n, day in enumerate(days)]
    assert tree.seal(now=timezone.now() + timedelta(hours=1)) == len(events)
    return events


def test_the_cutoff_is_a_month_boundary_five_years_back(settings: Any) -> None:
    assert tree.retention_cutoff(date(2026, 11, 28)) == date(2021, 11, 1)
    settings.AUDIT_RETENTION_YEARS = 2
    assert tree.retention_cutoff(date(2026, 3, 31)) == date(2024, 3, 1)


def test_a_purge_removes_whole_months_and_the_log_still_verifies(
    old_and_new: list[AuditEvent],
) -> None:
    heads = TreeHead.objects.count()
    done = tree.purge(before=date(2019, 2, 1))
    assert done is not None
    assert (done.events, done.up_to_seq) == (2, 2)
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old_and_new[:2]]).exists()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in old_and_new[2:]]).count() == 3
    assert LogLeaf.objects.count() == 5  # the hashes stay
    assert TreeHead.objects.count() == heads  # so do the heads
    purge_event = AuditEvent.objects.get(event_type=EventType.AUDIT_PURGED)
    assert purge_event.data == {"before": "2019-02-01", "leaves": [0, 2], "events": 2}
    tree.seal()  # the purge's own event is sealed like any other
    report = tree.verify()
    assert report.ok, report.problems
    assert report.purged == 2
    assert tree.purge(before=date(2019, 2, 1)) is None  # nothing more to do


def test_deleting_a_kept_event_is_still_detected_after_a_purge(
    old_and_new: list[AuditEvent],
) -> None:
    tree.purge(before=date(2019, 2, 1))
    with untriggered(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [old_and_new[3].pk])
    report = tree.verify()
    assert f"event {old_and_new[3].pk} (leaf 3) has been deleted" in report.problems


def test_the_runtime_role_cannot_purge_but_the_purge_is_an_owner_task(
    old_and_new: list[AuditEvent],
) -> None:
    # Purging lifts the triggers for its own statement only: afterwards they are back.
    tree.purge(before=date(2019, 2, 1))
    from django.db import DatabaseError  # noqa: PLC0415

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [old_and_new[4].pk])


def test_the_purge_command_and_an_export_that_still_rebuilds_the_tree(
    old_and_new: list[AuditEvent], tmp_path: Any, capsys: Any
) -> None:
    call_command("audit", "purge", "--before", "2021-07-01", "--dry-run")
    assert "Would purge 4 events recorded before 2021-07-01" in capsys.readouterr().out
    assert not AuditPurge.objects.exists()
    call_command("audit", "purge", "--before", "2021-07-01")
    assert "Purged 4 events" in capsys.readouterr().out
    target = tmp_path / "log.jsonl"
    call_command("audit", "export", "--output", str(target))
    frontier = merkle.Frontier()
    for line in map(json.loads, target.read_text().splitlines()):
        if "tree_head" in line:
            assert frontier.root().hex() == line["tree_head"]["root"]
        elif line.get("purged"):
            frontier.append(bytes.fromhex(line["leaf_hash"]))
        else:
            data = json.dumps(
                line["event"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            frontier.append(merkle.leaf_hash(data.encode()))
    assert frontier.size == 5
    call_command("audit", "verify")
    assert "4 purged events verified by their kept hashes" in capsys.readouterr().out
