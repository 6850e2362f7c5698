"""The catalogue of e-services: codes, names and current status.

This module imports nothing else of the portal, so that ``access`` can validate e-service codes in
grants without an import cycle. Each e-service's forms and handlers live in its own sub-package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class EServiceStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True)
class EService:
    code: str
    name: str | Promise
    description: str | Promise
    status: EServiceStatus = EServiceStatus.OPEN


_REGISTRY: dict[str, EService] = {}


def register(eservice: EService) -> EService:
    if eservice.code in _REGISTRY:
        msg = f"e-service code {eservice.code!r} is registered twice"
        raise ValueError(msg)
    _REGISTRY[eservice.code] = eservice
    return eservice


def get(code: str) -> EService | None:
    return _REGISTRY.get(code)


def all_eservices() -> list[EService]:
    return sorted(_REGISTRY.values(), key=lambda eservice: str(eservice.name))


register(
    EService(
        code="sick_report",
        name=_("Sjukanmälan efter dag 14"),
        description=_(
            "Anmäl att en anställds sjukdom fortsätter efter sjuklöneperioden, senast sju "
            "kalenderdagar efter dag 14."
        ),
    )
)
register(
    EService(
        code="inquiries",
        name=_("Svara på förfrågningar"),
        description=_(
            "Svara på myndighetens frågor om en anställds inkomst eller frånvaro före svarsdagen."
        ),
    )
)
register(
    EService(
        code="work_aids",
        name=_("Bidrag till arbetshjälpmedel"),
        description=_(
            "Ansök om bidrag till hjälpmedel på arbetsplatsen innan hjälpmedlet köps in."
        ),
    )
)
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
