"""Background work of the e-services."""

from __future__ import annotations

from django_tasks import task


@task()
def publish_intake() -> int:
    """Give newly received submissions their positions in the intake feed."""
    from portal.eservices.intake import intake_publish  # noqa: PLC0415

    return intake_publish()
