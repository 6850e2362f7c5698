"""``{% options %}`` and ``{% choice_inputs %}`` give what Django's own widgets give: each choice's
value, id, label and whether it is selected, groups as ``<optgroup>``, everything escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django import forms
from django.template import Context, Template

GROUPED = [
    ("", "Alla"),
    ("Inloggning", [("login", "Loggade in"), ("logout", "Loggade ut")]),
    ("Behörighet <&>", [("grant", "Gav behörighet"), ("revoke", 'Tog bort "allt"')]),
]
FLAT = [("full", "Heltid"), ("half", "Halvtid <50 %>"), ("", "Ingen")]


class Choices(forms.Form):
    grouped = forms.ChoiceField(choices=GROUPED, required=False)
    flat = forms.ChoiceField(choices=FLAT, widget=forms.RadioSelect, required=False)
    several = forms.MultipleChoiceField(
        choices=FLAT, widget=forms.CheckboxSelectMultiple, required=False
    )
    numbers = forms.TypedChoiceField(choices=[(1, "Ett"), (2, "Två")], coerce=int)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _django(field: forms.BoundField) -> list[tuple[str, str, bool, str]]:
    """(value, id, selected, label) of each choice as Django's widget gives them."""
    return [
        (
            str(widget.data["value"]),
            widget.id_for_label,
            bool(widget.data["selected"]),
            str(widget.choice_label),
        )
        for widget in field
    ]


def _render(source: str, form: forms.Form) -> str:
    return Template("{% load choices %}" + source).render(Context({"form": form}))


@pytest.mark.parametrize(
    "data",
    [None, {"grouped": "revoke", "flat": "half", "several": ["full", ""], "numbers": "2"}, {}],
    ids=["unbound", "chosen", "bound and empty"],
)
def test_the_tags_give_what_djangos_widgets_give(data: dict[str, Any] | None) -> None:
    form = Choices(data, initial={"numbers": 1}) if data is None else Choices(data)
    for name in ("grouped", "numbers"):
        parsed = _parse(_render(f"{{% options form.{name} %}}", form))
        options = [attrs for tag, attrs in parsed.found if tag == "option"]
        found = [
            (str(attrs["value"]), "selected" in attrs, label)
            for attrs, label in zip(options, parsed.text, strict=True)
        ]
        expected = [(value, selected, label) for value, _id, selected, label in _django(form[name])]
        assert found == expected, name
    for name, kind in (("flat", "radio"), ("several", "checkbox")):
        html = _render(f'{{% choice_inputs form.{name} "{kind}" %}}', form)
        parsed = _parse(html)
        inputs = [attrs for tag, attrs in parsed.found if tag == "input"]
        labels = [attrs for tag, attrs in parsed.found if tag == "label"]
        found = [
            (str(attrs["value"]), str(attrs["id"]), "checked" in attrs, text)
            for attrs, text in zip(inputs, parsed.text, strict=True)
        ]
        assert found == _django(form[name]), name
        assert all(attrs["type"] == kind and attrs["name"] == name for attrs in inputs)
        assert [label["for"] for label in labels] == [attrs["id"] for attrs in inputs]


def test_groups_and_labels_are_escaped() -> None:
    html = _render("{% options form.grouped %}", Choices({"grouped": "login"}))
    assert html == (
        '<option value="">Alla</option>'
        '<optgroup label="Inloggning"><option value="login" selected>Loggade in</option>'
        '<option value="logout">Loggade ut</option></optgroup>'
        '<optgroup label="Behörighet &lt;&amp;&gt;"><option value="grant">Gav behörighet</option>'
        '<option value="revoke">Tog bort &quot;allt&quot;</option></optgroup>'
    )
    radios = _render('{% choice_inputs form.flat "radio" %}', Choices({"flat": "half"}))
    assert (
        '<div class="radio-button"><input class="radio-button__input" type="radio" name="flat"'
        ' id="id_flat_1" value="half" checked><label class="radio-button__label" for="id_flat_1">'
        "Halvtid &lt;50 %&gt;</label></div>"
    ) in radios


class Every(forms.Form):
    text = forms.CharField(help_text="Hjälp <b>")
    email = forms.EmailField(required=False)
    long = forms.CharField(widget=forms.Textarea)
    agree = forms.BooleanField(required=False)
    pick = forms.ChoiceField(choices=FLAT, widget=forms.RadioSelect)
    several = forms.MultipleChoiceField(choices=FLAT, widget=forms.CheckboxSelectMultiple)


def _field(form: forms.Form, name: str, **extra: Any) -> str:
    return Template('{% include "includes/field.html" %}').render(
        Context({"field": form[name], **extra})
    )


def test_each_kind_of_field_renders_the_fkui_way_with_its_errors() -> None:
    form = Every({"text": "<x>", "agree": "on", "pick": "nej", "several": ["half"]})
    assert not form.is_valid()
    text = _field(form, "text")
    assert 'type="text" name="text" id="id_text" value="&lt;x&gt;" required' in text
    assert '<span class="label__description">Hjälp &lt;b&gt;</span>' in text
    assert "aria-invalid" not in text
    assert 'type="email" name="email" id="id_email" value="" autocomplete="email"' in _field(
        form, "email"
    )
    long = _field(form, "long", rows=3)
    assert 'class="textarea-field portal-field portal-field--error"' in long
    assert 'rows="3" aria-invalid="true" aria-describedby="id_long-error"></textarea>' in long
    assert '<p class="portal-field__error" id="id_long-error">' in long
    assert 'id="id_agree" checked>' in _field(form, "agree")
    pick = _field(form, "pick")
    assert '<fieldset class="fieldset portal-field portal-field--error" id="id_pick"' in pick
    assert 'aria-describedby="id_pick-error"' in pick
    assert 'value="full">' in pick
    assert 'id="id_several_1" value="half" checked>' in _field(form, "several")
