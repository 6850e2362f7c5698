"""``portal audit``: the audit log's tree from the command line.

- ``portal audit seal [--follow]``: seal committed events into the tree and sign a new head (with
  ``--follow``: keep doing so every second; ``make run`` starts it, production runs it as a
  service).
- ``portal audit verify``: recompute the whole tree from the stored events and check every signed
  head. Exits 0 when everything verifies, 1 naming the first bad event otherwise.
- ``portal audit export [--output FILE]``: JSON Lines of every event (its canonical object and leaf
  number) and every signed tree head, for an external archive or verifier.
- ``portal audit purge [--before YYYY-MM-DD] [--dry-run]``: remove events older than the retention
  period (``PORTAL_AUDIT_RETENTION_YEARS``), a month at a time, keeping their hashes and every tree
  head. Run monthly as the tables' owner.
"""

from __future__ import annotations

import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.audit import tree


class Command(BaseCommand):
    help = "Seal, verify or export the audit log's Merkle tree."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        seal = commands.add_parser("seal", help="seal committed events and sign a tree head")
        seal.add_argument("--follow", action="store_true", help="keep sealing every second")
        seal.add_argument("--interval", type=float, default=1.0, help="seconds between runs")
        commands.add_parser("verify", help="recompute the tree and check every signed head")
        export = commands.add_parser("export", help="JSON Lines of events and tree heads")
        export.add_argument("--output", "-o", help="file to write (default: standard output)")
        purge = commands.add_parser("purge", help="remove events past the retention period")
        purge.add_argument(
            "--before",
            type=date.fromisoformat,
            help="first day to keep (default: the retention cutoff)",
        )
        purge.add_argument("--dry-run", action="store_true", help="only say what would go")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "seal":
            self._seal(follow=options["follow"], interval=options["interval"])
        elif action == "verify":
            self._verify()
        elif action == "export":
            self._export(options.get("output"))
        elif action == "purge":
            self._purge(before=options.get("before"), dry_run=options["dry_run"])

    def _purge(self, *, before: date | None, dry_run: bool) -> None:
        cutoff = before or tree.retention_cutoff()
        done = tree.purge(before=cutoff, dry_run=dry_run)
        if done is None:
            self.stdout.write(f"Nothing recorded before {cutoff} is left to purge.")
        elif dry_run:
            self.stdout.write(f"Would purge {done.events} events recorded before {cutoff}.")
        else:
            self.stdout.write(
                f"Purged {done.events} events recorded before {cutoff} (leaves up to "
                f"{done.up_to_seq}); their hashes and the tree heads are kept."
            )

    def _seal(self, *, follow: bool, interval: float) -> None:
        if not follow:
            self.stdout.write(f"Sealed {tree.seal_all()} events.")
            return
        stopping = False

        def stop(*_args: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        looked_back = -float("inf")
        while not stopping:
            look_back = time.monotonic() - looked_back >= tree.LOOK_BACK_EVERY.total_seconds()
            tree.seal_pending(look_back=look_back)
            if look_back:
                looked_back = time.monotonic()
            time.sleep(interval)

    def _verify(self) -> None:
        started = time.perf_counter()
        report = tree.verify()
        seconds = time.perf_counter() - started
        if report.ok:
            self.stdout.write(
                f"The audit log verifies: {report.events} events, {report.heads} signed tree "
                f"heads ({seconds:.1f} s)"
                + (
                    f"; {report.purged} purged events verified by their kept hashes."
                    if report.purged
                    else "."
                )
            )
            return
        for problem in report.problems[:50]:
            self.stderr.write(problem)
        raise CommandError(
            f"The audit log does NOT verify: {len(report.problems)} problems; the first: "
            f"{report.problems[0]}",
            returncode=1,
        )

    def _export(self, output: str | None) -> None:
        if output:
            with Path(output).open("wb") as stream:
                count = sum(stream.write(line) > 0 for line in tree.export_lines())
            self.stdout.write(f"Wrote {count} lines to {output}.")
        else:
            for line in tree.export_lines():
                sys.stdout.buffer.write(line)
            sys.stdout.flush()
