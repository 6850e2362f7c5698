# The hyphen is on purpose: the command reads `portal freja-simulator`, and Django finds it by
# file name. It is never imported as a module.
# ruff: noqa: N999
"""``portal freja-simulator``: the local Freja eID relying-party API simulator and its test app.

For development and demonstrations only: it refuses to run unless ``PORTAL_EID_SIMULATOR`` is on
(the default in development, refused in production). It makes the test PKI under ``var/freja`` if
needed (TLS, and the key that signs the results) and serves until interrupted; the portal's Freja
client uses the printed settings, which are also the development defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.freja.pki import ensure_freja_pki
from portal.identity.freja.simulator import DEFAULT_TRANSACTION_TTL, start_simulator
from portal.identity.management import serve

_NAME = "Freja eID simulator"


class Command(BaseCommand):
    help = (
        "Run the local Freja eID relying-party API simulator (HTTPS with mutual TLS) and its test "
        "app (HTTP on 127.0.0.1), for development and demonstrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        serve.add_simulator_options(
            parser, api="API", api_port=8445, app_port=8446, pki_dir="VAR_DIR/freja"
        )
        parser.add_argument(
            "--transaction-ttl",
            type=serve.positive_seconds,
            default=DEFAULT_TRANSACTION_TTL,
            help="Seconds before a pending transaction is EXPIRED (default: 120).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serve.require_simulator(_NAME)
        pki_dir: Path = options["pki_dir"] or Path(settings.VAR_DIR) / "freja"
        pki = ensure_freja_pki(pki_dir)
        simulator = serve.start(
            _NAME,
            lambda: start_simulator(
                pki=pki,
                host=options["host"],
                api_port=options["api_port"],
                app_port=options["app_port"],
                people=DEMO_PEOPLE,
                transaction_ttl=options["transaction_ttl"],
            ),
        )
        serve.until_stopped(
            self,
            simulator,
            [
                "Freja eID simulator (development and demonstrations only).",
                f"  API (mutual TLS): {simulator.api_url}",
                f"  Test app:         {simulator.app_url}/",
                "The portal's Freja settings for it:",
                f"  FREJA_API_URL={simulator.api_url}",
                f"  FREJA_CA_CERT={pki.ca_cert}",
                f"  FREJA_CLIENT_CERT={pki.client_cert}",
                f"  FREJA_CLIENT_KEY={pki.client_key}",
                f"  FREJA_SIGNING_CERT={pki.signing_cert}",
                f"  FREJA_SIMULATOR_APP_URL={simulator.app_url}",
            ],
        )
