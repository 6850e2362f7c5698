"""Reads for the service status: each e-service's status and the planned outages (R15)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.eservices.registry import EService, EServiceStatus, all_eservices


@dataclass(frozen=True)
class PlannedOutage:
    starts_at: datetime
    ends_at: datetime
    title: str
    eservice_codes: tuple[str, ...]


@dataclass(frozen=True)
class ServiceStatus:
    eservices: list[EService]
    planned_outages: list[PlannedOutage]

    @property
    def all_open(self) -> bool:
        return all(eservice.status == EServiceStatus.OPEN for eservice in self.eservices)


def service_status() -> ServiceStatus:
    # Planned outages are published by operations staff; until that screen exists none are listed.
    return ServiceStatus(eservices=all_eservices(), planned_outages=[])
