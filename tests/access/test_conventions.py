"""Views fetch employer-scoped access objects only through access.selectors (DESIGN.md, convention 2)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "portal"
VIEW_MODULES = [
    SRC / "access" / "views.py",
    SRC / "access" / "import_views.py",
    SRC / "access" / "review_views.py",
    SRC / "eservices" / "views.py",
    SRC / "api" / "access.py",
    SRC / "notices" / "subscription_views.py",
]
SCOPED = re.compile(
    r"\b(Membership|Grant|AccessReview|ReviewDecision|AccessImport|Employer)\.objects\b"
)


def test_views_do_not_query_employer_scoped_models_themselves() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in VIEW_MODULES
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SCOPED.search(line)
    ]
    assert offenders == []


def test_the_view_modules_exist() -> None:
    # A renamed module would make the test above pass vacuously.
    assert len(VIEW_MODULES) >= 5
    assert all(path.exists() for path in VIEW_MODULES)
