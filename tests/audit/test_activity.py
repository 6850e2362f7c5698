"""The employer's activity view: filters, keyset pagination, the CSV export and who may see it."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from portal.access.models import Role
from portal.audit.constants import ActorKind, EventType, Outcome, outcome_of
from portal.audit.labels import EVENT_LABELS, event_choices, event_label
from portal.audit.models import AuditEvent
from portal.audit.selectors import (
    ActivityFilter,
    activity_all,
    activity_events,
    activity_page,
    keyset,
)
from portal.employers.models import Employer
from portal.identity.models import Person
from tests.access.world import World, build_world, membership
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

BIRGITTA_NUMBER = "198112189876"  # fictional, Luhn-valid


@pytest.fixture
def world(db: Any) -> World:
    world = build_world()
    # Someone the events are about: one of the employer's people, with a name to search for.
    world.people["birgitta"] = PersonFactory(
        given_name="Birgitta", surname="Sökbar", personal_number=BIRGITTA_NUMBER
    )
    membership(world.employer, world.people["birgitta"], Role.USER)
    return world


def _client(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _url(world: World, name: str = "audit:activity", employer: Employer | None = None) -> str:
    return reverse(name, kwargs={"public_id": (employer or world.employer).public_id})


def _event(
    employer: Employer,
    event_type: EventType = EventType.GRANT_CREATED,
    *,
    actor: Person | None = None,
    kind: ActorKind | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    outcome: str | None = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        event_type=event_type,
        actor=actor,
        actor_kind=kind or (ActorKind.PERSON if actor else ActorKind.SYSTEM),
        object_type="employer",
        object_id=str(employer.public_id),
        employer_ref=str(employer.public_id),
        data=data or {},
        outcome=outcome_of(event_type) if outcome == "" else outcome,
        request_id="req-1",
        ip_address="192.0.2.1",
        **({"occurred_at": at} if at else {}),
    )


def _page(world: World, **params: str) -> tuple[int, str]:
    response = _client(world.people["admin"]).get(_url(world), params)
    return response.status_code, response.content.decode()


def _table(body: str) -> str:
    """The table of events alone (the event labels are in the filter's list too)."""
    return body[body.index("<table") : body.index("</table>")]


def _shown_ids(body: str) -> list[str]:
    # Each row starts with its time; the request ids are the same, so count rows by the time tag.
    return re.findall(r'<time datetime="([^"]+)"', body)


# --- labels ------------------------------------------------------------------------------------


def test_every_event_type_has_a_swedish_label() -> None:
    assert set(EVENT_LABELS) == set(EventType)
    for member in EventType:
        label = str(EVENT_LABELS[member])
        assert label, member
        assert label != member.value
    assert event_label("access:grant:create") == "Behörighet till e-tjänst gavs"
    assert event_label("made:up:code") == "made:up:code"


def test_the_labels_are_kept_per_language() -> None:
    # Kept once per language for speed: never the language that asked first.
    swedish = event_choices()
    with translation.override("en"):
        assert event_label("access:grant:create") == "Access to an e-service was given"
        english = event_choices()
    assert event_label("access:grant:create") == "Behörighet till e-tjänst gavs"
    assert event_choices() == swedish != english
    assert ("access:grant:create", "Access to an e-service was given") in [
        option for _scope, options in english for option in options
    ]
    # A caller may change what it is given without changing what the next one gets.
    swedish[0][1].clear()
    assert event_choices()[0][1]


# --- the page ----------------------------------------------------------------------------------


def test_the_page_shows_the_employers_events_newest_first(world: World) -> None:
    admin = world.people["admin"]
    birgitta = world.people["birgitta"]
    _event(
        world.employer,
        actor=admin,
        data={"person": birgitta.pk, "eservice": "sick_report"},
        at=datetime(2026, 1, 15, 23, 30, 5, tzinfo=UTC),
    )
    _event(world.employer, EventType.MEMBERSHIP_SUSPENDED, data={"membership": 0})
    _event(world.employer, EventType.ACCESS_DENIED, actor=world.people["other_admin"])
    _event(world.other, EventType.GRANT_REVOKED, actor=world.people["other_admin"])

    status, page = _page(world)

    assert status == 200
    body = _table(page)
    assert len(_shown_ids(body)) == 3
    # Newest first: the denial, then the system's suspension, then the grant.
    assert (
        body.index("Åtkomst nekades")
        < body.index("Roll blev vilande")
        < body.index("Behörighet till e-tjänst gavs")
    )
    # Local time (Stockholm, UTC+1 in January), to the second.
    assert "2026-01-16 00:30:05" in body
    assert "Portalen" in body
    assert admin.full_name in body
    assert "Birgitta Sökbar" in body
    assert "19811218-****" in body
    assert BIRGITTA_NUMBER not in body
    assert "19811218-9876" not in body
    assert "Sjukanmälan" in body
    assert 'class="badge badge--success">Genomförd' in body
    assert 'class="badge badge--warning">Nekad' in body
    # The other employer's events are not the employer's.
    assert "Behörighet till e-tjänst togs bort" not in body
    assert "<caption>Händelser, de senaste först</caption>" in page
    assert 'scope="col"' in body
    assert 'scope="row"' in body


def test_staff_are_shown_as_the_agency_without_a_name(world: World) -> None:
    case_worker = Person.objects.get(given_name="Personalcaseworker")
    _event(world.employer, EventType.BACKOFFICE_LOOKUP, actor=case_worker, kind=ActorKind.STAFF)

    status, body = _page(world)

    assert status == 200
    assert "Myndighetens personal" in body
    assert "Personalcaseworker" not in body
    assert case_worker.masked_identifier not in body
    # Nor can the name be found by searching for it.
    status, body = _page(world, person="Personalcaseworker")
    assert status == 200
    assert _shown_ids(body) == []


def test_an_id_in_the_data_never_names_someone_of_another_employer(world: World) -> None:
    _event(world.employer, data={"person": world.people["other_admin"].pk})

    _status, body = _page(world)

    assert world.people["other_admin"].given_name not in body


def test_the_empty_state_and_the_link_from_the_employers_page(world: World) -> None:
    status, body = _page(world)
    assert status == 200
    assert "Inget har loggats för arbetsgivaren ännu." in body
    page = _client(world.people["admin"]).get(
        reverse("employers:employer", kwargs={"public_id": world.employer.public_id})
    )
    assert _url(world) in page.content.decode()
    status, body = _page(world, action=str(EventType.GRANT_REVOKED))
    assert "Ingen händelse matchar filtret." in body


def test_showing_the_page_is_recorded_without_the_number_searched_for(world: World) -> None:
    status, _body = _page(world, person="19811218-9876", outcome=Outcome.DENIED)
    assert status == 200
    shown = AuditEvent.objects.get(event_type=EventType.ACTIVITY_VIEWED)
    assert shown.actor == world.people["admin"]
    assert shown.employer_ref == str(world.employer.public_id)
    assert shown.data == {
        "filters": {"person": "19811218-****", "outcome": "denied"},
        "fore": None,
    }
    # A page with bad filters showed nothing, and records nothing.
    _page(world, action="nonsense")
    assert AuditEvent.objects.filter(event_type=EventType.ACTIVITY_VIEWED).count() == 1


# --- filters -----------------------------------------------------------------------------------


@pytest.fixture
def varied(world: World) -> dict[str, AuditEvent]:
    admin = world.people["admin"]
    birgitta = world.people["birgitta"]
    birgitta_membership = birgitta.memberships.get()
    return {
        "by_admin": _event(
            world.employer,
            EventType.GRANT_CREATED,
            actor=admin,
            data={"person": birgitta.pk},
            at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        ),
        "by_birgitta": _event(
            world.employer,
            EventType.TERMS_ACCEPTED,
            actor=birgitta,
            at=datetime(2026, 3, 2, 22, 59, 59, tzinfo=UTC),  # 23:59:59 on 2 March in Stockholm
        ),
        "about_membership": _event(
            world.employer,
            EventType.MEMBERSHIP_ENDED,
            data={"membership": birgitta_membership.pk},
            at=datetime(2026, 3, 2, 23, 0, tzinfo=UTC),  # 00:00 on 3 March in Stockholm
        ),
        "denied": _event(
            world.employer,
            EventType.ACCESS_DENIED,
            actor=world.people["user_none"],
            at=datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
        ),
        # From before the outcome column: its outcome follows from its type.
        "old_denied": _event(
            world.employer,
            EventType.MEMBERSHIP_REFUSED,
            actor=admin,
            outcome=None,
            at=datetime(2025, 12, 1, 12, 0, tzinfo=UTC),
        ),
    }


def _ids(world: World, **filters: Any) -> set[int]:
    return set(
        activity_events(world.employer, ActivityFilter(**filters)).values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"by_admin", "by_birgitta", "about_membership", "denied", "old_denied"}),
        ({"person": "Birgitta"}, {"by_admin", "by_birgitta", "about_membership"}),
        ({"person": "birgitta sökbar"}, {"by_admin", "by_birgitta", "about_membership"}),
        ({"person": "19811218-9876"}, {"by_admin", "by_birgitta", "about_membership"}),
        ({"person": "811218-9876"}, {"by_admin", "by_birgitta", "about_membership"}),
        ({"person": "198112189876"}, {"by_admin", "by_birgitta", "about_membership"}),
        ({"person": "9876"}, {"by_admin", "by_birgitta", "about_membership"}),
        ({"person": "Aktörusernone"}, {"denied"}),
        ({"person": "Ingen Sådan"}, set()),
        ({"action": EventType.TERMS_ACCEPTED}, {"by_birgitta"}),
        ({"outcome": Outcome.DENIED}, {"denied", "old_denied"}),
        ({"outcome": Outcome.SUCCESS}, {"by_admin", "by_birgitta", "about_membership"}),
        ({"date_from": date(2026, 3, 3)}, {"about_membership", "denied"}),
        (
            {"date_to": date(2026, 3, 2)},
            {"by_admin", "by_birgitta", "old_denied"},
        ),
        (
            {"date_from": date(2026, 3, 2), "date_to": date(2026, 3, 2)},
            {"by_birgitta"},
        ),
        ({"person": "Birgitta", "action": EventType.GRANT_CREATED}, {"by_admin"}),
    ],
)
def test_filters(
    world: World, varied: dict[str, AuditEvent], filters: dict[str, Any], expected: set[str]
) -> None:
    assert _ids(world, **filters) == {varied[name].pk for name in expected}


