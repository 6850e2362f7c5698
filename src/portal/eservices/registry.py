"""The catalogue of e-services: codes, names and current status.

This module imports nothing else of the portal, so that ``access`` can validate e-service codes in
grants without an import cycle. An e-service built on the framework is a sub-package that
registers itself here (``eservices/sick_report/``), loaded when the app is ready; the ones below
are catalogued for grants until they are built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class EServiceStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True)
class EService:
    """An e-service: its code (what grants refer to), names, description and status, and, for an
    e-service built on the framework, its handler (``eservices.framework.Handler``: the form,
    the rules and the receipt). E-services without a handler are catalogued for grants only."""

    code: str
    name: str | Promise
    description: str | Promise
    status: EServiceStatus = EServiceStatus.OPEN
    handler: Any = field(default=None, compare=False, repr=False)


_REGISTRY: dict[str, EService] = {}


def register(eservice: EService) -> EService:
    if eservice.code in _REGISTRY:
        msg = f"e-service code {eservice.code!r} is registered twice"
        raise ValueError(msg)
    _REGISTRY[eservice.code] = eservice
    return eservice


def get(code: str) -> EService | None:
    return _REGISTRY.get(code)


def unregister(code: str) -> None:
    """Remove an e-service (tests that register one of their own)."""
    _REGISTRY.pop(code, None)


def all_eservices() -> list[EService]:
    return sorted(_REGISTRY.values(), key=lambda eservice: str(eservice.name))


register(
    EService(
        code="rehab_support",
        name=_("Arbetsplatsinriktat rehabiliteringsstöd"),
        description=_(
            "Redovisa insatser för en anställds arbetsplatsinriktade rehabilitering och ansök om "
            "ersättning för halva kostnaden."
        ),
    )
)
