"""Writes concerning people and their sessions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from portal import audit
from portal.audit.constants import EventType
from portal.identity.models import Person


def session_end(*, request: HttpRequest, reason: str) -> None:
    """End the person's session: on logout, or when the idle or absolute lifetime has run out."""
    person = request.user if isinstance(request.user, Person) else None
    event = EventType.SESSION_ENDED if reason == "logout" else EventType.SESSION_EXPIRED
    with transaction.atomic():
        audit.record(event, actor=person, request=request, data={"reason": reason})
    logout(request)
    if reason != "logout":
        messages.info(
            request,
            _(
                "Du har loggats ut eftersom du varit inaktiv en tid eller varit inloggad länge. Logga in igen för att fortsätta."
            ),
        )
