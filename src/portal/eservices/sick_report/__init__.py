"""Sjukanmälan efter dag 14: the sick-leave report an employer makes when an employee's sickness
continues past the sick-pay period (Sick Pay Act, SFS 1991:1047, 12 §)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.eservices import registry
from portal.eservices.sick_report.handler import SickReport

registry.register(
    registry.EService(
        code="sick_report",
        name=_("Sjukanmälan efter dag 14"),
        description=_(
            "Anmäl att en anställds sjukdom fortsätter efter sjuklöneperioden, senast sju "
            "kalenderdagar efter dag 14."
        ),
        handler=SickReport(),
    )
)
