"""Make the databases of the first release (schema revision 0001) that the migration tests upgrade.

Run with the release's own code first on the path, from a checkout of that release::

    git worktree add --detach /tmp/release-0001 bac52bf
    PYTHONPATH=/tmp/release-0001/src:. python tests/data/releases/make_release_0001.py OUT_DIR

It writes ``OUT_DIR/release-0001.sqlite`` (and ``release-0001.pg.sql`` when PostgreSQL answers on
127.0.0.1:5432) with what that release's own API wrote: a sale with an e-mail request and an
Idempotency-Key, a partial refund, a prepayment spent by a sale, a prepayment refund, a sale left pending by
a crash after SRC registered it, and the sandbox state holding those receipts (``sandbox/``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.registers.service import initialize
from openvcr.sales import documents
from openvcr.sales.schemas import SaleCreate
from openvcr.sales.service import SalesService
from openvcr.store import migrate
from openvcr.store.db import Database

PHONE = "+37491000111"
TEA = {
    "offer": {"title": {"type": "universal", "content": "Tea"}, "type": "product", "classifierCode": "0902",
              "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "TEA"},
    "department": {"id": 1}, "price": "700", "unit": "pc",
}  # fmt: skip


def sale(quantity: str, **amount: str) -> dict[str, Any]:
    return {
        "cashier": {"id": 1},
        "items": [{**TEA, "quantity": quantity}],
        "amount": amount,
        "buyer": {"type": "individual", "phone": PHONE, "receipt": {"email": "buyer@example.com", "language": "en"}},
    }


def populate(url: str, state: Path) -> None:
    settings = Settings(database_url=url, sandbox_state_dir=state)
    db = Database(url)
    migrate.upgrade(db)
    gateway = build_gateway(settings)
    init = initialize(db, settings, SrcService(db, gateway, settings))
    headers = {"X-API-KEY": init.api_key}
    with TestClient(create_app(settings, db=db, gateway=gateway)) as client:

        def post(path: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
            extra = {"Idempotency-Key": key} if key else {}
            response = client.post(f"/api/v1{path}", json=body, headers={**headers, **extra})
            assert response.status_code == 200, response.text
            return dict(response.json())

        first = post("/sales", sale("3", cash="2100"), key="order-1")
        post(
            "/sales/refund", {"cashier": {"id": 1}, "saleId": first["saleId"], "items": [{"srcId": 0, "quantity": "1"}]}
        )
        deposit = post("/prepayments", {"cashier": {"id": 1}, "amount": {"cash": "1000", "nonCash": "500"},
                                        "buyer": {"type": "individual", "phone": PHONE}}, key="deposit-1")  # fmt: skip
        post("/sales", sale("1", prepayment="700"), key="order-2")
        other = post("/prepayments", {"cashier": {"id": 1}, "amount": {"cash": "300"},
                                      "buyer": {"type": "individual", "phone": "+37491000222"}})  # fmt: skip
        post("/prepayments/refund", {"cashier": {"id": 1}, "prepaymentId": other["prepaymentId"]}, key="refund-1")
        assert deposit["prepaymentId"] == 1
        # A crash after SRC registered a sale and before it completed: the release leaves it pending.
        service = SalesService(db, client.app.state.ctx.src, settings)  # type: ignore[attr-defined]
        original = documents.register_pending

        class Crash(Exception):
            pass

        def crashing(db_: Any, *, prepare: Any, call: Any, complete: Any, cancel: Any) -> Any:
            def call_then_crash(pending: Any) -> Any:
                call(pending)
                raise Crash

            return original(db_, prepare=prepare, call=call_then_crash, complete=complete, cancel=cancel)

        documents.register_pending = crashing  # type: ignore[assignment]
        try:
            service.create_sale(
                init.register_id, SaleCreate.model_validate(sale("2", cash="1400")), "POST /sales:1:key:crashed"
            )
        except Crash:
            pass
        finally:
            documents.register_pending = original  # type: ignore[assignment]
    db.dispose()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    target = out / "release-0001.sqlite"
    target.unlink(missing_ok=True)
    shutil.rmtree(out / "sandbox", ignore_errors=True)
    populate(f"sqlite:///{target}", out / "sandbox")
    shutil.rmtree(Path(str(target) + ".locks"), ignore_errors=True)
    name = "ovcr_release_" + uuid.uuid4().hex[:8]
    admin = "postgresql://postgres@127.0.0.1:5432/test"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return
    try:
        populate(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", out / "sandbox-pg")
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--no-privileges", "--inserts", "-h", "127.0.0.1", "-U", "postgres", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        (out / "release-0001.pg.sql").write_text(dump)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main(Path(sys.argv[1]))
