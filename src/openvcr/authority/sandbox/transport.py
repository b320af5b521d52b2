"""An httpx transport that hands requests to the in-process simulator: the real client, no socket.

A ``drop`` fault becomes ``httpx.ReadTimeout`` after the simulator committed its work, exactly what a
lost answer looks like to the client.
"""

from __future__ import annotations

import httpx

from openvcr.authority.sandbox.simulator import Simulator


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, simulator: Simulator, *, client_cert: bytes | None = None) -> None:
        self.simulator = simulator
        self.client_cert = client_cert

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        answer = self.simulator.handle(
            request.method,
            request.url.path,
            dict(request.headers),
            body,
            client_cert=self.client_cert,
            client_ip="127.0.0.1",
        )
        if answer.drop:
            raise httpx.ReadTimeout("the sandbox dropped the answer", request=request)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)
