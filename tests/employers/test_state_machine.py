"""The employer's life cycle: one state machine, explored with hypothesis' stateful testing."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers.constants import TRANSITIONS, EmployerAction, EmployerState
from portal.employers.models import Employer
from portal.employers.state import TransitionNotAllowed, allowed_actions, transition

SRC = Path(__file__).resolve().parents[2] / "src" / "portal"
_numbers = itertools.count(5566000000)


class EmployerLifeCycle(RuleBasedStateMachine):
    """Any sequence of actions: allowed ones move the employer exactly as the table says and are
    audited; refused ones change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.employer = Employer.objects.create(
            organisation_number=f"{next(_numbers):010d}", name="Exempel AB"
        )
        self.expected = EmployerState.NOT_CONNECTED
        self.events = 0

    @rule(action=st.sampled_from(list(EmployerAction)))
    def act(self, action: EmployerAction) -> None:
        moves = TRANSITIONS[action]
        if self.expected in moves:
            with transaction.atomic():
                transition(employer=self.employer, action=action, actor=None)
            self.expected = moves[self.expected]
            self.events += 1
        else:
            with pytest.raises(TransitionNotAllowed), transaction.atomic():
                transition(employer=self.employer, action=action, actor=None)

    @rule(
        name=st.text(
            alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
        )
    )
    def ordinary_save_never_changes_the_state(self, name: str) -> None:
        self.employer.name = name
        self.employer.state = EmployerState.TERMINATED
        self.employer.save()
        self.employer.state = self.expected

    @invariant()
    def stored_state_matches_the_table(self) -> None:
        stored = Employer.objects.get(pk=self.employer.pk)
        assert stored.state == self.expected
        assert (
            AuditEvent.objects.filter(
                event_type=EventType.EMPLOYER_STATE_CHANGED, object_id=str(stored.public_id)
            ).count()
            == self.events
        )


@pytest.mark.django_db
def test_the_life_cycle_follows_the_table() -> None:
    machine = EmployerLifeCycle.TestCase
    machine.settings = hypothesis_settings(max_examples=40, stateful_step_count=25, deadline=None)
    machine().runTest()


def test_every_state_is_reachable_and_every_action_used() -> None:
    reached = {EmployerState.NOT_CONNECTED}
    frontier = [EmployerState.NOT_CONNECTED]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            target = TRANSITIONS[action][state]
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(EmployerState)


def test_re_enrolment_after_de_registration_and_termination() -> None:
    assert (
        TRANSITIONS[EmployerAction.START_ENROLMENT][EmployerState.DEREGISTERED]
        == EmployerState.PENDING
    )
    assert (
        TRANSITIONS[EmployerAction.START_ENROLMENT][EmployerState.TERMINATED]
        == EmployerState.PENDING
    )


def test_no_other_code_writes_the_state() -> None:
    """Only the state machine assigns or updates ``state`` of an employer."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or (
            path.name in {"state.py", "models.py"} and path.parent.name == "employers"
        ):
            continue
        text = path.read_text()
        if re.search(r"employer\w*\.state\s*=(?!=)", text) or re.search(
            r"Employer\.objects[^\n]*update\([^)]*\bstate=", text
        ):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []
