"""Background work for employers: enrolments that lapse."""

from __future__ import annotations

from django_tasks import task

from portal.employers.models import Enrolment


@task()
def expire_enrolment(public_id: str) -> bool:
    """Runs at the enrolment's expiry time; does nothing if it was completed meanwhile."""
    from portal.employers.services import enrolment_expire  # noqa: PLC0415

    enrolment = Enrolment.objects.filter(public_id=public_id).first()
    return enrolment is not None and enrolment_expire(enrolment=enrolment)


@task()
def process_deregistration(public_id: str) -> bool:
    """De-register an employer whose request was received (within minutes of the request)."""
    from portal.employers.deregistration import deregistration_process  # noqa: PLC0415
    from portal.employers.models import DeregistrationRequest  # noqa: PLC0415

    deregistration = DeregistrationRequest.objects.filter(public_id=public_id).first()
    return deregistration is not None and deregistration_process(deregistration=deregistration)


@task()
def terminate_employer(public_id: str) -> bool:
    """Runs on the termination date; does nothing if the termination was withdrawn."""
    from portal.employers.models import Termination  # noqa: PLC0415
    from portal.employers.termination import termination_take_effect  # noqa: PLC0415

    termination = Termination.objects.filter(public_id=public_id).first()
    return termination is not None and termination_take_effect(termination=termination)
