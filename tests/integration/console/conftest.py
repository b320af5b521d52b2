"""Two businesses on one database behind the real app: A (the first register, with the demo catalogue) and
B (a second sandbox register of another business), with console users of every role in A and an owner in B."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.console.service import add_user
from openvcr.registers.service import InitResult, initialize
from openvcr.store.db import Database
from tests.integration.console.second_business import add_second_business

PASSWORD = "a long enough password"


@dataclass
class Console:
    client: TestClient
    db: Database
    settings: Settings
    a: InitResult
    b: InitResult

    def api(self, business: str = "a") -> dict[str, str]:
        key = (self.a if business == "a" else self.b).api_key
        assert key is not None
        return {"X-API-KEY": key}

    def sell(
        self, business: str = "a", price: str = "1500.00", quantity: str = "2", email: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "cashier": {"id": (self.a if business == "a" else self.b).cashier_id},
            "items": [
                {"offer": {"externalId": "SKU-001"}, "quantity": quantity, "price": price, "unit": "pc"},
                {"offer": {"externalId": "SKU-002"}, "quantity": "1", "price": "500.00", "unit": "unit"},
            ],
            "amount": {"cash": str(Decimal(price) * Decimal(quantity) + 500)},
        }
        if email is not None:
            body["buyer"] = {"type": "individual", "receipt": {"email": email, "language": "en"}}
        answer = self.client.post("/api/v1/sales", json=body, headers=self.api(business))
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def prepay(self, business: str, phone: str, cash: str = "3000") -> dict[str, Any]:
        body = {
            "cashier": {"id": (self.a if business == "a" else self.b).cashier_id},
            "amount": {"cash": cash},
            "buyer": {"type": "individual", "phone": phone},
        }
        answer = self.client.post("/api/v1/prepayments", json=body, headers=self.api(business))
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def make_settings(db_url: str, tmp_path: Path, **overrides: object) -> Settings:
    return Settings(database_url=db_url, sandbox_state_dir=tmp_path / "sandbox", **overrides)  # type: ignore[arg-type]


@pytest.fixture
def two_businesses(database: Database, db_url: str, tmp_path: Path) -> Iterator[Console]:
    settings = make_settings(db_url, tmp_path, console_login_attempts=3)
    gateway = build_gateway(settings)
    src = SrcService(database, gateway, settings)
    a = initialize(database, settings, src, demo=True)
    b = add_second_business(database, settings, src)
    for role in ("owner", "accountant", "developer"):
        add_user(database, email=f"{role}@a.example", role=role, tin=a.tin, password=PASSWORD)
    add_user(database, email="owner@b.example", role="owner", tin=b.tin, password=PASSWORD)
    app = create_app(settings, db=database, gateway=gateway)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        yield Console(client, database, settings, a, b)
