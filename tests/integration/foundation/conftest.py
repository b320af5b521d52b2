"""An initialized register behind the real app (in-process), with the in-process SRC sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.registers.service import InitResult, initialize
from openvcr.store.db import Database


@dataclass
class Api:
    client: TestClient
    db: Database
    settings: Settings
    init: InitResult

    @property
    def headers(self) -> dict[str, str]:
        assert self.init.api_key is not None
        return {"X-API-KEY": self.init.api_key}


def make_settings(db_url: str, tmp_path: Path, **overrides: object) -> Settings:
    return Settings(database_url=db_url, sandbox_state_dir=tmp_path / "sandbox", **overrides)  # type: ignore[arg-type]


@pytest.fixture
def api(database: Database, db_url: str, tmp_path: Path) -> Iterator[Api]:
    settings = make_settings(db_url, tmp_path)
    gateway = build_gateway(settings)
    result = initialize(database, settings, SrcService(database, gateway, settings))
    app = create_app(settings, db=database, gateway=gateway)
    with TestClient(app) as client:
        yield Api(client, database, settings, result)
