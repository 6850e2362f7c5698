"""The intake feed in the JSON API, for the agency's case-handling systems (not for people).

Authenticated with a client credential: ``Authorization: Bearer <secret>`` (``portal
intake_client <name>`` makes one). ``GET /intake/messages`` returns the submissions after a
position (by default after the client's acknowledgement), in the feed's fixed order;
``POST /intake/acknowledgements`` says how far the client has processed.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Schema
from ninja.security import HttpBearer
from pydantic import Field

from portal import audit
from portal.api.schemas import ProblemOut
from portal.audit.constants import EventType
from portal.eservices import intake
from portal.eservices.models import IntakeClient


class ClientCredential(HttpBearer):
    """The client's secret as a bearer token (only its hash is stored)."""

    def authenticate(self, request: HttpRequest, token: str) -> IntakeClient | None:
        return intake.intake_client_for(token)


router = Router(tags=["intake"], auth=ClientCredential())


class MessageOut(Schema):
    position: int
    reference: str
    eservice: str
    case_id: str
    version: int
    kind: str
    received_at: str
    employer: dict[str, str]
    flags: dict[str, Any]
    content: dict[str, Any]


class FeedOut(Schema):
    items: list[MessageOut]
    acknowledged: int = Field(description="How far this client has acknowledged.")
    next_after: int = Field(description="Ask with after= this next time.")


class AcknowledgementIn(Schema):
    position: int = Field(ge=0, le=2**63 - 1, description="Everything up to here is processed.")


def _client(request: HttpRequest) -> IntakeClient:
    client = request.auth  # type: ignore[attr-defined]
    assert isinstance(client, IntakeClient)  # noqa: S101 (the auth class returns one)
    return client


@router.get(
    "/intake/messages",
    response={200: FeedOut, 401: ProblemOut, 422: ProblemOut},
    summary="Received submissions, in feed order",
    description="The messages after position `after` (default: the client's acknowledgement), "
    "at most `limit` (1–500).",
    operation_id="intake_messages",
    url_name="intake_messages",
)
def messages(request: HttpRequest, after: int | None = None, limit: int = 100) -> FeedOut:
    client = _client(request)
    if after is not None and after < 0:
        after = 0
    found = intake.intake_read(client=client, after=after, limit=limit)
    if found:
        audit.record_read(
            EventType.INTAKE_READ,
            request=request,
            object_type="intake-client",
            object_id=client.pk,
            data={"client": client.name, "positions": [found[0].position, found[-1].position]},
        )
    start = client.acknowledged if after is None else after
    return FeedOut(
        items=[MessageOut(**intake.message_payload(message)) for message in found],
        acknowledged=client.acknowledged,
        next_after=found[-1].position if found else start,  # type: ignore[arg-type]
    )


@router.post(
    "/intake/acknowledgements",
    response={200: FeedOut, 401: ProblemOut, 422: ProblemOut},
    summary="Acknowledge processed messages",
    description="Everything up to `position` is processed. Acknowledgements never go back; a "
    "position beyond the feed is a 422 problem.",
    operation_id="intake_acknowledge",
    url_name="intake_acknowledge",
)
def acknowledge(request: HttpRequest, payload: Body[AcknowledgementIn]) -> FeedOut:
    client = intake.intake_acknowledge(client=_client(request), position=payload.position)
    return FeedOut(items=[], acknowledged=client.acknowledged, next_after=client.acknowledged)
