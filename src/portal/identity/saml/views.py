"""What Sweden Connect fetches from the portal: its SAML service provider metadata."""

from __future__ import annotations

import structlog
from django.http import Http404, HttpRequest, HttpResponse

from portal.common.routes import public, read_only
from portal.identity.providers.registry import issuer_allowed

logger = structlog.get_logger(__name__)


@public
@read_only
def metadata(request: HttpRequest) -> HttpResponse:
    """The SP's ``md:EntityDescriptor``: entity categories (service, contract), requested
    attributes, both assertion consumer services and the signing and encryption certificates.
    404 when neither Sweden Connect over SAML nor eIDAS is allowed."""
    if not (issuer_allowed("saml") or issuer_allowed("eidas")):
        raise Http404
    # pysaml2 builds its XML schemas when first imported (about a second): not at URLconf load.
    from portal.identity.saml.sp import shared_service_provider  # noqa: PLC0415

    try:
        xml = shared_service_provider().metadata_document()
    except Exception:  # missing or unreadable keys: a configuration error, logged
        logger.exception("saml_sp_metadata_unavailable")
        raise Http404 from None
    response = HttpResponse(xml, content_type="application/samlmetadata+xml; charset=utf-8")
    # Changes only with a key rollover or new settings: caches may keep it briefly.
    response["Cache-Control"] = "public, max-age=300"
    return response
