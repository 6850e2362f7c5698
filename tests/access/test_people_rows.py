"""The rows of the list of people, put together in the view: what each shows, escaped."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.conf import settings
from django.utils import timezone

from portal.access.models import Level, Role
from tests.access.world import World, build_world, grant, logged_in, membership
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _rows(world: World, query: str = "") -> list[str]:
    page = logged_in(world.people["admin"]).get(
        f"/arbetsgivare/{world.employer.public_id}/behorigheter/{query}"
    )
    assert page.status_code == 200
    body = page.content.decode()
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    return re.findall(r"<tr class=\"table__row\">.*?</tr>", table, flags=re.DOTALL)


def _row_of(rows: list[str], text: str) -> str:
    found = [row for row in rows if text in row]
    assert len(found) == 1, (text, rows)
    return found[0]


def test_a_row_shows_the_name_identity_roles_and_grants() -> None:
    world = build_world()
    person = PersonFactory(given_name="Åsa", surname="Öberg", personal_number="198112289874")
    user = membership(world.employer, person, Role.USER)
    grant(user, "sick_report", Level.SUBMIT, valid_until=date(2031, 12, 31))
    grant(user, "work_aids", Level.VIEW)
    admin = membership(world.employer, person, Role.ADMINISTRATOR)
    admin.suspended_at = timezone.now()
    admin.save(update_fields=["suspended_at"])
    row = _row_of(_rows(world), "Åsa Öberg")
    url = f"/arbetsgivare/{world.employer.public_id}/behorigheter/personer/{person.public_id}/"
    assert f'<a class="anchor" href="{url}">Åsa Öberg</a>' in row
    assert "19811228-****" in row
    assert "198112289874" not in row
    cells = re.findall(r"<td class=\"table__column\">(.*?)</td>", row, flags=re.DOTALL)
    assert cells[1] == (
        'Behörighetsadministratör <span class="badge badge--warning">vilande</span><br>Användare'
    )
    assert cells[2].split("<br>") == [
        "Sjukanmälan efter dag 14 (se och lämna uppgifter, t.o.m. 2031-12-31)",
        "Bidrag till arbetshjälpmedel (se uppgifter)",
    ]


def test_everything_in_a_row_is_escaped() -> None:
    world = build_world()
    person = PersonFactory(given_name="<script>alert(1)</script>", surname="& Co")
    membership(world.employer, person, Role.USER)
    row = _row_of(_rows(world), "alert(1)")
    assert "<script>" not in row
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in row


def test_a_person_who_has_not_logged_in_is_shown_without_a_name() -> None:
    world = build_world()
    person = PersonFactory(given_name="", surname="", personal_number="199001012380")
    membership(world.employer, person, Role.USER)
    row = _row_of(_rows(world), "19900101-****")
    assert "Namn visas efter första inloggningen" in row


def test_the_rows_in_english() -> None:
    world = build_world()
    person = PersonFactory(given_name="", surname="", personal_number="199001012380")
    membership(world.employer, person, Role.USER)
    client = logged_in(world.people["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(f"/arbetsgivare/{world.employer.public_id}/behorigheter/").content.decode()
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    assert '<td class="table__column">Access administrator</td>' in table
    assert "Name shown after first sign-in" in table
    assert "Användare" not in table


#: The template "Tidigare behörigheter" was rendered with before, kept as the reference the
#: view's lines are held to.
_HISTORY_TEMPLATE = """{% for membership in access.ended %}<li>{{ membership.get_role_display|capfirst }}: {{ membership.created_at|date:"Y-m-d" }} – {{ membership.ended_at|date:"Y-m-d" }} ({{ membership.end_reason }})</li>{% endfor %}
{% for grant in access.ended_grants %}<li>{{ grant.eservice_name }}, {{ grant.get_level_display }}: {{ grant.valid_from|date:"Y-m-d" }} – {{ grant.ended_at|default:grant.membership.ended_at|date:"Y-m-d" }} ({{ grant.end_reason|default:grant.membership.end_reason }})</li>{% endfor %}"""


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_persons_history_is_what_the_template_gave(language: str) -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    from django.template import Context, Template  # noqa: PLC0415
    from django.utils import translation  # noqa: PLC0415

    from portal.access import selectors  # noqa: PLC0415
    from portal.access.models import Grant, Membership  # noqa: PLC0415
    from portal.access.views import _history  # noqa: PLC0415

    world = build_world()
    person = PersonFactory(given_name="Historik")
    # Half past eleven at night UTC: in Sweden already the next day, which the page shows.
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    ended = membership(world.employer, person, Role.ADMINISTRATOR)
    Membership.objects.filter(pk=ended.pk).update(ended_at=late, end_reason="Slutade <b>& gick</b>")
    with_role = membership(world.employer, person, Role.USER)
    grant(with_role, "work_aids", Level.VIEW)
    Membership.objects.filter(pk=with_role.pk).update(ended_at=late, end_reason="Rollen togs bort")
    held = membership(world.employer, person, Role.USER)
    revoked = grant(held, "sick_report", Level.SUBMIT, valid_until=date(2031, 1, 1))
    Grant.objects.filter(pk=revoked.pk).update(ended_at=late, end_reason="Återkallad")
    access = selectors.person_access(world.employer, person)
    assert len(access.ended) == 2
    assert len(access.ended_grants) == 2
    with translation.override(language):
        expected = Template(_HISTORY_TEMPLATE).render(Context({"access": access}))
        lines = _history(access)
    rendered = Template("{% for line in lines %}<li>{{ line }}</li>{% endfor %}").render(
        Context({"lines": lines})
    )
    assert rendered == expected.replace("\n", "")
    assert "&lt;b&gt;" in rendered
    assert rendered.count("– 2026-07-01 (") == 4


@pytest.mark.parametrize(
    "asked", [None, "", "1", "2", "3", "0", "-1", "999", "abc", "2.5", "2.0", " 2"], ids=repr
)
def test_a_page_read_with_its_count_is_the_paginators(asked: str | None) -> None:
    """The page of people and their number, read in one statement, are what ``get_page`` gives
    for every sort and filter and any page asked for (past the last, not a number, none)."""
    from django.core.paginator import Paginator  # noqa: PLC0415

    from portal.access import selectors  # noqa: PLC0415
    from portal.access.views import PAGE_SIZE, _page_with_count, _people_page  # noqa: PLC0415

    world = build_world()
    for n in range(2 * PAGE_SIZE + 3):
        membership(world.employer, PersonFactory(surname=f"Efternamn{n % 7}"), Role.USER)
    asked_for = [
        {},
        {"sort": selectors.Sort.ADDED},
        {"sort": selectors.Sort.REVIEWED},
        {"role": Role.ADMINISTRATOR},
        {"search": "Efternamn3"},
        {"search": "ingen sådan"},
    ]
    for filters in asked_for:
        queryset = selectors.people(world.employer, prefetch=False, **filters)
        expected = Paginator(queryset, PAGE_SIZE).get_page(asked)
        found = _page_with_count(queryset, asked)
        assert found.number == expected.number, filters
        assert found.paginator.count == expected.paginator.count, filters
        assert found.paginator.num_pages == expected.paginator.num_pages, filters
        assert [p.pk for p in found.object_list] == [p.pk for p in expected.object_list], filters
        assert (found.has_next(), found.has_previous()) == (
            expected.has_next(),
            expected.has_previous(),
        )
        if not filters:
            # The list as first seen (no filter, by name) is read by a written-out statement.
            plain = _people_page(world.employer, {"sort": ""}, asked)
            assert plain.number == expected.number
            assert plain.paginator.count == expected.paginator.count
            assert plain.paginator.num_pages == expected.paginator.num_pages
            assert [p.pk for p in plain.object_list] == [p.pk for p in expected.object_list]
            assert (plain.has_next(), plain.has_previous()) == (
                expected.has_next(),
                expected.has_previous(),
            )


def test_the_list_of_people_reads_its_first_page_and_count_in_one_statement() -> None:
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    world = build_world()
    client = logged_in(world.people["admin"])
    with CaptureQueriesContext(connection) as asked:
        page = client.get(f"/arbetsgivare/{world.employer.public_id}/behorigheter/")
    assert page.status_code == 200
    counts = [q["sql"] for q in asked if q["sql"].startswith('SELECT COUNT(*) AS "__count"')]
    assert counts == []
    assert "4 personer" in page.content.decode()


def test_the_people_by_name_are_the_orms() -> None:
    """The list of people as first seen, one page at a time, read by a written-out statement:
    the people ``selectors.people`` gives, in its order (names shared by several, someone without
    a personal identity number, ended and other employers' memberships left out), the shown
    columns only, and their number."""
    from portal.access import selectors  # noqa: PLC0415
    from portal.access.models import Membership  # noqa: PLC0415
    from portal.access.views import _ROW_FIELDS  # noqa: PLC0415

    world = build_world()
    for n in range(11):
        membership(
            world.employer,
            PersonFactory(surname=f"Namn{n % 3}", given_name=f"Förnamn{n % 2}"),
            Role.USER,
        )
    membership(
        world.employer,
        PersonFactory(
            personal_number=None,
            eidas_identifier="DE/SE/0123456789",
            surname="Namn1",
            given_name="Förnamn1",
        ),
        Role.USER,
    )
    gone = membership(world.employer, PersonFactory(surname="Aaslutat"), Role.USER)
    Membership.objects.filter(pk=gone.pk).update(ended_at=gone.created_at)
    membership(world.other, PersonFactory(surname="Aaannan"), Role.USER)
    orm = selectors.people(world.employer, prefetch=False).only(*_ROW_FIELDS)
    total = orm.count()
    assert total >= 14
    for offset in range(0, total + 4, 4):
        found, number = selectors.people_by_name(
            world.employer, offset=offset, limit=4, fields=_ROW_FIELDS
        )
        expected = list(orm[offset : offset + 4])
        assert [p.pk for p in found] == [p.pk for p in expected], offset
        assert number == (total if expected else 0)
        for person, same in zip(found, expected, strict=True):
            assert person.get_deferred_fields() == same.get_deferred_fields()
            assert {f: getattr(person, f) for f in _ROW_FIELDS} == {
                f: getattr(same, f) for f in _ROW_FIELDS
            }
