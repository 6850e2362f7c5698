"""The availability notices' e-mails to the subscribing administrators (templates under
``templates/messaging/notices_<notice>/``)."""

from __future__ import annotations

from portal.messaging.templates import register_template

_COMMON = ("employer", "title", "eservices", "all_eservices", "status_link", "subscription_link")

register_template("notices_outage_planned", required_context=(*_COMMON, "starts_at", "ends_at"))
register_template(
    "notices_outage_cancelled", required_context=(*_COMMON, "starts_at", "ends_at", "in_progress")
)
register_template(
    "notices_incident_declared", required_context=(*_COMMON, "started_at", "closes_eservices")
)
register_template("notices_incident_closed", required_context=(*_COMMON, "closed_at"))
