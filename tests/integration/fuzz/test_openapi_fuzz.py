"""Schemathesis over the app's own OpenAPI document: every operation, data that fits the schema and data that
does not, with a valid API key. No answer is a 5xx, and every error of the API (``/api/…``) is the envelope
``{"error", "issues"?, "requestId"}`` with the request id also in ``X-Request-Id``.

Bounded for ``make test``: ``OPENVCR_FUZZ_EXAMPLES`` examples per operation and mode (default 20), drawn
from a fixed seed (``derandomize``) so a run is repeatable; ``make fuzz`` runs 250 per operation and mode,
random, against a live ``openvcr serve`` (``OPENVCR_FUZZ_LIVE=1``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from tests.e2e.server import free_port, init_json, openvcr_env, serve
from tests.integration.foundation.conftest import Api

EXAMPLES = int(os.environ.get("OPENVCR_FUZZ_EXAMPLES", "20"))
LIVE = os.environ.get("OPENVCR_FUZZ_LIVE") == "1"
RANDOM = os.environ.get("OPENVCR_FUZZ_RANDOM") == "1"  # a fresh seed per run (make fuzz); else derandomized
ENVELOPE_KEYS = {"error", "issues", "requestId", "pending"}


class Target:
    """Where the requests go: the in-process app (its TestClient) or a live server (an httpx client)."""

    def __init__(self, client: httpx.Client, api_key: str, openapi: dict[str, Any]) -> None:
        self.client = client
        self.api_key = api_key
        self.openapi = openapi
        self.requests = 0
        self.statuses: dict[int, int] = {}

    def send(self, case: Any) -> httpx.Response:
        data = case.as_transport_kwargs(base_url=str(self.client.base_url), headers={"X-API-KEY": self.api_key})
        headers = {str(k): str(v) for k, v in (data.get("headers") or {}).items()}
        headers["X-API-KEY"] = self.api_key
        extra: dict[str, Any] = {}
        if "json" in data:
            extra["json"] = data["json"]
        elif data.get("data") is not None:
            body = data["data"]
            extra["content"] = body if isinstance(body, bytes | str) else str(body)
        try:
            request = self.client.build_request(
                data["method"], data["url"], headers=headers, params=data.get("params"), **extra
            )
        except (UnicodeEncodeError, ValueError, TypeError, httpx.InvalidURL):
            assume(False)  # the client itself cannot send it (a header outside latin-1 …)
            raise  # pragma: no cover - assume raised
        response = self.client.send(request)
        self.requests += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response


def check(case: Any, response: httpx.Response) -> None:
    where = f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    rid = response.headers.get("X-Request-Id")
    assert rid, where
    if response.status_code < 400 or not case.path.startswith("/api/"):
        return  # the public receipt pages answer HTML, for people
    body = response.json()
    assert isinstance(body, dict) and set(body) <= ENVELOPE_KEYS, where
    assert isinstance(body["error"], str) and body["error"], where
    assert body["requestId"] == rid, where
    for issue in body.get("issues", []):
        assert set(issue) == {"path", "message", "code"}, where
        assert all(isinstance(p, str | int) for p in issue["path"]), where
        assert isinstance(issue["message"], str) and len(issue["message"]) <= 1000, where


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: the fuzzing looks for answers the edge gets wrong, which do not depend on the backend."""
    return f"sqlite:///{tmp_path / 'openvcr.db'}"


@pytest.fixture
def target(api: Api, tmp_path: Path) -> Iterator[Target]:
    assert api.init.api_key is not None
    if not LIVE:
        yield Target(api.client, api.init.api_key, api.client.get("/openapi.json").json())
        return
    env = openvcr_env(tmp_path / "sandbox")
    database = f"sqlite:///{tmp_path / 'live.db'}"
    init = init_json(database, env)
    with serve(database, env, port=free_port()) as (base, _process), httpx.Client(base_url=base, timeout=30) as client:
        yield Target(client, str(init["apiKey"]), client.get("/openapi.json").json())


def operations(openapi: dict[str, Any]) -> list[Any]:
    schema = schemathesis.openapi.from_dict(openapi)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_operation_answers_a_5xx_and_every_error_is_the_envelope(target: Target) -> None:
    found = operations(target.openapi)
    assert len(found) >= 20
    skipped: list[str] = []
    for operation in found:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=EXAMPLES,
                derandomize=not RANDOM,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as is
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy, _=st.just(mode))
            def run(case: Any, _: GenerationMode) -> None:
                check(case, target.send(case))

            try:
                run()
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                skipped.append(f"{operation.method.upper()} {operation.path}")  # no input to break
    statuses = dict(sorted(target.statuses.items()))
    print(f"\nfuzz: {len(found)} operations, {target.requests} requests, statuses {statuses}, no negative: {skipped}")
    assert not any(status >= 500 for status in target.statuses)
