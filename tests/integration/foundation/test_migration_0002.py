"""Migration 0002 (exact money): the amounts, quantities and rates written by the previous release (``NUMERIC``
columns, REAL on SQLite) are the same exact ``Decimal`` values after the upgrade, the downgrade gives them back,
and the journals of real documents still verify."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, insert, select
from typer.testing import CliRunner

from openvcr.cli import app
from openvcr.registers.export import verify_database
from openvcr.store import migrate
from openvcr.store.db import Database
from openvcr.store.schema import metadata
from openvcr.store.types import Scaled
from openvcr.vsdc import service
from openvcr.vsdc.schemas import parse_body
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import prepay, sale_body
from tests.integration.sales.test_sales import acceptance_sale, post_sale
from tests.integration.vsdc.conftest import Vsdc, vsdc
from tests.unit.vsdc.seed import seed_json

__all__ = ["vsdc"]

# table → (column, 0001 precision, decimals, nullable, server default): the migration's own list
COLUMNS: dict[str, tuple[tuple[str, int, int, bool, bool], ...]] = importlib.import_module(
    "openvcr.store.migrations.versions.0002_exact_money"
).COLUMNS

LARGEST = D("9999999999999999.99")


def _document(n: int) -> dict[str, Any]:
    return {"id": n, "register_id": 1, "url_id": f"u{n}", "document_key": f"k{n}", "state": "completed",
            "cashier_id": 1, "src_request": "{}", "created_at": 0}  # fmt: skip


# Rows as the previous release wrote them, table by table in foreign-key order; the amounts are what it was given.
ROWS: dict[str, list[dict[str, Any]]] = {
    "business_entities": [{"id": 1, "tin": "01234567", "name": "E", "created_at": 0}],
    "registers": [
        {
            "id": 1,
            "entity_id": 1,
            "mode": "sandbox",
            "trading_platform_name": "T",
            "authority_status": "operating",
            "created_at": 0,
        }
    ],
    "exchange_rates": [
        {
            "currency": "JPY",
            "rate_date": "2024-01-02",
            "amount": 100,
            "rate": D("251.0712"),
            "source": "CBA",
            "imported_at": 0,
        },
        {
            "currency": "USD",
            "rate_date": "2024-01-02",
            "amount": 1,
            "rate": D("0.0001"),
            "source": "CBA",
            "imported_at": 0,
        },
    ],
    "vsdc_taxpayers": [
        {
            "entity_id": 1,
            "rate_a": D("0"),
            "rate_b": D("18"),
            "rate_c": D("16.666667"),
            "rate_d": D("100.000000"),
            "created_at": 0,
        }
    ],
    "vsdc_devices": [
        {
            "register_id": 1,
            "entity_id": 1,
            "mcr": "777",
            "cert_serial": "ab",
            "cert_pem": "-",
            "counter_key_enc": b"k",
            "sales_total": D("123456789012.34"),
            "refund_total": D("0.01"),
            "sales_tax_total": D("20576131502.06"),
            "created_at": 0,
        }
    ],
    "sales": [
        {
            **_document(1),
            "entity_id": 1,
            "exchange_rate": D("4.001234"),
            "total": D("45500.00"),
            "vat": D("7583.33"),
            "cash": D("6000.50"),
            "non_cash": D("0.29"),
            "prepayment": D("0.07"),
            "compensation": D("1.10"),
            "change": D("500.96"),
        },
        {**_document(2), "entity_id": 1, "total": D("0.01")},
    ],
    "sale_items": [
        {
            "sale_id": 1,
            "register_id": 1,
            "line_no": 0,
            "offer": "{}",
            "department_id": 1,
            "department": "{}",
            "quantity": D("1234.567"),
            "price": D("99999.99"),
            "foreign_price": D("25.07"),
            "unit": "kg",
            "discount": D("10"),
            "discount_type": "percent",
            "additional_discount": D("1000.01"),
            "total": D("0.03"),
            "vat": D("0.57"),
            "refunded_quantity": D("0.001"),
            "refunded_amount": D("0.01"),
        },
        {
            "sale_id": 2,
            "register_id": 1,
            "line_no": 0,
            "offer": "{}",
            "department_id": 1,
            "department": "{}",
            "quantity": D("0.001"),
            "price": D("0.01"),
            "unit": "pc",
            "total": D("0.01"),
            "vat": D("0"),
        },
    ],
    "sale_refunds": [
        {**_document(3), "sale_id": 1, "total": D("22000.22"), "vat": D("3666.70"), "cash": D("22000.22")}
    ],
    "sale_refund_items": [
        {"refund_id": 3, "line_no": 0, "quantity": D("0.5"), "amount": D("11000.11"), "vat": D("1833.35")}
    ],
    "prepayments": [
        {
            **_document(4),
            "entity_id": 1,
            "buyer": "{}",
            "customer_ref": "c",
            "cash": D("10000.01"),
            "non_cash": D("0.99"),
            "amount": D("10001.00"),
        }
    ],
    "prepayment_usages": [
        {"id": 1, "entity_id": 1, "prepayment_id": 4, "sale_id": 1, "amount": D("0.07"), "created_at": 0},
        {
            "id": 2,
            "entity_id": 1,
            "prepayment_id": 4,
            "sale_id": 1,
            "refund_id": 3,
            "amount": D("-0.07"),
            "created_at": 0,
        },
    ],
    "prepayment_refunds": [
        {**_document(5), "prepayment_id": 4, "cash": D("1.23"), "non_cash": D("4.56"), "amount": D("5.79")}
    ],
}


def _scaled_values(db: Database, tables: dict[str, Table]) -> dict[str, list[dict[str, Any]]]:
    """Every exact column of every row (the migration's list of columns), keyed by table, in key order."""
    out: dict[str, list[dict[str, Any]]] = {}
    with db.read() as conn:
        for name, columns in COLUMNS.items():
            table = tables[name]
            rows = conn.execute(
                select(*(table.c[c[0]] for c in columns)).order_by(*table.primary_key.columns)
            ).mappings()
            out[name] = [dict(row) for row in rows]
    return out


def _expected() -> dict[str, list[dict[str, Any]]]:
    """ROWS' exact columns as they must read back (unset columns: their default 0, or None when nullable)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, columns in COLUMNS.items():
        out[name] = []
        for row in ROWS[name]:
            values: dict[str, Any] = {}
            for column, _precision, scale, nullable, _default in columns:
                value = row.get(column, None if nullable else D(0))
                values[column] = None if value is None else value.quantize(D(1).scaleb(-scale))
            out[name].append(values)
    return out


@pytest.fixture
def at_0001(db_url: str) -> Iterator[Database]:
    """A database at revision 0001 filled as the previous release did (through its NUMERIC columns)."""
    db = Database(db_url)
    try:
        migrate.upgrade(db, "0001")
        old = MetaData()
        with db.engine.connect() as conn:
            old.reflect(conn)
        with db.write() as conn:
            for name, rows in ROWS.items():
                for row in rows:
                    conn.execute(insert(old.tables[name]).values(**row))
        yield db
    finally:
        db.dispose()


def _reflected(db: Database) -> dict[str, Table]:
    tables = MetaData()
    with db.engine.connect() as conn:
        tables.reflect(conn)
    return dict(tables.tables)


# Exact columns that later migrations add (each born as BIGINT units): 0004, the registers' limits.
ADDED_AFTER_0002 = {
    ("registers", name) for name in ("max_quantity", "max_unit_price", "max_sale_total", "max_change", "max_prepayment")
}


def test_every_money_quantity_and_rate_column_of_0001_is_migrated(at_0001: Database) -> None:
    migrated = {(t, c[0]) for t, columns in COLUMNS.items() for c in columns}
    declared = {
        (t.name, c.name) for t in metadata.sorted_tables for c in t.columns if isinstance(c.type, Scaled)
    } - ADDED_AFTER_0002
    assert migrated == declared
    old = _reflected(at_0001)
    numeric = {(t.name, c.name) for t in old.values() for c in t.columns if type(c.type).__name__ == "NUMERIC"}
    assert numeric == declared


def test_upgrade_from_0001_keeps_every_amount_quantity_and_rate_exactly(at_0001: Database) -> None:
    migrate.upgrade(at_0001, "0002")
    assert migrate.current(at_0001) == "0002"
    after = _scaled_values(at_0001, dict(metadata.tables))
    assert after == _expected()
    for rows in after.values():  # Decimals with the column's places, e.g. 45500.00, 1234.567, 4.001234
        for row in rows:
            assert all(v is None or type(v) is D for v in row.values())
    assert str(after["sales"][0]["total"]) == "45500.00" and str(after["sale_items"][1]["quantity"]) == "0.001"
    assert str(after["vsdc_taxpayers"][0]["rate_a"]) == "0.000000"


def test_downgrade_to_0001_gives_the_numeric_values_back(at_0001: Database) -> None:
    migrate.upgrade(at_0001)
    migrate.downgrade(at_0001, "0001")
    assert migrate.current(at_0001) == "0001"
    assert _scaled_values(at_0001, _reflected(at_0001)) == _expected()


def test_the_largest_amount_survives_the_migration_where_0001_could_hold_it(at_0001: Database) -> None:
    """PostgreSQL's NUMERIC held 9999999999999999.99 exactly, and so does the BIGINT of luma after the upgrade;
    SQLite's REAL had already made it 10000000000000000.00, which the upgrade keeps as it was read."""
    old = _reflected(at_0001)
    with at_0001.write() as conn:
        conn.execute(insert(old["sales"]).values(**_document(9), entity_id=1, total=LARGEST))
    migrate.upgrade(at_0001)
    with at_0001.read() as conn:
        sales = metadata.tables["sales"]
        total = conn.execute(select(sales.c.total).where(sales.c.id == 9)).scalar_one()
    if at_0001.engine.dialect.name == "postgresql":
        assert total == LARGEST
    else:
        assert total == D("10000000000000000.00")


def test_downgrade_and_upgrade_keep_real_documents_exact_and_their_journals_valid(api: Api, vsdc: Vsdc) -> None:
    assert prepay(api, cash="10000.50")
    sale = post_sale(api, acceptance_sale())
    assert sale.status_code == 200, sale.text
    refund = api.client.post(
        "/api/v1/sales/refund",
        json={"cashier": {"id": 1}, "saleId": sale.json()["saleId"], "items": [{"srcId": 1, "quantity": "0.5"}]},
        headers=api.headers,
    )
    assert refund.status_code == 200, refund.text
    assert post_sale(api, sale_body("4000.25", "1.5", prepayment="6000.38")).status_code == 200
    for ino, ttype in (("n1", "Sale"), ("r1", "Refund")):
        invoice = parse_body(seed_json(ino=ino, itype="Normal", ttype=ttype), "json")
        service.fiscalize(vsdc.db, vsdc.settings, cert_serial=vsdc.serial, fields=invoice)
    db = api.db
    before = _scaled_values(db, dict(metadata.tables))
    assert before["sale_refund_items"] and before["prepayment_usages"] and before["vsdc_devices"][0]["sales_total"]
    report = verify_database(db)

    migrate.downgrade(db, "0001")
    at_0001 = _scaled_values(db, _reflected(db))
    migrate.upgrade(db)

    assert at_0001 == before
    assert _scaled_values(db, dict(metadata.tables)) == before
    assert verify_database(db) == report
    result = CliRunner().invoke(app, ["verify", "--database", db.url])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output
    detail = api.client.get(f"/api/v1/sales/{sale.json()['saleId']}", headers=api.headers)
    assert detail.status_code == 200 and detail.json()["receipt"]["total"] == 45500

    # the migrated database keeps working: counters continue exactly, new documents join the same journals
    assert post_sale(api, sale_body("1234567.89", "2.5", cash="3100000")).status_code == 200
    service.fiscalize(
        vsdc.db, vsdc.settings, cert_serial=vsdc.serial, fields=parse_body(seed_json(ino="n2", itype="Normal"), "json")
    )
    (device,) = _scaled_values(db, dict(metadata.tables))["vsdc_devices"]
    assert device["sales_total"] == 2 * before["vsdc_devices"][0]["sales_total"]
    assert device["refund_total"] == before["vsdc_devices"][0]["refund_total"] > 0
    assert CliRunner().invoke(app, ["verify", "--database", db.url]).exit_code == 0
