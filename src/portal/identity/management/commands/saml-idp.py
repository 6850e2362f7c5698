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

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.saml.idp import DEFAULT_PORT, ensure_idp_keys, start_idp
from portal.identity.saml.metadata import MetadataError, read_source
from portal.identity.saml.sp import shared_service_provider

_MAX_PORT = 65535
#: How long SP metadata read from --sp-metadata is reused before it is read again.
_SP_METADATA_SECONDS = 30.0


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= _MAX_PORT:
        raise ValueError(text)
    return port


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
        parser.add_argument(
            "--port",
            type=_port,
            default=DEFAULT_PORT,
            help=f"Port on 127.0.0.1 (default: {DEFAULT_PORT}).",
        )
        parser.add_argument(
            "--key-dir",
            type=Path,
            default=None,
            help="Directory of the IdP's keys, made if missing (default: VAR_DIR/saml/idp).",
        )
        parser.add_argument(
            "--sp-metadata",
            default="",
            help=(
                "The portal's SP metadata, a URL (e.g. http://127.0.0.1:8000/saml/metadata.xml) "
                "or a file. Default: made in-process from this process's settings."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EID_SIMULATOR:
            raise CommandError(
                "The SAML test IdP is for development only and PORTAL_EID_SIMULATOR is off."
            )
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
        try:
            idp = start_idp(
                keys=keys, sp_metadata=sp_metadata, port=options["port"], people=DEMO_PEOPLE
            )
        except OSError as error:
            raise CommandError(f"Cannot start the SAML test IdP: {error}") from None

        stopped = threading.Event()

        def stop(_signal: int, _frame: FrameType | None) -> None:
            stopped.set()

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            self.stdout.write(
                "\n".join(
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
                        "Stop with Ctrl+C.",
                    ]
                )
            )
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            idp.stop()
