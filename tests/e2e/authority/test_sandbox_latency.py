"""``--latency-ms``: the sandbox delays every answer by the configured time, before handling the request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openvcr.authority.client import HttpSrcGateway
from openvcr.authority.sandbox import demo
from openvcr.authority.sandbox import server as server_module
from openvcr.authority.sandbox.server import SandboxHttpServer
from openvcr.authority.sandbox.simulator import SandboxConfig, Simulator
from openvcr.authority.sandbox.state import SandboxState
from tests.e2e.server import openvcr_env, run_cli


class _Clock:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _answer_with_latency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, latency_ms: int) -> list[float]:
    clock = _Clock()
    monkeypatch.setattr(server_module, "time", clock)
    state = SandboxState(tmp_path / "sandbox")
    demo.seed_demo(state)
    server = SandboxHttpServer(("127.0.0.1", 0), Simulator(state, SandboxConfig()), latency_ms=latency_ms)
    server.start_in_thread()
    try:
        gateway = HttpSrcGateway(server.url)
        try:
            gateway.check_connection(demo.CRN)
        finally:
            gateway.close()
    finally:
        server.shutdown()
        server.server_close()
        state.close()
    return clock.sleeps


def test_latency_ms_delays_every_answer_by_that_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _answer_with_latency(tmp_path, monkeypatch, 50) == [0.05]


def test_without_latency_the_sandbox_answers_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _answer_with_latency(tmp_path, monkeypatch, 0) == []


def test_the_sandbox_command_refuses_a_negative_latency(tmp_path: Path) -> None:
    done: Any = run_cli(["sandbox", "src", "--latency-ms", "-1", "--state", str(tmp_path)], openvcr_env(tmp_path))
    assert done.returncode == 2
    assert "latency" in (done.stdout + done.stderr).lower()
