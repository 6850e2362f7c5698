"""Reads of the terms: the version in force, the history, and the difference between two."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from portal.terms.models import TermsVersion


def published_versions() -> QuerySet[TermsVersion]:
    return TermsVersion.objects.filter(published_at__isnull=False)


def current_version(on: date | None = None) -> TermsVersion | None:
    """The version in force on ``on`` (today by default)."""
    day = on or timezone.localdate()
    return (
        published_versions()
        .filter(effective_from__lte=day)
        .order_by("-effective_from", "-id")
        .first()
    )


def upcoming_versions() -> QuerySet[TermsVersion]:
    return (
        published_versions()
        .filter(effective_from__gt=timezone.localdate())
        .order_by("effective_from")
    )


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def diff(old: TermsVersion, new: TermsVersion) -> list[DiffLine]:
    """The paragraphs that were removed, added or kept, in reading order."""
    before, after = old.paragraphs, new.paragraphs
    lines: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        a=before, b=after, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            lines.extend(DiffLine("same", text) for text in before[i1:i2])
            continue
        lines.extend(DiffLine("removed", text) for text in before[i1:i2])
        lines.extend(DiffLine("added", text) for text in after[j1:j2])
    return lines