def test_filters_on_the_page_are_kept_in_its_links(
    world: World, varied: dict[str, AuditEvent]
) -> None:
    status, body = _page(world, person="Birgitta", action=EventType.GRANT_CREATED)
    assert status == 200
    assert len(_shown_ids(body)) == 1
    assert "person=Birgitta&amp;action=access%3Agrant%3Acreate" in body
    assert '<option value="access:grant:create" selected>' in body
    assert "Rensa filter" in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"action": "access:grant:made-up"}, "Välj en händelse i listan."),
        ({"outcome": "maybe"}, "Välj ett utfall i listan."),
        ({"date_from": "2026-13-01"}, "Ange datumet som ÅÅÅÅ-MM-DD"),
        ({"date_to": "01/02/2026"}, "Ange datumet som ÅÅÅÅ-MM-DD"),
        ({"date_from": "igår"}, "Ange datumet som ÅÅÅÅ-MM-DD"),
        (
            {"date_from": "2026-03-02", "date_to": "2026-03-01"},
            "Slutdatumet kan inte vara före startdatumet.",
        ),
        ({"person": "1"}, "Skriv minst två bokstäver av namnet eller fyra siffror"),
        ({"person": "x" * 101}, "Skriv högst 100 tecken."),
        ({"fore": "abc"}, "Länken till sidan är felaktig."),
        ({"fore": "-5"}, "Länken till sidan är felaktig."),
        ({"fore": str(2**64)}, "Länken till sidan är felaktig."),
    ],
)
def test_bad_filters_are_explained_on_the_page(
    world: World, params: dict[str, str], message: str
) -> None:
    _event(world.employer, actor=world.people["admin"])
    for name in ("audit:activity", "audit:activity-export"):
        response = _client(world.people["admin"]).get(_url(world, name), params)
        body = response.content.decode()
        assert response.status_code == 400, name
        assert message in body, name
        assert "Det finns fel i formuläret" in body
        assert "<title>Fel:" in body
        assert _shown_ids(body) == []
    assert not AuditEvent.objects.filter(event_type=EventType.ACTIVITY_EXPORTED).exists()


