"""The employer's state machine: the only code that changes ``Employer.state``."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

from portal import audit
from portal.audit.constants import EventType
from portal.common.errors import ConflictError
from portal.employers.constants import TRANSITIONS, EmployerAction, EmployerState
from portal.employers.models import Employer
from portal.identity.models import Person


class TransitionNotAllowed(ConflictError):
    code = "employer-transition-not-allowed"


def allowed_actions(state: EmployerState | str) -> list[EmployerAction]:
    return [action for action, moves in TRANSITIONS.items() if EmployerState(state) in moves]


def transition(
    *,
    employer: Employer,
    action: EmployerAction,
    actor: Person | None,
    request: HttpRequest | None = None,
    data: dict[str, Any] | None = None,
) -> Employer:
    """Move ``employer`` by ``action``, record it in the audit log, in the caller's transaction."""
    if not connection.in_atomic_block:
        msg = "employer transitions run inside the change's transaction"
        raise RuntimeError(msg)
    locked = Employer.objects.select_for_update().get(pk=employer.pk)
    moves = TRANSITIONS[EmployerAction(action)]
    current = EmployerState(locked.state)
    if current not in moves:
        raise TransitionNotAllowed(
            f"Arbetsgivaren kan inte {EmployerAction(action).label} i läget {current.label}.",
            extra={"state": str(current), "action": str(action)},
        )
    now = timezone.now()
    # Compare-and-set: the update only applies if nobody changed the state since it was read.
    changed = Employer.objects.filter(pk=locked.pk, state=current).update(
        state=moves[current], state_changed_at=now
    )
    if changed != 1:
        raise TransitionNotAllowed("Arbetsgivarens status ändrades samtidigt. Försök igen.")
    locked.state, locked.state_changed_at = moves[current], now
    audit.record(
        EventType.EMPLOYER_STATE_CHANGED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(locked.public_id),
        data={"action": str(action), "from": str(current), "to": str(locked.state), **(data or {})},
    )
    employer.state = locked.state
    employer.state_changed_at = locked.state_changed_at
    return locked
