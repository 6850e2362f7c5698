"""The rows of the activity page, put together in the view, are what the template that used to
render them gave: every kind of actor, subject and outcome, escaped, in Swedish and English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from django.template import Template
from django.utils import timezone, translation

from portal.audit.selectors import ActivityRow, PersonShown
from portal.audit.views import _rows_html
from tests.markup import assert_as_template

#: The template the rows were rendered with before (activity.html's loop), kept here as the
#: reference the view's rows are held to.
_TEMPLATE = Template(
    """{% load i18n %}{% for row in rows %}
  <tr class="table__row">
    <th class="table__column" scope="row"><time datetime="{{ row.occurred_at|date:'c' }}">{{ row.occurred_at|date:"Y-m-d H:i:s" }}</time></th>
    <td class="table__column">{{ row.actor_label }}{% if row.actor %}<br>{{ row.actor.masked }}{% endif %}</td>
    <td class="table__column">{{ row.label }}</td>
    <td class="table__column">{% if row.subject %}{{ row.subject.name }}<br>{{ row.subject.masked }}{% endif %}{% if row.detail %}{% if row.subject %}<br>{% endif %}{{ row.detail }}{% endif %}{% if not row.subject and not row.detail %}<span aria-label="{% translate 'Inget' %}">–</span>{% endif %}</td>
    <td class="table__column">{% if row.outcome == "success" %}<span class="badge badge--success">{{ row.outcome_label }}</span>{% elif row.outcome == "denied" %}<span class="badge badge--warning">{{ row.outcome_label }}</span>{% elif row.outcome == "failure" %}<span class="badge badge--error">{{ row.outcome_label }}</span>{% else %}{{ row.outcome_label }}{% endif %}</td>
  </tr>
  {% endfor %}"""
)


def _rows() -> list[ActivityRow]:
    person = PersonShown(name="Åsa <b>Öberg</b> & Co", masked="19811228-****", number="x")
    rows = []
    for n, (actor, subject, detail, outcome) in enumerate(
        product(
            [None, person],
            [None, PersonShown(name='"Kim" O\'Neil', masked="DE/SE/****7890", number="y")],
            ["", "Sjukanmälan <dag 14>"],
            ["success", "denied", "failure", "", "<okänt>"],
        )
    ):
        rows.append(
            ActivityRow(
                id=n,
                occurred_at=timezone.localtime(
                    datetime(2026, 3, 29, 0, 59, 0, tzinfo=UTC) + timedelta(seconds=5 * n)
                ),
                event_type="access:grant:create",
                label=f"Gav behörighet <{n}>",
                outcome=outcome,
                outcome_label=f"Utfall & {outcome}",
                actor_kind="person" if actor else "system",
                actor=actor,
                actor_label=actor.name if actor else "Portalen",
                subject=subject,
                detail=detail,
                request_id="r",
                ip_address="",
            )
        )
    return rows


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_rows_are_what_the_template_gave(language: str) -> None:
    rows = _rows()
    with translation.override(language):
        found = assert_as_template(_TEMPLATE, {"rows": rows}, _rows_html(rows))
    assert found.count("<tr ") == len(rows) == 40
    assert "<b>" not in found
    assert "Åsa &lt;b&gt;Öberg&lt;/b&gt; &amp; Co" in found
    assert "&lt;okänt&gt;" in found
    # Summer time began during these events (01:00 UTC): local times, with their offsets.
    assert 'datetime="2026-03-29T01:59:55+01:00">2026-03-29 01:59:55<' in found
    assert 'datetime="2026-03-29T03:00:00+02:00">2026-03-29 03:00:00<' in found