def test_dates_at_the_edges_of_the_calendar_mean_no_bound(world: World) -> None:
    _event(world.employer, actor=world.people["admin"])
    status, body = _page(world, date_from="0001-01-01", date_to="9999-12-31")
    assert status == 200
    assert len(_shown_ids(body)) == 1


# --- pagination --------------------------------------------------------------------------------


def _bulk(employer: Employer, count: int, **fields: Any) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            event_type=fields.get("event_type", EventType.GRANT_CREATED),
            actor_kind=ActorKind.PERSON if fields.get("actor") else ActorKind.SYSTEM,
            actor=fields.get("actor"),
            employer_ref=str(employer.public_id),
            data=fields.get("data", {}),
            outcome=Outcome.SUCCESS,
        )
        for _ in range(count)
    )


def test_pages_follow_each_other_without_duplicates_or_gaps(world: World) -> None:
    _bulk(world.employer, 60, actor=world.people["admin"])
    _bulk(world.other, 30)
    _bulk(world.employer, 60, event_type=EventType.TERMS_ACCEPTED)
    expected = list(
        AuditEvent.objects.filter(employer_ref=str(world.employer.public_id))
        .order_by("-id")
        .values_list("pk", flat=True)
    )
    client = _client(world.people["admin"])
    url = _url(world)
    seen: list[int] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        rows = len(_shown_ids(body))
        seen.extend(expected[len(seen) : len(seen) + rows])
        pages += 1
        older = re.search(r'href="\?(fore=\d+)">Äldre händelser', body)
        if older:
            fore = int(older.group(1).split("=")[1])
            # The link names the last event shown: the next page starts right below it.
            assert fore == seen[-1]
            url = _url(world) + "?" + older.group(1)
            assert "Senaste händelserna" in client.get(url).content.decode()
        else:
            url = ""
    assert pages == 3
    assert seen == expected
    assert len(set(seen)) == 120
    # The pages themselves, by id: keyset from the view's own selector agrees.
    walked: list[int] = []
    before: int | None = expected[0] + 1  # leaving out the page's own showings since
    while True:
        chunk = list(keyset(activity_events(world.employer, ActivityFilter()), before, 50))
        walked.extend(event.pk for event in chunk)
        if len(chunk) < 50:
            break
        before = chunk[-1].pk
    assert walked == expected


