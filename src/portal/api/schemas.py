from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class EServiceStatusOut(Schema):
    code: str
    name: str
    status: str = Field(
        description="open, closed or maintenance (maintenance while a planned outage is in "
        "progress; closed while an incident closes it)."
    )
    disruption: str | None = Field(
        default=None, description="planned_outage or incident while one affects it, else null."
    )
    until: datetime | None = Field(
        default=None, description="When a planned outage in progress ends (null if unknown)."
    )
    opening_hours: str = Field(
        default="24/7", description="Open around the clock, except during outages."
    )


class PlannedOutageOut(Schema):
    id: str | None = Field(default=None, description="Stable id (also the calendar event's UID).")
    starts_at: datetime
    ends_at: datetime
    title: str = Field(description="In the request's language (Swedish unless English was chosen).")
    title_sv: str | None = None
    title_en: str | None = None
    description: str = ""
    eservice_codes: list[str] = Field(description="The affected e-services' codes.")
    all_eservices: bool = Field(default=False, description="Whether it affects every e-service.")
    in_progress: bool = False


class IncidentOut(Schema):
    id: str
    title: str
    title_sv: str
    title_en: str | None = None
    description: str = ""
    eservice_codes: list[str]
    all_eservices: bool
    started_at: datetime
    closed_at: datetime | None = None
    closes_eservices: bool = Field(description="Whether the affected e-services are closed.")


class StatusOut(Schema):
    eservices: list[EServiceStatusOut]
    planned_outages: list[PlannedOutageOut] = Field(
        description="Planned outages in progress or to come, soonest first."
    )
    incidents: list[IncidentOut] = Field(
        default_factory=list, description="Incidents not yet closed."
    )
    recent_incidents: list[IncidentOut] = Field(
        default_factory=list, description="Incidents closed in the last 14 days, newest first."
    )


class ProblemOut(Schema):
    """RFC 9457 problem details, as every error of this API is reported."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
