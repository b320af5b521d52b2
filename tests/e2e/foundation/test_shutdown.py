"""``openvcr serve`` stops everything it started on SIGTERM or SIGINT, and a port in use is a start-up error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openvcr.cli import EXIT_CANNOT_START
from tests.e2e.server import free_port, openvcr_env, wait_healthy


def _session_members(session: int) -> list[int]:
    """Live processes of a session (the serve process and everything it started), zombies excluded."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == session:  # state, ppid, pgrp, session
            members.append(int(entry.name))
    return members


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = openvcr_env(tmp_path / "sandbox")
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 - closed with the test's tmp_path
    return subprocess.Popen(
        [sys.executable, "-m", "openvcr", "serve", "--database", f"sqlite:///{tmp_path / 's.db'}", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.mark.parametrize(("workers", "signum"), [(1, signal.SIGTERM), (2, signal.SIGTERM), (1, signal.SIGINT)])
def test_a_signal_stops_every_process_and_frees_both_ports(tmp_path: Path, workers: int, signum: int) -> None:
    port, vsdc_port = free_port(), free_port()
    process = _start(tmp_path, "--port", str(port), "--vsdc-port", str(vsdc_port), "--workers", str(workers))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        assert _accepts(vsdc_port)
        assert len(_session_members(process.pid)) >= 2  # serve and the V-SDC listener at least
        process.send_signal(signum)  # to serve alone, as a service manager does
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (_session_members(process.pid) or not _bindable(vsdc_port)):
            time.sleep(0.1)
        assert _session_members(process.pid) == [], (tmp_path / "serve.log").read_text()
        assert _bindable(port) and _bindable(vsdc_port)
        assert process.wait(timeout=1) in (0, 128 + signum)
    finally:
        if process.poll() is None or _session_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("which", ["api", "vsdc"])
def test_a_port_in_use_is_a_start_up_error(tmp_path: Path, which: str) -> None:
    port, vsdc_port = free_port(), free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port if which == "api" else vsdc_port))
        taken.listen()
        process = _start(tmp_path, "--port", str(port), "--vsdc-port", str(vsdc_port))
        try:
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    output = (tmp_path / "serve.log").read_text()
    assert code == EXIT_CANNOT_START, output
    assert f"port {port if which == 'api' else vsdc_port} on 127.0.0.1 is in use" in output
    assert _session_members(process.pid) == []


@pytest.mark.parametrize(
    ("option", "variable"), [(["--vsdc-context", "pos"], {}), ([], {"OPENVCR_VSDC_CONTEXT": "/pos/"})]
)
def test_the_v_sdc_address_printed_has_its_context(tmp_path: Path, option: list[str], variable: dict[str, str]) -> None:
    port, vsdc_port = free_port(), free_port()
    env = openvcr_env(tmp_path / "sandbox", **variable)
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "openvcr", "serve", "--database", f"sqlite:///{tmp_path / 'c.db'}", "--port", str(port),
         "--vsdc-port", str(vsdc_port), *option],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    assert f"V-SDC: https://127.0.0.1:{vsdc_port}/pos/merchant/invoice" in (tmp_path / "serve.log").read_text()