def test_a_filtered_page_keeps_its_filter_in_the_older_link(world: World) -> None:
    _bulk(world.employer, 55, event_type=EventType.TERMS_ACCEPTED)
    _bulk(world.employer, 10, event_type=EventType.GRANT_CREATED)
    status, body = _page(world, action=EventType.TERMS_ACCEPTED)
    assert status == 200
    assert len(_shown_ids(body)) == 50
    older = re.search(r'href="\?action=terms%3Aacceptance%3Acreate&amp;fore=(\d+)"', body)
    assert older
    status, body = _page(world, action=EventType.TERMS_ACCEPTED, fore=older.group(1))
    assert len(_shown_ids(body)) == 5
    assert "Äldre händelser</a>" not in body
    assert 'href="?action=terms%3Aacceptance%3Acreate">Senaste händelserna' in body


def test_the_page_query_is_keyset_never_offset(world: World) -> None:
    _bulk(world.employer, 60)
    last = AuditEvent.objects.order_by("-id").first()
    assert last is not None
    with CaptureQueriesContext(connection) as queries:
        _page(world, fore=str(last.pk))
    statements = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    page_query = next(s for s in statements if "ORDER BY" in s)
    assert "OFFSET" not in page_query.upper()
    assert "LIMIT 51" in page_query
    assert '"audit_auditevent"."id" < ' in page_query
    assert (
        'ORDER BY "audit_auditevent"."employer_ref" DESC, "audit_auditevent"."id" DESC'
        in page_query
    )
    assert "COUNT(" not in " ".join(statements).upper()


