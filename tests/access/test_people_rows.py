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
