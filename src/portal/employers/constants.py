"""The employer's states and the transitions between them: the one state machine (R6, R7, R17)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EmployerState(models.TextChoices):
    NOT_CONNECTED = "not_connected", _("inte ansluten")
    PENDING = "pending", _("anslutning pågår")
    ACTIVE = "active", _("ansluten")
    DEREGISTRATION_REQUESTED = "deregistration_requested", _("avregistrering begärd")
    DEREGISTERED = "deregistered", _("avregistrerad")
    TERMINATION_NOTIFIED = "termination_notified", _("uppsagd, uppsägningstid löper")
    TERMINATED = "terminated", _("uppsagd")


class EmployerAction(models.TextChoices):
    START_ENROLMENT = "start_enrolment", _("påbörja anslutning")
    LAPSE = "lapse", _("anslutningen förföll")
    ACTIVATE = "activate", _("aktivera")
    REQUEST_DEREGISTRATION = "request_deregistration", _("begär avregistrering")
    DEREGISTER = "deregister", _("avregistrera")
    NOTIFY_TERMINATION = "notify_termination", _("säg upp")
    WITHDRAW_TERMINATION = "withdraw_termination", _("återkalla uppsägning")
    TERMINATE = "terminate", _("uppsägningen träder i kraft")


S = EmployerState
#: action -> {from state: to state}. Nothing else changes an employer's state.
TRANSITIONS: dict[EmployerAction, dict[EmployerState, EmployerState]] = {
    EmployerAction.START_ENROLMENT: {
        S.NOT_CONNECTED: S.PENDING,
        S.DEREGISTERED: S.PENDING,
        S.TERMINATED: S.PENDING,
    },
    EmployerAction.LAPSE: {S.PENDING: S.NOT_CONNECTED},
    EmployerAction.ACTIVATE: {S.PENDING: S.ACTIVE},
    EmployerAction.REQUEST_DEREGISTRATION: {
        S.ACTIVE: S.DEREGISTRATION_REQUESTED,
        S.TERMINATION_NOTIFIED: S.DEREGISTRATION_REQUESTED,
    },
    EmployerAction.DEREGISTER: {S.DEREGISTRATION_REQUESTED: S.DEREGISTERED},
    EmployerAction.NOTIFY_TERMINATION: {S.ACTIVE: S.TERMINATION_NOTIFIED},
    EmployerAction.WITHDRAW_TERMINATION: {S.TERMINATION_NOTIFIED: S.ACTIVE},
    EmployerAction.TERMINATE: {S.TERMINATION_NOTIFIED: S.TERMINATED},
}

#: States in which the employer's people can use the e-services.
CONNECTED_STATES = frozenset({S.ACTIVE, S.DEREGISTRATION_REQUESTED, S.TERMINATION_NOTIFIED})
