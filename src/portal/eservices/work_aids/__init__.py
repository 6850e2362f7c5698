"""Bidrag till arbetshjälpmedel: an employer's application for a grant towards an aid at the
workplace for an employee with a disability, made before the aid is bought."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.eservices import registry
from portal.eservices.work_aids.handler import WorkAids

registry.register(
    registry.EService(
        code="work_aids",
        name=_("Bidrag till arbetshjälpmedel"),
        description=_(
            "Ansök om bidrag till ett hjälpmedel på arbetsplatsen för en anställd med "
            "funktionsnedsättning, innan hjälpmedlet köps in."
        ),
        handler=WorkAids(),
    )
)
