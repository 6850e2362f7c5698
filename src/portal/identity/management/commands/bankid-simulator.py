# The hyphen is on purpose: the command reads `portal bankid-simulator`, and Django finds it by
# file name. It is never imported as a module.
# ruff: noqa: N999
"""``portal bankid-simulator``: the local BankID RP API v6.0 simulator and its test app.

For development and demonstrations only: it refuses to run unless ``PORTAL_EID_SIMULATOR`` is on
(the default in development, refused in production). It makes the test PKI under ``var/bankid``
if needed and serves until interrupted; the portal's BankID client uses the printed settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.identity.bankid.pki import ensure_test_pki
from portal.identity.bankid.simulator import (
    DEFAULT_ORDER_TTL,
    Script,
    parse_script_option,
    start_simulator,
)
from portal.identity.demo import DEMO_PEOPLE
from portal.identity.management import serve

_NAME = "BankID simulator"


class Command(BaseCommand):
    help = (
        "Run the local BankID RP API v6.0 simulator (HTTPS with mutual TLS) and its test app "
        "(HTTP on 127.0.0.1), for development and demonstrations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        serve.add_simulator_options(
            parser, api="RP API", api_port=8443, app_port=8444, pki_dir="VAR_DIR/bankid"
        )
        parser.add_argument(
            "--script",
            action="append",
            default=[],
            metavar="PNR=SPEC",
            help=(
                "What a person does with their orders: manual, complete:N, userCancel, "
                "expiredTransaction, startFailed, certificateErr, userDeclinedCall, "
                "transactionRiskBlocked, notSupportedByUserApp, maintenance, tooManyRequests, "
                "internalError or slow:SECONDS. Repeatable."
            ),
        )
        parser.add_argument(
            "--order-ttl",
            type=serve.positive_seconds,
            default=DEFAULT_ORDER_TTL,
            help="Seconds before a pending order fails with expiredTransaction (default: 180).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        serve.require_simulator(_NAME)
        scripts: dict[str, Script] = {}
        for text in options["script"]:
            try:
                personal_number, script = parse_script_option(text)
            except ValueError as error:
                raise CommandError(f"--script: {error}") from None
            scripts[personal_number] = script
        pki_dir: Path = options["pki_dir"] or Path(settings.VAR_DIR) / "bankid"
        pki = ensure_test_pki(pki_dir)
        simulator = serve.start(
            _NAME,
            lambda: start_simulator(
                pki=pki,
                host=options["host"],
                api_port=options["api_port"],
                app_port=options["app_port"],
                people=DEMO_PEOPLE,
                scripts=scripts,
                order_ttl=options["order_ttl"],
            ),
        )
        serve.until_stopped(
            self,
            simulator,
            [
                "BankID simulator (development and demonstrations only).",
                f"  RP API (mutual TLS): {simulator.api_url}",
                f"  Test app:            {simulator.app_url}/",
                "The portal's BankID settings for it:",
                f"  BANKID_API_URL={simulator.api_url}",
                f"  BANKID_CA_CERT={pki.ca_cert}",
                f"  BANKID_CLIENT_CERT={pki.client_cert}",
                f"  BANKID_CLIENT_KEY={pki.client_key}",
            ],
        )
