"""A choice field's options, radio buttons or check boxes, rendered in Python.

``{% for choice in field %}`` builds a widget context (a dict of attributes, a template name) for
every choice and the template engine then resolves each variable of it: for the activity log's
list of events (some hundred options) that was most of the page's CPU. These tags give the same
markup and the same answers as Django's own ``ChoiceWidget.optgroups``: the same ids
(``<id>_<index>``), the same choice selected, groups as ``<optgroup>``.

    <select ...>{% options field %}</select>
    {% choice_inputs field "radio" %}   {# or "checkbox", for several choices #}

``{% field form.name %}`` (``{% field form.text rows=8 %}`` for a text area's height) renders one
form field the FKUI way, whatever its widget: the label with its help text, the error messages
tied to the input (``aria-describedby``, ``aria-invalid``), and the input, select, text area,
check box, radio buttons or check boxes. It was a template included once per field; the form
pages render several fields each, and the template engine spent some 60 µs on each, against a few
here (tests/web/test_choices.py holds the markup to the template it replaces).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_SELECTED = mark_safe(" selected")
_CHECKED = mark_safe(" checked")
#: The FKUI classes of a choice's wrapper, input and label.
_INPUTS = {
    "radio": ("radio-button", "radio-button__input", "radio-button__label"),
    "checkbox": ("checkbox", "checkbox__input", "checkbox__label"),
}


def _chosen(field: BoundField) -> Iterator[tuple[Any, Any, str, bool, Any]]:
    """Each (group, value, index, selected, label) of ``field``'s choices, as ``optgroups``
    gives them: a group's label or None; at most one selected unless several may be."""
    widget = field.field.widget
    values = set(widget.format_value(field.value()))
    several = getattr(widget, "allow_multiple_selected", False)
    has_selected = False
    choices: Any = getattr(field.field, "choices", ())
    for index, (value, label) in enumerate(choices):
        grouped = isinstance(label, list | tuple)
        for subindex, (subvalue, sublabel) in enumerate(label if grouped else [(value, label)]):
            selected = (not has_selected or several) and str(subvalue) in values
            has_selected |= selected
            position = f"{index}_{subindex}" if grouped else str(index)
            yield (value if grouped else None), subvalue, position, selected, sublabel


def field_facts(field: BoundField) -> dict[str, Any]:
    """What ``{% field %}`` shows of ``field``, each worked out once: its kind of widget
    (``checkboxes``, ``textarea``, ``checkbox``, ``radio``, ``select`` or ``input``), the input's
    type, and the field's id, name, label, help text, value, errors and whether it is required."""
    widget = field.field.widget
    input_type = getattr(widget, "input_type", None)
    if input_type == "checkbox" and getattr(widget, "allow_multiple_selected", False):
        kind = "checkboxes"
    elif not input_type:
        kind = "textarea"
    elif input_type in {"checkbox", "radio", "select"}:
        kind = input_type
    else:
        kind = "input"
    return {
        "kind": kind,
        "input_type": input_type or "text",
        "id": field.id_for_label,
        "auto_id": field.auto_id,
        "name": field.html_name,
        "label": field.label,
        "help_text": field.help_text,
        "value": field.value(),
        "errors": list(field.errors),
        "required": field.field.required,
    }


@register.simple_tag
def options(field: BoundField) -> SafeString:
    """The ``<option>`` (and ``<optgroup>``) elements of a select field."""
    parts: list[str] = []
    group: Any = None
    for label_of_group, value, _index, selected, label in _chosen(field):
        if label_of_group != group:
            if group is not None:
                parts.append("</optgroup>")
            if label_of_group is not None:
                parts.append(format_html('<optgroup label="{}">', label_of_group))
            group = label_of_group
        parts.append(
            format_html(
                '<option value="{}"{}>{}</option>', value, _SELECTED if selected else "", label
            )
        )
    if group is not None:
        parts.append("</optgroup>")
    return mark_safe("".join(parts))  # noqa: S308 (every part escaped by format_html)


