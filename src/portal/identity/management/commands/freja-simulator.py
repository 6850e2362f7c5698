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

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.freja.pki import ensure_freja_pki
from portal.identity.freja.simulator import DEFAULT_TRANSACTION_TTL, start_simulator

_MAX_PORT = 65535


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= _MAX_PORT:
        raise ValueError(text)
    return port


def _positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise ValueError(text)
    return seconds


class Command(BaseCommand):
    help = (
        "Run the local Freja eID relying-party API simulator (HTTPS with mutual TLS) and its test "
        "app (HTTP on 127.0.0.1), for development and demonstrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address of the API (default: 127.0.0.1)."
        )
        parser.add_argument(
            "--api-port", type=_port, default=8445, help="Port of the API (default: 8445)."
        )
        parser.add_argument(
            "--app-port",
            type=_port,
            default=8446,
            help="Port of the test app, always on 127.0.0.1 (default: 8446).",
        )
        parser.add_argument(
            "--pki-dir",
            type=Path,
            default=None,
            help="Directory of the test PKI, made if missing (default: VAR_DIR/freja).",
        )
        parser.add_argument(
            "--transaction-ttl",
            type=_positive_seconds,
            default=DEFAULT_TRANSACTION_TTL,
            help="Seconds before a pending transaction is EXPIRED (default: 120).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EID_SIMULATOR:
            raise CommandError(
                "The Freja eID simulator is for development only and PORTAL_EID_SIMULATOR is off."
            )
        pki_dir: Path = options["pki_dir"] or Path(settings.VAR_DIR) / "freja"
        pki = ensure_freja_pki(pki_dir)
        try:
            simulator = start_simulator(
                pki=pki,
                host=options["host"],
                api_port=options["api_port"],
                app_port=options["app_port"],
                people=DEMO_PEOPLE,
                transaction_ttl=options["transaction_ttl"],
            )
        except OSError as error:
            raise CommandError(f"Cannot start the Freja eID simulator: {error}") from None

        stopped = threading.Event()

        def stop(_signal: int, _frame: FrameType | None) -> None:
            stopped.set()

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            self.stdout.write(
                "\n".join(
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
                        "Stop with Ctrl+C.",
                    ]
                )
            )
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            simulator.stop()
