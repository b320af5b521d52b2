"""The per-worker key cache: the revocation delay is the contract; expiry and new keys are never delayed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select, update

from openvcr.api.app import create_app
from openvcr.registers.keys import create_key, generate_key, hash_key, revoke_key, rotate_key
from openvcr.store.db import now_ms
from openvcr.store.schema.foundation import api_keys
from tests.integration.foundation.conftest import Api, make_settings

MARGIN = 1.0  # seconds for the request itself on a loaded machine; the bound asserted is delay + MARGIN


@contextmanager
def app_with_cache(api: Api, tmp_path: Path, seconds: float) -> Iterator[TestClient]:
    settings = make_settings(api.settings.database_url, tmp_path, key_cache_seconds=seconds)
    app = create_app(settings, db=api.db, gateway=api.client.app.state.ctx.gateway)  # type: ignore[attr-defined]
    with TestClient(app) as client:
        yield client


def whoami(client: TestClient, key: str) -> int:
    return client.get("/api/v1/whoami", headers={"X-API-KEY": key}).status_code


def seconds_until_refused(client: TestClient, key: str, limit: float) -> float:
    started = time.monotonic()
    while whoami(client, key) != 401:
        assert time.monotonic() - started < limit, f"the key still worked {limit} s after it was revoked"
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_revoked_key_stops_working_within_the_cache_delay(api: Api, tmp_path: Path) -> None:
    delay = 0.5
    with api.db.write() as conn:
        issued = create_key(conn, api.init.register_id)
    with app_with_cache(api, tmp_path, delay) as client:
        assert whoami(client, issued.key) == 200
        with api.db.write() as conn:
            revoke_key(conn, issued.id)
        seconds_until_refused(client, issued.key, delay + MARGIN)
        assert [whoami(client, issued.key) for _ in range(3)] == [401, 401, 401]


def test_a_cached_key_is_not_read_again_within_the_delay(api: Api, tmp_path: Path) -> None:
    with api.db.write() as conn:
        issued = create_key(conn, api.init.register_id)
    with app_with_cache(api, tmp_path, 60) as client:
        assert whoami(client, issued.key) == 200
        with api.db.write() as conn:
            revoke_key(conn, issued.id)
        assert whoami(client, issued.key) == 200  # served from the cache: the delay is real, and bounded


def test_without_a_cache_a_revoked_key_is_refused_at_once(api: Api, tmp_path: Path) -> None:
    with api.db.write() as conn:
        issued = create_key(conn, api.init.register_id)
    with app_with_cache(api, tmp_path, 0) as client:
        assert whoami(client, issued.key) == 200
        with api.db.write() as conn:
            revoke_key(conn, issued.id)
        assert whoami(client, issued.key) == 401


def test_a_rotated_out_key_stops_working_within_the_delay_and_its_successor_works_at_once(
    api: Api, tmp_path: Path
) -> None:
    delay = 0.5
    with api.db.write() as conn:
        old = create_key(conn, api.init.register_id)
    with app_with_cache(api, tmp_path, delay) as client:
        assert whoami(client, old.key) == 200
        with api.db.write() as conn:
            new = rotate_key(conn, old.id, overlap_seconds=0)
        assert whoami(client, new.key) == 200
        seconds_until_refused(client, old.key, delay + MARGIN)
        assert whoami(client, new.key) == 200


def test_a_new_key_works_at_once_even_after_it_was_refused(api: Api, tmp_path: Path) -> None:
    key = generate_key()
    with app_with_cache(api, tmp_path, 60) as client:
        assert whoami(client, key) == 401  # unknown: refused, and not remembered
        with api.db.write() as conn:
            conn.execute(
                insert(api_keys).values(
                    register_id=api.init.register_id,
                    prefix=key[:12],
                    key_hash=hash_key(key),
                    scopes="account:read",
                    created_at=now_ms(),
                )
            )
        assert whoami(client, key) == 200


def test_an_expired_key_is_refused_the_moment_it_expires_though_cached(api: Api, tmp_path: Path) -> None:
    with api.db.write() as conn:
        issued = create_key(conn, api.init.register_id)
        expires_at = now_ms() + 1500
        conn.execute(update(api_keys).where(api_keys.c.id == issued.id).values(expires_at=expires_at))
    with app_with_cache(api, tmp_path, 60) as client:
        assert whoami(client, issued.key) == 200  # cached now, for a minute
        time.sleep(max(0.0, (expires_at - now_ms()) / 1000) + 0.01)
        assert whoami(client, issued.key) == 401


def test_last_used_at_is_written_once_a_minute_and_never_on_the_request_thread(api: Api, tmp_path: Path) -> None:
    with api.db.write() as conn:
        issued = create_key(conn, api.init.register_id)
    writers: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            writers.append(threading.current_thread().name)

    event.listen(api.db.engine, "before_cursor_execute", on_execute)
    try:
        with app_with_cache(api, tmp_path, 60) as client:
            assert [whoami(client, issued.key) for _ in range(5)] == [200] * 5
        # leaving the app (its lifespan) writes what was pending
    finally:
        event.remove(api.db.engine, "before_cursor_execute", on_execute)
    with api.db.read() as conn:
        used = conn.execute(select(api_keys.c.last_used_at).where(api_keys.c.id == issued.id)).scalar_one()
    assert used is not None and used <= now_ms()
    assert len(writers) == 1 and writers[0].startswith("openvcr-key-use")