def _varied_events(world: World, count: int) -> None:
    birgitta = world.people["birgitta"]
    membership_pk = birgitta.memberships.get().pk
    for n in range(count):
        # Actors and the people events are about vary, so that a lazy lookup per row would show.
        actor = PersonFactory() if n % 2 else world.people["admin"]
        _event(
            world.employer,
            actor=actor,
            data={"person": birgitta.pk} if n % 3 else {"membership": membership_pk},
        )


#: The session, the person, the employer, the access decision, the page of events, the people it
#: is about, recording the read (3, with the savepoint of the test's transaction), what the
#: layout shows about the employer (4); a person filter adds one.
MAX_QUERIES = 14


@pytest.mark.parametrize("count", [5, 60])
def test_the_number_of_queries_is_bounded(
    world: World, count: int, django_assert_max_num_queries: Any
) -> None:
    _varied_events(world, count)
    client = _client(world.people["admin"])
    client.get(_url(world))  # the first request of a session also writes the session
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(_url(world), {"person": "Birgitta"})
    assert response.status_code == 200
    with django_assert_max_num_queries(MAX_QUERIES - 1):
        response = client.get(_url(world))
    # The events, and the page's own two showings before this one.
    assert len(_shown_ids(response.content.decode())) == min(count + 2, 50)


def test_the_number_of_queries_does_not_grow_with_the_page(world: World) -> None:
    client = _client(world.people["admin"])
    client.get(_url(world))  # the first request of a session may do more (last login...)
    _varied_events(world, 5)
    with CaptureQueriesContext(connection) as few:
        client.get(_url(world), {"person": "Birgitta"})
    _varied_events(world, 55)
    with CaptureQueriesContext(connection) as many:
        client.get(_url(world), {"person": "Birgitta"})
    assert len(few.captured_queries) == len(many.captured_queries)


# --- export ------------------------------------------------------------------------------------


def _export(world: World, **params: str) -> tuple[Any, list[list[str]], bytes]:
    response = _client(world.people["admin"]).get(_url(world, "audit:activity-export"), params)
    raw = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    return response, rows, raw


def test_the_export_has_every_matching_event_and_full_numbers_of_the_employers_people(
    world: World,
) -> None:
    admin = world.people["admin"]
    birgitta = world.people["birgitta"]
    stranger = world.people["other_admin"]
    case_worker = Person.objects.get(given_name="Personalcaseworker")
    _event(
        world.employer,
        actor=admin,
        data={"person": birgitta.pk, "eservice": "sick_report"},
        at=datetime(2026, 1, 15, 23, 30, 5, tzinfo=UTC),
    )
    _event(world.employer, EventType.ACCESS_DENIED, actor=stranger)
    _event(world.employer, EventType.BACKOFFICE_LOOKUP, actor=case_worker, kind=ActorKind.STAFF)
    _event(world.employer, EventType.MEMBERSHIP_SUSPENDED, data={"membership": 0})
    _event(world.other, actor=stranger)

    response, rows, raw = _export(world)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="aktivitet-5599011235-')
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    assert rows[0] == [
        "tid",
        "händelse",
        "händelsekod",
        "utfall",
        "aktör",
        "aktörens personnummer",
        "avser",
        "avser personnummer",
        "begäran-id",
        "IP-adress",
    ]
    body = rows[1:]
    # Newest first: the export's own event is the newest of all.
    assert [row[2] for row in body] == [
        EventType.ACTIVITY_EXPORTED,
        EventType.MEMBERSHIP_SUSPENDED,
        EventType.BACKOFFICE_LOOKUP,
        EventType.ACCESS_DENIED,
        EventType.GRANT_CREATED,
    ]
    export_row, system_row, staff_row, denied_row, grant_row = body
    admin_number = f"{admin.personal_number[:8]}-{admin.personal_number[8:]}"
    assert export_row[4:6] == [admin.full_name, admin_number]
    assert system_row[4:8] == ["Portalen", "", "", ""]
    assert staff_row[4:6] == ["Myndighetens personal", ""]
    # Someone from elsewhere who was refused: named, but the number stays masked.
    assert denied_row[3:6] == ["Nekad", stranger.full_name, stranger.masked_identifier]
    assert grant_row == [
        "2026-01-16T00:30:05+01:00",
        "Behörighet till e-tjänst gavs",
        "access:grant:create",
        "Genomförd",
        admin.full_name,
        admin_number,
        "Birgitta Sökbar",
        "19811218-9876",
        "req-1",
        "192.0.2.1",
    ]
    assert "Personalcaseworker" not in raw.decode("utf-8-sig")


