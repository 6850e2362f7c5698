"""The layout's ``{% samefor %}`` fragments: rendered once per process for the same values and
language, never shared across different ones, and rendered afresh with DEBUG on."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.template import Node, TemplateSyntaxError, engines
from django.template.loader_tags import BlockNode
from django.test import Client, override_settings
from django.utils import translation

from portal.web.templatetags.samefor import SameForNode
from tests.access.world import World

pytestmark = pytest.mark.django_db

SOURCE = "{% load samefor %}{% samefor colour %}{{ colour }}:{{ counter.next }}{% endsamefor %}"


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def next(self) -> int:
        self.calls += 1
        return self.calls


def _render(colour: str, counter: Counter) -> str:
    template = engines["django"].from_string(SOURCE)
    return template.render({"colour": colour, "counter": counter})


def test_a_fragment_is_rendered_once_for_the_same_values() -> None:
    counter = Counter()
    assert _render("blue", counter) == "blue:1"
    assert _render("blue", counter) == "blue:1"
    assert _render("red", counter) == "red:2"
    with translation.override("en"):
        assert _render("blue", counter) == "blue:3"
    assert counter.calls == 3


def test_fragments_on_one_line_are_each_their_own() -> None:
    template = engines["django"].from_string(
        "{% load samefor %}{% samefor %}one{% endsamefor %}-{% samefor %}two{% endsamefor %}"
    )
    assert template.render({}) == "one-two"


def test_a_fragment_cannot_hold_a_block_and_its_inside_is_not_searched() -> None:
    with pytest.raises(TemplateSyntaxError, match="cannot hold a"):
        engines["django"].from_string(
            "{% load samefor %}{% samefor x %}{% block content %}{% endblock %}{% endsamefor %}"
        )
    # A page that extends the layout looks for its blocks on every render; the fragments (most
    # of the layout) are not walked.
    layout = engines["django"].get_template("layout.html").template
    found = {node.name for node in layout.nodelist.get_nodes_by_type(BlockNode)}
    assert found == {"title", "head", "content"}
    inside = [
        node
        for fragment in layout.nodelist.get_nodes_by_type(SameForNode)
        for node in fragment.nodelist
    ]
    assert inside
    assert not set(map(id, inside)) & set(map(id, layout.nodelist.get_nodes_by_type(Node)))


@override_settings(DEBUG=True)
def test_with_debug_on_a_fragment_is_rendered_every_time() -> None:
    counter = Counter()
    assert _render("blue", counter) == "blue:1"
    assert _render("blue", counter) == "blue:2"


def test_the_layout_marks_the_page_and_the_language_each_page_is_in(world: World) -> None:
    client = Client()
    client.force_login(world.people["admin"])
    help_page = client.get("/hjalp/").content.decode()
    status_page = client.get("/driftstatus/").content.decode()
    # The navigation is shared by pages of the same route only: each marks its own link.
    assert 'href="/hjalp/" aria-current="page"' in help_page
    assert 'href="/driftstatus/" aria-current="page"' in status_page
    assert 'href="/hjalp/" aria-current="page"' not in status_page
    english = Client()
    english.force_login(world.people["admin"])
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Help and contact" in english.get("/hjalp/").content.decode()
    assert "Hjälp och kontakt" in client.get("/hjalp/").content.decode()