@register.simple_tag
def choice_inputs(field: BoundField, kind: str) -> SafeString:
    """Each choice of ``field`` as an FKUI radio button or check box with its label."""
    wrapper, input_class, label_class = _INPUTS[kind]
    parts = [
        format_html(
            '<div class="{}"><input class="{}" type="{}" name="{}" id="{}_{}" value="{}"{}>'
            '<label class="{}" for="{}_{}">{}</label></div>',
            wrapper,
            input_class,
            kind,
            field.html_name,
            field.auto_id,
            index,
            value,
            _CHECKED if selected else "",
            label_class,
            field.auto_id,
            index,
            label,
        )
        for _group, value, index, selected, label in _chosen(field)
    ]
    return mark_safe("".join(parts))  # noqa: S308 (every part escaped by format_html)


def _e(value: Any) -> str:
    """``value`` as the template engine shows it in HTML: escaped unless already safe."""
    return str(conditional_escape(value))


@register.simple_tag
def field(field: BoundField, rows: int | str | None = None) -> SafeString:
    """One form field the FKUI way (see the module's docstring)."""
    f = field_facts(field)
    kind, errors = f["kind"], f["errors"]
    error_class = " portal-field--error" if errors else ""
    messages = "".join(f"{_e(error)} " for error in errors)
    if kind in {"checkboxes", "radio"}:
        auto_id = _e(f["auto_id"])
        described = f' aria-describedby="{auto_id}-error"' if errors else ""
        error = (
            f'<p class="portal-field__error" id="{auto_id}-error">{messages}</p>' if errors else ""
        )
        html = (
            f'<fieldset class="fieldset portal-field{error_class}" id="{auto_id}"{described}>\n'
            f'  <legend class="label fieldset__label">{_e(f["label"])}</legend>\n'
            f"  {error}\n"
            f"  {choice_inputs(field, 'checkbox' if kind == 'checkboxes' else 'radio')}\n"
            "</fieldset>\n"
        )
        return mark_safe(html)  # noqa: S308 (every value escaped above)
    id_ = _e(f["id"])
    error = f'<p class="portal-field__error" id="{id_}-error">{messages}</p>' if errors else ""
    invalid = f' aria-invalid="true" aria-describedby="{id_}-error"' if errors else ""
    help_text = (
        f'<span class="label__description">{_e(f["help_text"])}</span>' if f["help_text"] else ""
    )
    label = f'<label class="label" for="{id_}">{_e(f["label"])}{help_text}</label>'
    name = _e(f["name"])
    value = f["value"]
    if kind == "checkbox":
        html = (
            f'<div class="checkbox portal-field{error_class}">\n'
            f"  {error}\n"
            f'  <input class="checkbox__input" type="checkbox" name="{name}" id="{id_}"'
            f"{' checked' if value else ''}{invalid}>\n"
            f'  <label class="checkbox__label" for="{id_}">{_e(f["label"])}</label>\n'
            "</div>\n"
        )
    elif kind == "textarea":
        html = (
            f'<div class="textarea-field portal-field{error_class}">\n'
            f"  {label}\n"
            f"  {error}\n"
            f'  <textarea class="textarea-field__input" id="{id_}" name="{name}"'
            f' rows="{_e(rows or 5)}"{invalid}>{_e("" if value is None else value)}</textarea>\n'
            "</div>\n"
        )
    elif kind == "select":
        html = (
            f'<div class="select-field portal-field{error_class}">\n'
            f"  {label}\n"
            f"  {error}\n"
            f'  <select class="select-field__select" name="{name}" id="{id_}"{invalid}>\n'
            f"    {options(field)}\n"
            "  </select>\n"
            "</div>\n"
        )
    else:
        input_type = _e(f["input_type"])
        autocomplete = ' autocomplete="email"' if f["input_type"] == "email" else ""
        html = (
            f'<div class="text-field portal-field{error_class}">\n'
            f"  {label}\n"
            f"  {error}\n"
            f'  <input class="text-field__input" type="{input_type}" name="{name}" id="{id_}"'
            f' value="{_e("" if value is None else value)}"'
            f"{' required' if f['required'] else ''}{invalid}"
            f"{autocomplete}>\n"
            "</div>\n"
        )
    return mark_safe(html)  # noqa: S308 (every value escaped above)
