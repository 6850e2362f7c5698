# The hyphen is on purpose: the command reads `portal saml-idp`, and Django finds it by file name.
# It is never imported as a module.
# ruff: noqa: N999
"""``portal saml-idp``: the local test IdP standing in for Sweden Connect (a Swedish IdP and the
eIDAS connector), on http://127.0.0.1:8448.

For development and demonstrations only: it refuses to run unless ``PORTAL_EID_SIMULATOR`` is on
(the default in development, refused in production). It makes its keys under ``var/saml/idp`` if
needed (the metadata signing certificate there is the development default of
``SAML_METADATA_SIGNING_CERT``) and reads the portal's SP metadata in-process from the same
settings, or from ``--sp-metadata`` (a URL or a file).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.management import serve
from portal.identity.saml.idp import DEFAULT_PORT, ensure_idp_keys, start_idp
from portal.identity.saml.metadata import MetadataError, read_source
from portal.identity.saml.sp import shared_service_provider

_NAME = "SAML test IdP"
#: How long SP metadata read from --sp-metadata is reused before it is read again.
_SP_METADATA_SECONDS = 30.0


def _sp_metadata_from(source: str) -> Callable[[], str]:
    cached: list[tuple[float, str]] = []

    def read() -> str:
        if cached and time.monotonic() - cached[0][0] < _SP_METADATA_SECONDS:
            return cached[0][1]
        text = read_source(source).decode("utf-8")
        cached[:] = [(time.monotonic(), text)]
        return text

    return read


class Command(BaseCommand):
    help = (
        "Run the local SAML test IdP (Swedish e-ID and the eIDAS connector, as in Sweden "
        "Connect) on http://127.0.0.1, for development and demonstrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        serve.add_port_option(parser, "--port", DEFAULT_PORT, "Port on 127.0.0.1")
        serve.add_directory_option(parser, "--key-dir", "the IdP's keys", "VAR_DIR/saml/idp")
        parser.add_argument(
            "--sp-metadata",
            default="",
            help=(
                "The portal's SP metadata, a URL (e.g. http://127.0.0.1:8000/saml/metadata.xml) "
                "or a file. Default: made in-process from this process's settings."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serve.require_simulator(_NAME)
        key_dir: Path = options["key_dir"] or Path(settings.VAR_DIR) / "saml" / "idp"
        keys = ensure_idp_keys(key_dir)
        source: str = options["sp_metadata"]
        sp_metadata: Callable[[], str] = (
            _sp_metadata_from(source)
            if source
            else lambda: shared_service_provider().metadata_document()
        )
        if source:
            try:
                sp_metadata()
            except MetadataError as error:
                raise CommandError(f"Cannot read the SP metadata: {error}") from None
        idp = serve.start(
            _NAME,
            lambda: start_idp(
                keys=keys, sp_metadata=sp_metadata, port=options["port"], people=DEMO_PEOPLE
            ),
        )
        serve.until_stopped(
            self,
            idp,
            [
                "SAML test IdP (development and demonstrations only).",
                f"  Metadata (signed): {idp.metadata_url}",
                f"  Swedish IdP:       {idp.entity_id('se')}",
                f"  eIDAS connector:   {idp.entity_id('eidas')}",
                "The portal's SAML settings for it:",
                f"  SAML_IDP_METADATA={idp.metadata_url}",
                f"  SAML_METADATA_SIGNING_CERT={idp.metadata_signing_cert}",
                f"  SAML_IDP_ENTITY_ID={idp.entity_id('se')}",
                f"  SAML_EIDAS_IDP_ENTITY_ID={idp.entity_id('eidas')}",
            ],
        )
