"""The e-service page's rows of cases, put together in the view, are what the template that used
to render them gave: late and on time, every value escaped, in Swedish and English."""

from __future__ import annotations

import pytest
from django.template import Template
from django.utils import translation

from portal.eservices.views import SubmissionRow, _submission_rows_html
from tests.markup import assert_as_template

#: The loop eservice.html rendered the rows with before, kept as the reference the view's rows
#: are held to.
_TEMPLATE = Template(
    """{% load i18n %}{% translate "sen" as late %}
  {% for row in rows %}
  <tr class="table__row">
    <th class="table__column" scope="row"><a class="anchor" href="{{ row.url }}">{{ row.reference }}</a></th>
    <td class="table__column">{{ row.received }}</td>
    <td class="table__column">{{ row.by }}</td>
    <td class="table__column">{{ row.kind }}{% if row.late %} <span class="badge badge--warning">{{ late }}</span>{% endif %}</td>
  </tr>
  {% endfor %}"""
)


def _rows() -> list[SubmissionRow]:
    return [
        SubmissionRow(
            url=f"/arbetsgivare/x/e-tjanster/sick_report/arenden/SJK-{n}/?a=1&b=<{n}>",
            reference=f"SJK-{n}",
            received=f"2026-11-2{n} 08:0{n}",
            by=["Åsa <b>Öberg</b> & Co", '"Kim" O\'Neil', "19811228-****"][n % 3],
            kind=["Ny", "Rättelse", "Återtagen <x>"][n % 3],
            late=n % 2 == 1,
        )
        for n in range(6)
    ]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_rows_are_what_the_template_gave(language: str) -> None:
    rows = _rows()
    with translation.override(language):
        found = assert_as_template(_TEMPLATE, {"rows": rows}, _submission_rows_html(rows))
    assert found.count("<tr ") == len(rows) == 6
    assert found.count("badge--warning") == 3
    assert "<b>" not in found
    assert "Åsa &lt;b&gt;Öberg&lt;/b&gt; &amp; Co" in found
    assert "?a=1&amp;b=&lt;1&gt;" in found


def test_no_rows_no_markup() -> None:
    assert _submission_rows_html([]) == ""
