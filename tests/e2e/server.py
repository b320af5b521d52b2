"""Run ``openvcr`` commands and a real ``openvcr serve`` process for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def openvcr_env(state_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVCR_")}
    env["OPENVCR_SANDBOX_STATE_DIR"] = str(state_dir)
    env.update(extra)
    return env


def run_cli(
    args: list[str],
    env: dict[str, str],
    timeout: float = 120,
    command: list[str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``openvcr ARGS`` as ``python -m openvcr`` (or ``command``, e.g. the installed ``openvcr`` script)."""
    return subprocess.run(
        [*(command or [sys.executable, "-m", "openvcr"]), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def add_console_user(database: str, env: dict[str, str], email: str, role: str, tin: str, password: str) -> None:
    """``openvcr users add`` of a console user with a password (given on stdin), asserting it succeeded."""
    args = ["users", "add", "--email", email, "--role", role, "--business", tin, "--password-stdin"]
    added = run_cli([*args, "--database", database], env, stdin=password + "\n")
    assert added.returncode == 0, added.stderr


def init_json(database: str, env: dict[str, str]) -> dict[str, Any]:
    done = run_cli(["init", "--database", database, "--json"], env)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def wait_healthy(base: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become healthy")


@contextmanager
def serve(database: str, env: dict[str, str], *extra: str, port: int | None = None) -> Iterator[tuple[str, Any]]:
    """Start ``openvcr serve`` on a free port; yield (base URL, process); stop it afterwards."""
    port = port or free_port()
    log = open(Path(env["OPENVCR_SANDBOX_STATE_DIR"]).parent / f"serve-{port}.log", "w+")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "openvcr", "serve", "--database", database, "--port", str(port), *extra],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
