"""What the commands that run a local e-ID counterpart share (``portal bankid-simulator``,
``freja-simulator``, ``oidc-provider`` and ``saml-idp``): they refuse to run unless
``PORTAL_EID_SIMULATOR`` is on, start the counterpart, say where it is and which settings the
portal needs for it, and serve until Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Protocol, TypeVar

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

_MAX_PORT = 65535

_Started = TypeVar("_Started")


class Stoppable(Protocol):
    def stop(self) -> None: ...


def port(text: str) -> int:
    """An argparse type: a TCP port, 0 (a free one) to 65535."""
    number = int(text)
    if not 0 <= number <= _MAX_PORT:
        raise ValueError(text)
    return number


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    seconds = float(text)
    if not seconds > 0:
        raise ValueError(text)
    return seconds


def add_port_option(parser: CommandParser, option: str, default: int, what: str) -> None:
    """``option``, a port; ``what`` starts its help, such as "Port of the RP API"."""
    parser.add_argument(option, type=port, default=default, help=f"{what} (default: {default}).")


def add_directory_option(parser: CommandParser, option: str, holding: str, default: str) -> None:
    """``option``, the directory of ``holding`` (such as "the test PKI"), by default ``default``
    (as the help says it, such as "VAR_DIR/bankid")."""
    parser.add_argument(
        option,
        type=Path,
        default=None,
        help=f"Directory of {holding}, made if missing (default: {default}).",
    )


def add_simulator_options(
    parser: CommandParser, *, api: str, api_port: int, app_port: int, pki_dir: str
) -> None:
    """--host, --api-port, --app-port and --pki-dir of a simulator with an ``api`` (such as "RP
    API") on a host of the developer's choice and a test app on 127.0.0.1."""
    parser.add_argument(
        "--host", default="127.0.0.1", help=f"Address of the {api} (default: 127.0.0.1)."
    )
    add_port_option(parser, "--api-port", api_port, f"Port of the {api}")
    add_port_option(parser, "--app-port", app_port, "Port of the test app, always on 127.0.0.1")
    add_directory_option(parser, "--pki-dir", "the test PKI", pki_dir)


def require_simulator(name: str) -> None:
    """Refuse (``CommandError``) unless the demo e-ID counterparts are on; ``name`` is what the
    command runs, such as "BankID simulator"."""
    if not settings.EID_SIMULATOR:
        raise CommandError(f"The {name} is for development only and PORTAL_EID_SIMULATOR is off.")


def start(name: str, starter: Callable[[], _Started]) -> _Started:
    """``starter()``, with a port in use or an address that cannot be bound as a
    ``CommandError``."""
    try:
        return starter()
    except OSError as error:
        raise CommandError(f"Cannot start the {name}: {error}") from None


def until_stopped(command: BaseCommand, running: Stoppable, lines: Iterable[str]) -> None:
    """Print ``lines`` (and how to stop), wait for Ctrl+C or SIGTERM, then stop ``running``."""
    stopped = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        command.stdout.write("\n".join([*lines, "Stop with Ctrl+C."]))
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        running.stop()
