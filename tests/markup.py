"""Comparing markup put together in Python with what a template gave."""

from __future__ import annotations

import re
from typing import Any

from django.template import Context, Template


def normalised(html: str) -> str:
    """``html`` without the white space between tags (which a browser does not show)."""
    return re.sub(r">\s+<", "><", html).strip()


def assert_as_template(template: Template, context: dict[str, Any], found: str) -> str:
    """``found`` is the markup ``template`` renders with ``context`` (white space between tags
    aside); gives ``found`` for further checks."""
    assert normalised(found) == normalised(template.render(Context(context)))
    return found
