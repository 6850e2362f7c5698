"""What Sweden Connect's OpenID Providers fetch from the portal: its public signing keys."""

from __future__ import annotations

import structlog
from django.http import Http404, HttpRequest, JsonResponse

from portal.common.routes import public, read_only
from portal.identity.oidc.keys import UnusableKeyError, client_key
from portal.identity.providers.registry import issuer_allowed

logger = structlog.get_logger(__name__)


@public
@read_only
def jwks(request: HttpRequest) -> JsonResponse:
    """The portal's JWK set (public keys only), which an OpenID Provider uses to check the
    ``private_key_jwt`` client assertions; 404 when Sweden Connect over OpenID Connect is off or
    no key is configured."""
    if not issuer_allowed("oidc"):
        raise Http404
    try:
        key = client_key()
    except UnusableKeyError:
        logger.exception("oidc_client_key_unusable")
        raise Http404 from None
    response = JsonResponse(key.public_jwks(), content_type="application/jwk-set+json")
    # Public and changed only with a key rollover: caches may keep it briefly.
    response["Cache-Control"] = "public, max-age=300"
    return response
