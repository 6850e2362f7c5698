"""A real portal server process (gunicorn) for tests that must see what a browser or a load
balancer sees: start-up checks, static files, headers, and the database being unreachable."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent


def answers_health(base_url: str, timeout: float = 2) -> bool:
    """Whether the portal at ``base_url`` answers /healthz with 200 (False while it cannot be
    reached)."""
    try:
        return httpx.get(f"{base_url}/healthz", timeout=timeout).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Terminate ``process``, and kill it if it has not ended within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def portal_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a portal process with its own SQLite database and var/ under tmp_path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTAL_", "DATABASE_", "DJANGO_", "BANKID_", "EID_"))
        and key not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    env.update(
        {
            "PORTAL_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            "PORTAL_LOG_FORMAT": "json",
        }
    )
    env.update(overrides)
    return env


def run_portal(
    args: list[str], env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "portal"), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


#: Migrated SQLite databases (without and with the demo data), made once per test process: a
#: portal's migrations and demo data take seconds to run and come out the same every time.
_TEMPLATES: dict[bool, Path] = {}


def _migrate(env: Mapping[str, str], *, demo_data: bool) -> None:
    for command in [["migrate", "--noinput"]] + ([["load_demo_data"]] if demo_data else []):
        done = run_portal(command, env)
        assert done.returncode == 0, done.stderr


def _template(demo_data: bool) -> Path:
    if demo_data not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="portal-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _migrate(portal_env(folder), demo_data=demo_data)
        _TEMPLATES[demo_data] = folder / "portal.sqlite3"
    return _TEMPLATES[demo_data]


def prepare_database(env: Mapping[str, str], *, demo_data: bool = False) -> None:
    """Migrate the portal's database in ``env`` (and load the demo data): a new SQLite file is a
    copy of this process's template, anything else is migrated by the command."""
    url = env["DATABASE_URL"]
    target = Path(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite:///") and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # The portal's processes have ended, so the template's write-ahead log is checkpointed.
        shutil.copyfile(_template(demo_data), target)
    else:
        _migrate(env, demo_data=demo_data)


@contextmanager
def portal_server(
    env: Mapping[str, str],
    *,
    migrate: bool = True,
    collectstatic: bool = False,
    demo_data: bool = False,
    port: int = 0,
) -> Iterator[str]:
    """Start gunicorn on ``port`` (0: a free one) with ``env``; yield its base URL; stop it
    afterwards."""
    if migrate:
        prepare_database(env, demo_data=demo_data)
    elif demo_data:
        done = run_portal(["load_demo_data"], env)
        assert done.returncode == 0, done.stderr
    if collectstatic:
        done = run_portal(["collectstatic", "--noinput"], env)
        assert done.returncode == 0, done.stderr
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "portal.config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
        ],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"the portal server exited at start-up:\n{output}")
            if answers_health(base_url, timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the portal server did not answer /healthz within 30 s")
            time.sleep(0.1)
        yield base_url
    finally:
        stop(process)
        if process.stdout:
            process.stdout.close()
