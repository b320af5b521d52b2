"""Starting and stopping what the benchmark measures: ``openvcr serve``, the SRC sandbox, PostgreSQL databases."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent  # the directory that holds ``bench``
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def openvcr_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no OPENVCR_* from the caller, no rate limit, the sandbox state under the run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVCR_")}
    env["OPENVCR_SANDBOX_STATE_DIR"] = str(state_dir)
    env["OPENVCR_RATE_LIMIT_PER_SECOND"] = "0"
    env.update(extra)
    return env


def cli(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "openvcr", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"openvcr {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done


def cli_json(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(cli(args, env).stdout))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def _wait_healthy(base: str, path: str, process: subprocess.Popen[bytes], log: Path, workers: int, what: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{base}{path}", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become healthy; see {log}")
        time.sleep(0.2)
    if workers > 1:
        time.sleep(1.5)  # let every worker finish its start-up before the clock runs


@contextmanager
def serve(
    database: str,
    env: dict[str, str],
    log: Path,
    *,
    workers: int,
    vsdc_port: int | None = None,
    pids: list[int] | None = None,
) -> Iterator[str]:
    """``openvcr serve`` on a free port (and the V-SDC listener); yields the base URL; stops it afterwards."""
    port = free_port()
    args = [sys.executable, "-m", "openvcr", "serve", "--database", database, "--port", str(port)]
    args += ["--workers", str(workers)]
    if vsdc_port is not None:
        args += ["--vsdc-port", str(vsdc_port)]
    with open(log, "ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    if pids is not None:
        pids.append(process.pid)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, "/healthz", process, log, workers, "openvcr serve")
        if vsdc_port is not None:
            _wait_port(vsdc_port, process)
        yield base
    finally:
        _stop(process)


@contextmanager
def reference(kind: str, env: dict[str, str], log: Path, *, workers: int) -> Iterator[str]:
    """A reference app of ``bench.reference`` (``floor``, ``naive``), served like ``openvcr serve``; yields its URL.

    The naive service reads its database from ``NAIVE_DATABASE_URL`` in ``env``.
    """
    from bench.reference import READY_PATHS

    port = free_port()
    args = [sys.executable, "-m", "bench.reference", kind, "--port", str(port), "--workers", str(workers)]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, READY_PATHS[kind], process, log, workers, f"bench.reference {kind}")
        yield base
    finally:
        _stop(process)


@contextmanager
def sandbox(state: Path, env: dict[str, str], log: Path, *, latency_ms: int) -> Iterator[str]:
    """``openvcr sandbox src`` as its own process with added latency; yields its SRC URL."""
    port = free_port()
    args = [sys.executable, "-m", "openvcr", "sandbox", "src", "--port", str(port), "--state", str(state)]
    args += ["--latency-ms", str(latency_ms)]
    with open(log, "ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_port(port, process)
        yield f"http://127.0.0.1:{port}/taxsystem-rs-vcr"
    finally:
        _stop(process)


def postgres_admin_url() -> str | None:
    url = os.environ.get("OPENVCR_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_POSTGRES
    except OSError:
        return None


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def create_postgres_database(admin: str) -> str:
    import psycopg

    name = "ovcr_bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin if "+psycopg" in admin else admin.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base.rpartition('/')[0]}/{name}"


def drop_postgres_database(admin: str, url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
