"""The revocation delay, against a real ``openvcr serve --workers 2``: a key revoked with the CLI is refused by
every worker within ``OPENVCR_KEY_CACHE_SECONDS`` (the bound is the contract; nothing stricter is asserted)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.e2e.server import init_json, openvcr_env, run_cli, serve

DELAY = 1.0
MARGIN = 1.5  # a request's own time on a loaded machine


def test_a_key_revoked_with_the_cli_is_refused_by_every_worker_within_the_delay(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'r.db'}"
    env = openvcr_env(tmp_path / "sandbox", OPENVCR_KEY_CACHE_SECONDS=str(DELAY))
    init_json(database, env)
    created = run_cli(["keys", "create", "--database", database, "--scope", "account:read", "--json"], env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    headers = {"X-API-KEY": key["key"]}

    def status() -> int:  # a new connection each time: the kernel spreads them over both workers
        return httpx.get(f"{base}/api/v1/whoami", headers=headers, timeout=10).status_code

    with serve(database, env, "--workers", "2") as (base, _process):
        assert [status() for _ in range(20)] == [200] * 20  # both workers now hold the key in their cache
        revoked = run_cli(["keys", "revoke", str(key["id"]), "--database", database, "--json"], env)
        assert revoked.returncode == 0, revoked.stderr
        committed_by = time.monotonic()  # the revocation committed before the command returned
        while status() != 401:
            assert time.monotonic() - committed_by < DELAY + MARGIN, "a worker still accepted the revoked key"
            time.sleep(0.05)
        time.sleep(max(0.0, committed_by + DELAY - time.monotonic()))  # every worker's entry has now expired
        assert [status() for _ in range(20)] == [401] * 20
