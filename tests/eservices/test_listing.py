"""The e-service page's written-out listing (``selectors.NewestVersions``) gives what the ORM's
``newest_versions`` gives: the newest version of each case of the employer in the e-service,
newest first, counted and sliced the same, with who sent each."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.access.templatetags.people_tags import display_name
from portal.eservices.models import Submission
from portal.eservices.selectors import (
    NewestVersions,
    case_versions,
    newest_versions,
    submission_by_reference,
)
from tests.access.world import build_world, logged_in
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_listing_is_the_orms_newest_versions() -> None:
    world = build_world()
    employer = world.employer
    now = timezone.now()
    foreign = PersonFactory(
        personal_number=None, eidas_identifier="SE/DE/0123456789", given_name="", surname=""
    )
    senders = [world.people["user_submit"], world.people["user_view"]]
    made = 0
    for case in range(9):
        case_id = uuid.uuid4()
        for version in range(1, 2 + case % 3):
            made += 1
            _version(
                f"SJK-LIST-{made:04d}",
                case_id,
                version,
                employer=employer,
                submitted_by=senders[made % 2],
                # Two cases share a moment: the newer row comes first.
                submitted_at=now - timedelta(minutes=made // 2),
                content={"extent": "full"},
                flags={"late": True} if made % 4 == 0 else {},
                idempotency_key=f"list-{made}",
            )
    # Another e-service and another employer are not listed.
    for n, (eservice, at) in enumerate((("work_aids", employer), ("sick_report", world.other))):
        Submission.objects.create(
            reference=f"SJK-OTHER-{n}",
            eservice=eservice,
            employer=at,
            submitted_by=world.people["user_submit"],
            content={},
            idempotency_key=f"other-{n}",
        )
    # A sender without a Swedish number (shown by their masked identity), in the middle.
    Submission.objects.create(
        reference="SJK-LIST-EIDAS",
        eservice="sick_report",
        employer=employer,
        submitted_by=foreign,
        submitted_at=now - timedelta(minutes=3, seconds=30),
        content={"extent": "full"},
        idempotency_key="list-eidas",
    )
    expected = list(newest_versions(employer, "sick_report"))
    listing = NewestVersions(employer, "sick_report")
    assert listing.count() == len(expected) == 10

    def shown(rows: list) -> list[tuple]:  # type: ignore[type-arg]
        return [
            (r.reference, r.kind, r.submitted_at, r.flags, display_name(r.submitted_by))
            for r in rows
        ]

    assert shown(listing[0:10]) == shown(expected)
    assert shown(listing[2:5]) == shown(expected[2:5])
    assert shown(listing[8:20]) == shown(expected[8:])
    assert listing[10:12] == []
    assert display_name(foreign) in [name for *_rest, name in shown(listing[0:10])]
    assert NewestVersions(world.other, "work_aids").count() == 0
    # Read with the count for a first page of 4, of 10 and of 12: the same count and page.
    for first in (4, 10, 12):
        with_first = NewestVersions(employer, "sick_report", first=first)
        with CaptureQueriesContext(connection) as asked:
            assert with_first.count() == 10
            assert shown(with_first[0:first]) == shown(expected[:first])
        # The count and the page in one statement when the cases fit on the page.
        assert len(asked) == (1 if first >= 10 else 2)
        assert shown(with_first[4:8]) == shown(expected[4:8])
    empty = NewestVersions(world.other, "work_aids", first=10)
    assert empty.count() == 0
    assert empty[0:0] == []


def test_the_eservice_page_reads_a_short_first_page_with_its_count() -> None:
    """An employer with fewer cases than a page holds: the page's listing is one statement."""
    world = build_world()
    Submission.objects.create(
        reference="SJK-ONE-0001",
        eservice="sick_report",
        employer=world.employer,
        submitted_by=world.people["user_submit"],
        content={"extent": "full"},
        idempotency_key="one-1",
    )
    client = logged_in(world.people["user_submit"])
    page = f"/arbetsgivare/{world.employer.public_id}/e-tjanster/sick_report/"
    for asked in ("", "?sida=1", "?sida=2", "?sida=x"):
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(page + asked)
        assert answer.status_code == 200
        assert "SJK-ONE-0001" in answer.content.decode()
        listing = [
            q["sql"] for q in queries.captured_queries if "FROM eservices_submission s" in q["sql"]
        ]
        # Page 2 and nonsense fall back to the first page, counted apart.
        assert len(listing) == (1 if asked in ("", "?sida=1") else 2), asked


def test_the_receipts_reads_are_the_orms() -> None:
    """``submission_by_reference`` and ``case_versions`` (the receipt) give what the ORM gives."""
    world = build_world()
    case_id = uuid.uuid4()
    for version in (1, 3, 2):
        _version(
            f"SJK-RCPT-{version}",
            case_id,
            version,
            employer=world.employer,
            submitted_by=world.people["user_submit" if version < 3 else "user_view"],
            content={"extent": "full", "n": version},
            flags={"late": True} if version == 2 else {},
            idempotency_key=f"rcpt-{version}",
        )
    for reference in ("SJK-RCPT-1", "SJK-RCPT-3"):
        expected = (
            Submission.objects.filter(
                employer=world.employer, eservice="sick_report", reference=reference
            )
            .select_related("submitted_by")
            .first()
        )
        found = submission_by_reference(world.employer, "sick_report", reference)
        assert expected is not None
        assert found is not None
        assert _columns(found) == _columns(expected)
        assert _columns(found.submitted_by) == _columns(expected.submitted_by)
        assert [_columns(v) for v in case_versions(found)] == [
            _columns(v) for v in Submission.objects.filter(case_id=case_id).order_by("version")
        ]
    # Another employer's, another e-service's or an unknown reference: nothing.
    assert submission_by_reference(world.other, "sick_report", "SJK-RCPT-1") is None
    assert submission_by_reference(world.employer, "work_aids", "SJK-RCPT-1") is None
    assert submission_by_reference(world.employer, "sick_report", "SJK-NONE") is None


