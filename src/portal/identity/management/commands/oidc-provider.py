# The hyphen is on purpose: the command reads `portal oidc-provider`, and Django finds it by file
# name. It is never imported as a module.
# ruff: noqa: N999
"""``portal oidc-provider``: a local OpenID Provider standing in for Sweden Connect.

For development and demonstrations only: it refuses to run unless ``PORTAL_EID_SIMULATOR`` is on
(the default in development, refused in production). It signs with a key under ``var/oidc`` (made
at first start), knows the portal as a client (``OIDC_CLIENT_ID``, the portal's callback address,
and the portal's public key from ``OIDC_CLIENT_KEY`` or its ``/oidc/jwks.json``) and serves on
http://127.0.0.1:8447 until interrupted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.management import serve
from portal.identity.oidc.keys import (
    UnusableKeyError,
    client_key,
    ensure_private_key,
    load_signing_key,
)
from portal.identity.oidc.op import RegisteredClient, start_op

_NAME = "local OpenID Provider"


class Command(BaseCommand):
    help = (
        "Run a local OpenID Provider after the Swedish OpenID Connect Profile (plain HTTP on "
        "127.0.0.1), standing in for Sweden Connect in development and demonstrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        serve.add_port_option(parser, "--port", 8447, "Port on 127.0.0.1")
        serve.add_directory_option(
            parser, "--key-dir", "the provider's signing key", "VAR_DIR/oidc"
        )
        parser.add_argument(
            "--client-id",
            default=None,
            help="The portal's client_id (default: OIDC_CLIENT_ID).",
        )
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help=(
                "A registered redirect URI (repeatable; default: the portal's callback under "
                "PORTAL_BASE_URL)."
            ),
        )
        parser.add_argument(
            "--client-jwks-uri",
            default=None,
            help=(
                "Fetch the portal's public keys from this address (e.g. "
                "http://127.0.0.1:8000/oidc/jwks.json) instead of reading OIDC_CLIENT_KEY."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serve.require_simulator(_NAME)
        key_dir: Path = options["key_dir"] or Path(settings.VAR_DIR) / "oidc"
        try:
            signing_key = load_signing_key(ensure_private_key(key_dir / "op.key", "rsa"))
        except UnusableKeyError as error:
            raise CommandError(str(error)) from None
        client_id: str = options["client_id"] or settings.OIDC_CLIENT_ID
        redirect_uris = tuple(options["redirect_uri"]) or (
            settings.BASE_URL + reverse("identity:callback", kwargs={"provider": "oidc"}),
        )
        jwks_uri: str | None = options["client_jwks_uri"]
        jwks = None
        if jwks_uri is None:
            try:
                jwks = client_key().public_jwks()
            except UnusableKeyError as error:
                raise CommandError(f"The portal's client key: {error}") from None
        provider = serve.start(
            _NAME,
            lambda: start_op(
                signing_key=signing_key,
                clients=[
                    RegisteredClient(
                        client_id=client_id,
                        redirect_uris=redirect_uris,
                        jwks=jwks,
                        jwks_uri=jwks_uri,
                    )
                ],
                people=DEMO_PEOPLE,
                port=options["port"],
            ),
        )
        lines = [
            "Local OpenID Provider for Sweden Connect (development and demonstrations only).",
            f"  Issuer:    {provider.issuer}",
            f"  Discovery: {provider.issuer}/.well-known/openid-configuration",
            f"  Client:    {client_id}",
            *(f"  Redirect:  {uri}" for uri in redirect_uris),
            f"  Client keys: {jwks_uri or settings.OIDC_CLIENT_KEY}",
            "The portal's settings for it:",
            f"  OIDC_ISSUER={provider.issuer}",
            f"  OIDC_CLIENT_ID={client_id}",
        ]
        if provider.issuer != settings.OIDC_ISSUER:
            lines.append(
                f"Note: OIDC_ISSUER is {settings.OIDC_ISSUER!r}; the portal will not use this "
                "provider until it is set as above."
            )
        serve.until_stopped(self, provider, lines)
