from __future__ import annotations

from datetime import datetime

from ninja import Schema


class EServiceStatusOut(Schema):
    code: str
    name: str
    status: str


class PlannedOutageOut(Schema):
    starts_at: datetime
    ends_at: datetime
    title: str
    eservice_codes: list[str]


class StatusOut(Schema):
    eservices: list[EServiceStatusOut]
    planned_outages: list[PlannedOutageOut]


class ProblemOut(Schema):
    """RFC 9457 problem details, as every error of this API is reported."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
