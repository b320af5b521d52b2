"""The edge is thin: no thread hop for a cached lookup, one for real work, and logs that never block."""

from __future__ import annotations

import inspect
import io
import json
import logging
from collections.abc import Iterator
from logging.handlers import QueueHandler
from typing import Any

import anyio.to_thread
import pytest
from fastapi.routing import APIRoute

from openvcr.api import observability
from tests.integration.foundation.conftest import Api


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every hand-off to a worker thread (Starlette's and FastAPI's ``run_in_threadpool`` end here)."""
    calls: list[Any] = []
    run_sync = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(func)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return calls


def test_whoami_and_healthz_do_not_leave_the_event_loop_on_a_cache_hit(api: Api, hops: list[Any]) -> None:
    for path in ("/api/v1/whoami", "/healthz"):
        assert api.client.get(path, headers=api.headers).status_code == 200  # fills the caches
        hops.clear()
        for _ in range(5):
            assert api.client.get(path, headers=api.headers).status_code == 200
        assert hops == [], path


def test_a_sync_endpoint_with_a_response_model_costs_one_hop(api: Api, hops: list[Any]) -> None:
    assert api.client.get("/api/v1/departments", headers=api.headers).status_code == 200
    hops.clear()
    assert api.client.get("/api/v1/departments", headers=api.headers).status_code == 200
    assert len(hops) == 1


def test_every_api_route_and_the_auth_dependency_are_coroutines(api: Api) -> None:
    routes = [r for r in api.client.app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]
    assert routes
    for route in routes:
        assert inspect.iscoroutinefunction(route.endpoint), route.path  # FastAPI adds no hop of its own
        for dependency in route.dependant.dependencies:
            assert dependency.call is None or inspect.iscoroutinefunction(dependency.call), (route.path, dependency)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("uvicorn.access").disabled)
    out = io.StringIO()
    observability.configure_logging("info", stream=out)
    try:
        yield out
    finally:
        observability.stop_logging()
        root.handlers, level, disabled = saved
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = disabled


def test_request_logs_go_through_a_queue_and_keep_their_fields(api: Api, json_log: io.StringIO) -> None:
    handlers = [h for h in logging.getLogger().handlers if not type(h).__module__.startswith("_pytest")]
    assert len(handlers) == 1 and isinstance(handlers[0], QueueHandler)  # nothing else writes on the request path
    headers = {**api.headers, "X-Request-Id": "edge-42", "User-Agent": "openvcr-python/0.3.0 httpx/0.28.1"}
    assert api.client.get("/api/v1/whoami", headers=headers).status_code == 200
    observability.stop_logging()  # writes what is queued
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [entry for entry in lines if entry["logger"] == "openvcr.access"]
    assert len(access) == 1
    entry = access[0]
    assert entry["requestId"] == "edge-42" and entry["path"] == "/api/v1/whoami" and entry["status"] == 200
    assert entry["keyId"] == 1 and entry["userAgent"] == "openvcr-python/0.3.0"
    assert entry["method"] == "GET" and entry["durationMs"] >= 0 and entry["level"] == "info"
    assert api.headers["X-API-KEY"] not in json_log.getvalue()


def test_a_queued_exception_keeps_its_traceback_and_request_id(json_log: io.StringIO) -> None:
    token = observability.request_id_var.set("rid-7")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("openvcr.api").exception("unexpected error %s", "here")
    finally:
        observability.request_id_var.reset(token)
    observability.stop_logging()
    (entry,) = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert entry["message"] == "unexpected error here" and entry["requestId"] == "rid-7"
    assert "ValueError: boom" in entry["exception"]