def test_the_export_records_itself_with_its_filters_and_no_identity_number(world: World) -> None:
    _event(
        world.employer, actor=world.people["admin"], data={"person": world.people["birgitta"].pk}
    )
    _event(world.employer, EventType.TERMS_ACCEPTED, actor=world.people["admin"])

    response, rows, _raw = _export(
        world, person="19811218-9876", action=EventType.GRANT_CREATED, date_from="2020-01-01"
    )

    assert response.status_code == 200
    assert [row[2] for row in rows[1:]] == [EventType.GRANT_CREATED]
    event = AuditEvent.objects.get(event_type=EventType.ACTIVITY_EXPORTED)
    assert event.actor == world.people["admin"]
    assert event.employer_ref == str(world.employer.public_id)
    assert event.data == {
        "filters": {
            "person": "19811218-****",
            "action": "access:grant:create",
            "from": "2020-01-01",
        }
    }
    assert "9876" not in str(event.data)
    # A partial number is hidden altogether (which part it is, nobody knows).
    _export(world, person="Birgitta 9876")
    latest = AuditEvent.objects.filter(event_type=EventType.ACTIVITY_EXPORTED).latest("id")
    assert latest.data == {"filters": {"person": "Birgitta ****"}}


def test_a_head_request_exports_nothing_and_records_nothing(world: World) -> None:
    response = _client(world.people["admin"]).head(_url(world, "audit:activity-export"))
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(event_type=EventType.ACTIVITY_EXPORTED).exists()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_export_cells_cannot_run_as_formulas(world: World, start: str) -> None:
    person = PersonFactory(given_name="=HYPERLINK(1)", surname="Formelsson")
    membership(world.employer, person, Role.USER)
    _event(world.employer, actor=person)
    AuditEvent.objects.create(
        event_type=EventType.GRANT_CREATED,
        actor_kind=ActorKind.SYSTEM,
        employer_ref=str(world.employer.public_id),
        request_id=f"{start}SUM(1)",
    )

    _response, rows, _raw = _export(world)

    by_request = {row[8]: row for row in rows[1:]}
    assert f"'{start}SUM(1)" in by_request
    assert by_request["req-1"][4] == "'=HYPERLINK(1) Formelsson"


def test_the_export_reads_in_keyset_chunks_and_misses_nothing(world: World) -> None:
    _bulk(world.employer, 23, actor=world.people["admin"])
    _bulk(world.other, 5)
    _bulk(world.employer, 14)
    expected = list(
        AuditEvent.objects.filter(employer_ref=str(world.employer.public_id))
        .order_by("-id")
        .values_list("pk", flat=True)
    )
    with CaptureQueriesContext(connection) as queries:
        exported = [row.id for row in activity_all(world.employer, ActivityFilter(), chunk=5)]
    assert exported == expected
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "audit_auditevent"' in q["sql"]]
    assert len(reads) == 8  # 37 events in chunks of 5
    assert all("LIMIT 5" in sql and "OFFSET" not in sql.upper() for sql in reads)


