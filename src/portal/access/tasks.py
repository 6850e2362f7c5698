"""Background work for access: the daily round of grant expiries and access reviews."""

from __future__ import annotations

from django_tasks import task


@task()
def access_daily() -> dict[str, int]:
    """The same as ``portal access_daily``: record expired grants, schedule missing access
    reviews, send the reminders due and apply the suspension policy. Idempotent."""
    from portal.access.reviews import access_daily_run  # noqa: PLC0415

    return access_daily_run().as_dict()
