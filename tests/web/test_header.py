"""The layout's header actions, put together in Python (``{% header_actions %}``), are what the
template that rendered them gave: logged in or not, on the login page or elsewhere, acting for an
employer or not, with and without a name, on a minimal page, with and without a CSRF token, in
Swedish and English, escaping names and addresses."""

from __future__ import annotations

from itertools import product
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from portal.identity.models import Person
from tests.markup import normalised

#: The part of layout.html the tag replaces, kept as the reference it is held to.
_TEMPLATE = Template((Path(__file__).parent / "header_reference.html").read_text(encoding="utf-8"))
_TAG = Template("{% load header %}{% header_actions %}")


def _person(given: str, surname: str, number: str | None = "198112289874") -> Person:
    return Person(given_name=given, surname=surname, personal_number=number)


def _contexts() -> list[dict[str, Any]]:
    employer = SimpleNamespace(
        public_id=UUID("3297ab4e-62ea-5a6d-b06b-6e0450efc724"), name="Åsa <b>&</b> Söner AB"
    )
    users = [
        AnonymousUser(),
        _person("Kim", 'O\'Neil "K"'),
        _person("", "", number=None),
        _person("", "", number="198112289874"),
    ]
    found = []
    for user, acting, url_name, minimal, token, path in product(
        users,
        [None, employer],
        ["login", "home", None],
        [False, True],
        ["abc123XYZ", ""],
        ["/start/", "/sok/?q=<x>&a='b'\""],
    ):
        if user.is_anonymous and acting is not None:
            continue
        if isinstance(user, Person) and not user.personal_number:
            user.eidas_identifier = "DE/SE/0123456789"
        request = RequestFactory().get(path)
        request.resolver_match = (  # type: ignore[assignment]
            SimpleNamespace(url_name=url_name) if url_name else None
        )
        found.append(
            {
                "user": user,
                "acting_for": acting,
                "request": request,
                "minimal": minimal,
                "csrf_token": token,
            }
        )
    return found


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_header_actions_are_what_the_template_gave(language: str) -> None:
    contexts = _contexts()
    assert len(contexts) == 168
    with translation.override(language):
        for values in contexts:
            expected = _TEMPLATE.render(Context(values))
            found = _TAG.render(Context(values))
            assert normalised(found) == normalised(expected), values
        acting = next(
            values
            for values in contexts
            if values["acting_for"] and not values["minimal"] and "sok" in values["request"].path
        )
        shown = _TAG.render(Context(acting))
    assert "Åsa &lt;b&gt;&amp;&lt;/b&gt; Söner AB" in shown
    assert 'value="/sok/?q=%3Cx%3E&amp;a=&#x27;b&#x27;%22"' in shown


def test_a_logged_in_persons_header_has_both_forms_with_the_token() -> None:
    request = RequestFactory().get("/start/")
    values = {"user": _person("Kim", "Ek"), "request": request, "csrf_token": "tok"}
    with translation.override("sv"):
        found = _TAG.render(Context(values))
    assert found.count('name="csrfmiddlewaretoken" value="tok"') == 2
    assert ">Kim Ek</a>" in found
    assert "Logga ut" in found
    assert 'value="en" lang="en">In English<' in found