# --- who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["user_submit", "user_none", "other_admin"])
@pytest.mark.parametrize("name", ["audit:activity", "audit:activity-export"])
def test_only_the_employers_administrators_see_its_activity(
    world: World, who: str, name: str
) -> None:
    _event(
        world.employer, actor=world.people["admin"], data={"person": world.people["birgitta"].pk}
    )
    before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()

    response = _client(world.people[who]).get(_url(world, name))

    assert response.status_code == 403
    body = response.content.decode()
    assert "Birgitta" not in body
    assert world.employer.name not in body
    denial = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).latest("id")
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count() == before + 1
    assert denial.actor == world.people[who]
    assert denial.data["action"] == "audit:event:view"
    assert denial.employer_ref == str(world.employer.public_id)
    assert not AuditEvent.objects.filter(event_type=EventType.ACTIVITY_EXPORTED).exists()


def test_another_employers_administrator_sees_only_their_own(world: World) -> None:
    _event(world.employer, actor=world.people["admin"])
    response = _client(world.people["other_admin"]).get(_url(world, employer=world.other))
    assert response.status_code == 200
    assert "Inget har loggats för arbetsgivaren ännu." in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(world: World) -> None:
    response = Client().get(_url(world))
    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")


# --- PostgreSQL: a deep page costs what the first page costs -----------------------------------


def _plan(queryset: Any) -> str:
    return str(queryset.explain())


@pytest.mark.postgres
def test_a_deep_page_uses_the_index_and_is_as_fast_as_the_first(world: World) -> None:
    admin = world.people["admin"]
    events_per_employer = 50_000
    batch = 5_000
    start = datetime(2025, 1, 1, tzinfo=UTC)
    # The employer's events first, then as many of another's: the layout in which walking the
    # primary key backwards (what PostgreSQL chose for a plain ``employer_ref = %s ORDER BY id
    # DESC``) reads all 50 000 of the other's before the first of the employer's.
    for employer in (world.employer, world.other):
        for offset in range(0, events_per_employer, batch):
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    event_type=EventType.GRANT_CREATED,
                    actor_kind=ActorKind.PERSON,
                    actor=admin,
                    employer_ref=str(employer.public_id),
                    occurred_at=start + timedelta(seconds=offset + n),
                    data={"person": admin.pk},
                    outcome=Outcome.SUCCESS,
                )
                for n in range(batch)
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    ids = list(
        AuditEvent.objects.filter(employer_ref=str(world.employer.public_id))
        .order_by("id")
        .values_list("pk", flat=True)
    )
    assert len(ids) == events_per_employer
    middle, deep = ids[len(ids) // 2], ids[60]  # page 500, and the second-to-last of a thousand
    for employer, before in (
        (world.employer, None),
        (world.employer, middle),
        (world.employer, deep),
        (world.other, None),
    ):
        plan = str(
            keyset(activity_events(employer, ActivityFilter()), before, 51).explain(analyze=True)
        )
        assert "Seq Scan on audit_auditevent" not in plan, plan
        assert "Index Scan" in plan, plan
        # The page reads about as many rows as it shows, wherever it is.
        removed = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)]
        assert sum(removed) < 1000, plan
        if before != deep:
            # (So near the start of the log PostgreSQL may as well read the few hundred events
            # below ``deep`` by primary key and sort them: cheap, and bounded by ``id < deep``.)
            assert "Index Scan Backward using audit_employer_id" in plan, plan
            assert "Sort" not in plan, plan

    def timed(before: int | None) -> float:
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            page = activity_page(world.employer, ActivityFilter(), before=before)
            best = min(best, time.perf_counter() - began)
            assert len(page.rows) == 50
        return best

    first, deep_page = timed(None), timed(deep)
    assert first < 0.05
    assert deep_page < 0.05
