"""Helpers of the document engine tests: an SRC that can be taken down, crashes, document states."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select, update

from openvcr.authority.errors import AuthorityRetryable
from openvcr.documents.engine import DocumentEngine
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import registers
from tests.integration.foundation.conftest import Api


def engine_of(api: Api) -> DocumentEngine:
    engine = api.client.app.state.ctx.engine  # type: ignore[attr-defined]
    assert isinstance(engine, DocumentEngine)
    return engine


class SwitchableSrc:
    """The real gateway, but every call fails as unreachable (nothing sent) while ``down`` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if self.down:
                raise AuthorityRetryable("connection refused", sent=False)
            return attr(*args, **kwargs)

        return call


@contextmanager
def switchable_src(api: Api) -> Iterator[SwitchableSrc]:
    engine = engine_of(api)
    original = engine.src.gateway
    switch = SwitchableSrc(original)
    engine.src.gateway = switch  # type: ignore[assignment]
    try:
        yield switch
    finally:
        engine.src.gateway = original


class Crash(Exception):
    """A process dying mid-request (not an error any layer handles)."""


@contextmanager
def crash_during_send(api: Api, *, after_src_registered: bool) -> Iterator[None]:
    """The next document's first commit happens; then the 'process dies' before (or right after) SRC
    registered it — before the second commit."""
    engine = engine_of(api)
    original = engine.src.send

    def send(reservations: Any) -> Any:
        if after_src_registered:
            original(reservations)
        raise Crash

    engine.src.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        engine.src.send = original  # type: ignore[method-assign]


def post(api: Api, path: str, body: dict[str, Any], **headers: str) -> Any:
    return api.client.post(f"/api/v1{path}", json=body, headers={**api.headers, **headers})


def crashing_post(api: Api, path: str, body: dict[str, Any], **headers: str) -> None:
    try:
        post(api, path, body, **headers)
    except Crash:
        return
    raise AssertionError("the request did not reach SRC")


def states(api: Api) -> list[str]:
    with api.db.read() as conn:
        return [row[0] for row in conn.execute(select(documents.c.state).order_by(documents.c.id))]


def set_late_fiscalization(api: Api, enabled: bool) -> None:
    with api.db.write() as conn:
        conn.execute(update(registers).where(registers.c.id == api.init.register_id).values(late_fiscalization=enabled))


@contextmanager
def counting_write_commits(api: Api) -> Iterator[Callable[[], int]]:
    """Count the committed write transactions on the service database (an engine event listener)."""
    count = 0

    def on_commit(conn: Any) -> None:
        nonlocal count
        if conn.get_execution_options().get("openvcr_write"):
            count += 1

    event.listen(api.db.engine, "commit", on_commit)
    try:
        yield lambda: count
    finally:
        event.remove(api.db.engine, "commit", on_commit)
