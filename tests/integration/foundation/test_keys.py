"""API keys: scopes, rotation overlap, revocation, rate limit, and never stored in clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openvcr.api.app import create_app
from openvcr.core.errors import ValidationFailed
from openvcr.registers.keys import create_key, hash_key, revoke_key, rotate_key
from openvcr.store.schema.foundation import api_keys
from tests.integration.foundation.conftest import Api, make_settings


def test_keys_are_stored_only_as_sha256(api: Api) -> None:
    assert api.init.api_key is not None
    with api.db.read() as conn:
        rows = conn.execute(select(api_keys)).all()
    assert [r.key_hash for r in rows] == [hash_key(api.init.api_key)]
    assert all(api.init.api_key not in str(tuple(r)) for r in rows)
    assert rows[0].prefix == api.init.api_key[:12]


def test_a_key_without_the_scope_is_403(api: Api) -> None:
    with api.db.write() as conn:
        issued = create_key(conn, api.init.register_id, ("account:read",))
    headers = {"X-API-KEY": issued.key}
    assert api.client.get("/api/v1/whoami", headers=headers).status_code == 200
    response = api.client.get("/api/v1/offers", headers=headers)
    assert response.status_code == 403 and "catalog:read" in response.json()["error"]


def test_unknown_scope_is_refused() -> None:
    from openvcr.registers.keys import check_scopes

    with pytest.raises(ValidationFailed):
        check_scopes(("sales:everything",))


def test_revoked_key_is_401_at_once(api: Api) -> None:
    with api.db.write() as conn:
        issued = create_key(conn, api.init.register_id)
        revoke_key(conn, issued.id)
    assert api.client.get("/api/v1/whoami", headers={"X-API-KEY": issued.key}).status_code == 401


def test_rotation_keeps_the_old_key_for_the_overlap_only(api: Api) -> None:
    with api.db.write() as conn:
        old = create_key(conn, api.init.register_id)
        new = rotate_key(conn, old.id, overlap_seconds=3600)
    assert api.client.get("/api/v1/whoami", headers={"X-API-KEY": old.key}).status_code == 200
    assert api.client.get("/api/v1/whoami", headers={"X-API-KEY": new.key}).status_code == 200
    with api.db.write() as conn:
        old2 = create_key(conn, api.init.register_id)
        rotate_key(conn, old2.id, overlap_seconds=0)
    assert api.client.get("/api/v1/whoami", headers={"X-API-KEY": old2.key}).status_code == 401


def test_rate_limit_is_429_with_retry_after(api: Api, tmp_path: Path) -> None:
    settings = make_settings(api.settings.database_url, tmp_path, rate_limit_per_second=0.5, rate_limit_burst=2)
    app = create_app(settings, db=api.db, gateway=api.client.app.state.ctx.gateway)  # type: ignore[attr-defined]
    with TestClient(app) as client:
        statuses = [client.get("/api/v1/whoami", headers=api.headers).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = client.get("/api/v1/whoami", headers=api.headers)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]
