"""``{% options %}`` and ``{% choice_inputs %}`` give what Django's own widgets give: each choice's
value, id, label and whether it is selected, groups as ``<optgroup>``, everything escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django import forms
from django.template import Context, Template

from tests.markup import normalised

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
    chosen = forms.ChoiceField(choices=FLAT, required=False, help_text="Välj <en>")


def _field(form: forms.Form, name: str, **extra: Any) -> str:
    rows = f" rows={extra['rows']}" if "rows" in extra else ""
    return Template(f"{{% load choices %}}{{% field field{rows} %}}").render(
        Context({"field": form[name]})
    )


#: The template each field was rendered with before ``{% field %}`` (``includes/field.html``,
#: given ``field_facts`` as ``f``), kept as the reference the tag is held to; its two identical
#: fieldset branches (a radio group, a group of check boxes) are one here.
_FIELD_TEMPLATE = (
    "{% load choices %}"
    """{% if f.kind == "checkboxes" or f.kind == "radio" %}
<fieldset class="fieldset portal-field{% if f.errors %} portal-field--error{% endif %}" id="{{ f.auto_id }}"{% if f.errors %} aria-describedby="{{ f.auto_id }}-error"{% endif %}>
  <legend class="label fieldset__label">{{ f.label }}</legend>
  {% if f.errors %}<p class="portal-field__error" id="{{ f.auto_id }}-error">{% for error in f.errors %}{{ error }} {% endfor %}</p>{% endif %}
  {% if f.kind == "radio" %}{% choice_inputs field "radio" %}{% else %}{% choice_inputs field "checkbox" %}{% endif %}
</fieldset>
{% elif f.kind == "textarea" %}
<div class="textarea-field portal-field{% if f.errors %} portal-field--error{% endif %}">
  <label class="label" for="{{ f.id }}">{{ f.label }}{% if f.help_text %}<span class="label__description">{{ f.help_text }}</span>{% endif %}</label>
  {% if f.errors %}<p class="portal-field__error" id="{{ f.id }}-error">{% for error in f.errors %}{{ error }} {% endfor %}</p>{% endif %}
  <textarea class="textarea-field__input" id="{{ f.id }}" name="{{ f.name }}" rows="{{ rows|default:5 }}"{% if f.errors %} aria-invalid="true" aria-describedby="{{ f.id }}-error"{% endif %}>{{ f.value|default_if_none:'' }}</textarea>
</div>
{% elif f.kind == "checkbox" %}
<div class="checkbox portal-field{% if f.errors %} portal-field--error{% endif %}">
  {% if f.errors %}<p class="portal-field__error" id="{{ f.id }}-error">{% for error in f.errors %}{{ error }} {% endfor %}</p>{% endif %}
  <input class="checkbox__input" type="checkbox" name="{{ f.name }}" id="{{ f.id }}"{% if f.value %} checked{% endif %}{% if f.errors %} aria-invalid="true" aria-describedby="{{ f.id }}-error"{% endif %}>
  <label class="checkbox__label" for="{{ f.id }}">{{ f.label }}</label>
</div>
{% elif f.kind == "select" %}
<div class="select-field portal-field{% if f.errors %} portal-field--error{% endif %}">
  <label class="label" for="{{ f.id }}">{{ f.label }}{% if f.help_text %}<span class="label__description">{{ f.help_text }}</span>{% endif %}</label>
  {% if f.errors %}<p class="portal-field__error" id="{{ f.id }}-error">{% for error in f.errors %}{{ error }} {% endfor %}</p>{% endif %}
  <select class="select-field__select" name="{{ f.name }}" id="{{ f.id }}"{% if f.errors %} aria-invalid="true" aria-describedby="{{ f.id }}-error"{% endif %}>
    {% options field %}
  </select>
</div>
{% else %}
<div class="text-field portal-field{% if f.errors %} portal-field--error{% endif %}">
  <label class="label" for="{{ f.id }}">{{ f.label }}{% if f.help_text %}<span class="label__description">{{ f.help_text }}</span>{% endif %}</label>
  {% if f.errors %}<p class="portal-field__error" id="{{ f.id }}-error">{% for error in f.errors %}{{ error }} {% endfor %}</p>{% endif %}
  <input class="text-field__input" type="{{ f.input_type }}" name="{{ f.name }}" id="{{ f.id }}" value="{{ f.value|default_if_none:'' }}"{% if f.required %} required{% endif %}{% if f.errors %} aria-invalid="true" aria-describedby="{{ f.id }}-error"{% endif %}{% if f.input_type == "email" %} autocomplete="email"{% endif %}>
</div>
{% endif %}
"""
)


@pytest.mark.parametrize("bound", [True, False], ids=["with errors", "unbound"])
@pytest.mark.parametrize("name", ["text", "email", "long", "agree", "pick", "several", "chosen"])
def test_the_field_tag_gives_what_the_field_template_gave(name: str, *, bound: bool) -> None:
    from portal.web.templatetags.choices import field_facts  # noqa: PLC0415

    data = {"text": '<x> & "y"', "agree": "on", "pick": "nej", "several": ["half"], "chosen": "x"}
    form = Every(data if bound else None, initial={"long": "rad <1>", "email": "a@b.se"})
    if bound:
        assert not form.is_valid()
    for rows in ({}, {"rows": 8}):
        expected = Template(_FIELD_TEMPLATE).render(
            Context({"field": form[name], "f": field_facts(form[name]), **rows})
        )
        assert normalised(_field(form, name, **rows)) == normalised(expected), (name, rows)


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
