"""The e-service page's written-out listing (``selectors.NewestVersions``) gives what the ORM's
``newest_versions`` gives: the newest version of each case of the employer in the e-service,
newest first, counted and sliced the same, with who sent each."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.access.templatetags.people_tags import display_name
from portal.eservices.models import Submission
from portal.eservices.selectors import NewestVersions, newest_versions
from tests.access.world import build_world
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
            Submission.objects.create(
                reference=f"SJK-LIST-{made:04d}",
                case_id=case_id,
                version=version,
                kind="original" if version == 1 else "correction",
                eservice="sick_report",
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
