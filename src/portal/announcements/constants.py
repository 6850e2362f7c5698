"""Limits and choices of announcements (R5)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

#: Longest title, in characters: a heading that fits on a line or two of a phone.
TITLE_MAX_LENGTH = 150
#: Longest text, in characters: an announcement is read on the start page, not a manual; a
#: longer instruction links to the help pages.
TEXT_MAX_LENGTH = 4000
#: Most e-services one announcement can be aimed at (the registry is small; this bounds the input).
ESERVICES_MAX = 20


class Kind(models.TextChoices):
    ANNOUNCEMENT = "announcement", _("Meddelande")
    INSTRUCTION = "instruction", _("Instruktion")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Viktigt")


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Alla")
    ESERVICES = "eservices", _("Användarna av vissa e-tjänster")
