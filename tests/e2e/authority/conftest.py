"""A sandbox server on a free loopback port, in a thread: plain HTTP, TLS or mutual TLS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openvcr.authority.sandbox import ca, demo
from openvcr.authority.sandbox.ca import CaFiles, ClientFiles
from openvcr.authority.sandbox.server import SandboxHttpServer, ServerTls
from openvcr.authority.sandbox.simulator import SandboxConfig, Simulator
from openvcr.authority.sandbox.state import SandboxState


@dataclass
class Running:
    server: SandboxHttpServer
    state: SandboxState
    directory: Path
    ca: CaFiles | None
    client: ClientFiles | None

    @property
    def url(self) -> str:
        return self.server.url


def start(directory: Path, *, tls: bool = False, mutual: bool = False, **config: object) -> Running:
    state = SandboxState(directory)
    demo.seed_demo(state)
    files = client = None
    server_tls = None
    if tls or mutual:
        files = ca.init_ca(directory)
        server_tls = ServerTls(files.server_cert, files.server_key, files.ca_cert if mutual else None)
        client = ca.issue_client_certificate(directory, state, crn=demo.CRN, tin=demo.TIN, out_dir=directory / "client")
    simulator = Simulator(state, SandboxConfig(require_client_cert=mutual, **config))  # type: ignore[arg-type]
    server = SandboxHttpServer(("127.0.0.1", 0), simulator, server_tls)
    server.start_in_thread()
    return Running(server, state, directory, files, client)


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[object]:
    running: list[Running] = []

    def factory(**options: object) -> Running:
        item = start(tmp_path / f"sandbox{len(running)}", **options)  # type: ignore[arg-type]
        running.append(item)
        return item

    yield factory
    for item in running:
        item.server.shutdown()
        item.server.server_close()
        item.state.close()
