"""Comparing markup put together in Python with what a template gave."""

from __future__ import annotations

import re


def normalised(html: str) -> str:
    """``html`` without the white space between tags (which a browser does not show)."""
    return re.sub(r">\s+<", "><", html).strip()