def _version(reference: str, case_id: uuid.UUID, version: int, **fields: Any) -> Submission:
    """A version of a sick-leave report's case."""
    return Submission.objects.create(
        reference=reference,
        case_id=case_id,
        version=version,
        kind="original" if version == 1 else "correction",
        eservice="sick_report",
        **fields,
    )


def _columns(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_sending_paths_written_out_statements_are_the_orms() -> None:
    """A submission looked up by its key, written, and the drafts it removes: what the ORM's
    expressions give and write."""
    from django.db import transaction  # noqa: PLC0415

    from portal.common.rows import insert  # noqa: PLC0415
    from portal.eservices import framework  # noqa: PLC0415
    from portal.eservices.models import Attachment, Draft  # noqa: PLC0415

    world = build_world()
    person, other = world.people["user_submit"], world.people["user_view"]
    case = uuid.uuid4()
    sent = _version(
        "SJK-KEY-1",
        case,
        1,
        employer=world.employer,
        submitted_by=person,
        idempotency_key="k1",
        content={},
    )
    for who in (person, other):
        for key in ("k1", "k2", ""):
            expected = Submission.objects.filter(submitted_by=who, idempotency_key=key).first()
            found = framework.submission_by_key(who, key)
            assert (_columns(found) if found else None) == (
                _columns(expected) if expected else None
            )
    assert framework.submission_by_key(person, "k1") == sent
    # Written as the ORM writes it.
    written = insert(
        Submission(
            reference="SJK-KEY-2",
            case_id=case,
            version=2,
            kind="correction",
            eservice="sick_report",
            employer=world.employer,
            submitted_by=person,
            subject="abc",
            content={"first_day": "2026-11-02", "å": [1]},
            flags={"late": True},
            idempotency_key="k2",
        )
    )
    stored = Submission.objects.get(pk=written.pk)
    assert _columns(stored) == _columns(written)
    assert stored.content == {"first_day": "2026-11-02", "å": [1]}
    # The drafts sent go (the plain one and the keyed one), an attachment uploaded with one
    # stays without its draft, and the person's other drafts and anyone else's stay.
    drafts = {
        (who.pk, key): Draft.objects.create(
            person=who, employer=world.employer, eservice="sick_report", key=key, data={}
        )
        for who in (person, other)
        for key in ("", "SJK-A", "SJK-B")
    }
    upload = Attachment.objects.create(
        employer=world.employer,
        eservice="sick_report",
        uploaded_by=person,
        draft=drafts[(person.pk, "SJK-A")],
        name="intyg.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    with transaction.atomic():
        framework._drafts_remove(person, world.employer, "sick_report", {"SJK-A", ""})
    left = set(Draft.objects.values_list("person_id", "key"))
    assert left == {(person.pk, "SJK-B"), (other.pk, ""), (other.pk, "SJK-A"), (other.pk, "SJK-B")}
    upload.refresh_from_db()
    assert upload.draft_id is None
    with transaction.atomic():  # nothing to remove: nothing happens
        framework._drafts_remove(person, world.other, "sick_report", {""})
    assert Draft.objects.count() == 4


def test_the_reports_about_one_employee_are_the_orms() -> None:
    """The sick-leave report's overlap check reads every version of the employer's reports about
    the employee, each case's newest first, leaving out a correction's own case: what the ORM's
    expression gives."""
    from portal.eservices.sick_report.handler import same_employee  # noqa: PLC0415

    world = build_world()
    person = world.people["user_submit"]
    cases = [uuid.uuid4() for _ in range(3)]
    made = 0
    for n, case in enumerate(cases):
        for version in range(1, 2 + n):
            made += 1
            _version(
                f"SJK-SAME-{made}",
                case,
                version,
                employer=world.employer,
                submitted_by=person,
                subject="19811228-9874",
                content={"first_day": f"2026-0{n + 1}-01"},
                idempotency_key=f"same-{made}",
            )
    # Another employee, another e-service and another employer are not read.
    for n, (place, subject) in enumerate(
        ((world.employer, "19790101-1234"), (world.other, "19811228-9874")), start=1
    ):
        _version(
            f"SJK-SAME-X{n}",
            uuid.uuid4(),
            1,
            employer=place,
            submitted_by=person,
            subject=subject,
            content={},
            idempotency_key=f"same-x{n}",
        )
    Submission.objects.create(
        reference="SJK-SAME-X3",
        eservice="work_aids",
        employer=world.employer,
        submitted_by=person,
        subject="19811228-9874",
        content={},
        idempotency_key="same-x3",
    )
    orm = Submission.objects.filter(
        employer=world.employer, eservice="sick_report", subject="19811228-9874"
    ).order_by("case_id", "-version")
    for leaving_out in (None, cases[1], uuid.uuid4()):
        expected = orm if leaving_out is None else orm.exclude(case_id=leaving_out)
        found = same_employee(world.employer, "19811228-9874", leaving_out)
        assert [_columns(s) for s in found] == [_columns(s) for s in expected]
        assert len(found) == (6 if leaving_out is None or leaving_out not in cases else 4)
    assert same_employee(world.employer, "20000101-0000") == []
