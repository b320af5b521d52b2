"""Exact money at rest: amounts, quantities and rates go through real tables on SQLite and PostgreSQL unchanged."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817
from typing import Any

import pytest
from sqlalchemy import BigInteger, Connection, func, insert, select, type_coerce, update
from sqlalchemy.exc import StatementError

from openvcr.store.db import Database, now_ms
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import business_entities, registers
from openvcr.store.schema.sales import exchange_rates, prepayment_usages, prepayments, sale_items, sales
from openvcr.store.types import exact_sum, money_sum

LARGEST = D("9999999999999999.99")  # the largest NUMERIC(18, 2): a REAL reads it back as 10000000000000000.00


def _document(conn: Connection, register_id: int, key: str, kind: str = "sale") -> dict[str, Any]:
    """A completed document row; returns the columns its detail row starts with."""
    document_id = conn.execute(
        insert(documents)
        .values(
            register_id=register_id,
            kind=kind,
            url_id=key,
            document_key=key,
            state="completed",
            cashier_id=1,
            created_at=now_ms(),
            updated_at=now_ms(),
        )
        .returning(documents.c.id)
    ).scalar_one()
    return {"register_id": register_id, "document_id": document_id}


def _register(conn: Connection) -> tuple[int, int]:
    entity = conn.execute(
        insert(business_entities)
        .values(tin="01234567", name="E", created_at=now_ms())
        .returning(business_entities.c.id)
    ).scalar_one()
    register = conn.execute(
        insert(registers)
        .values(
            entity_id=entity,
            mode="sandbox",
            trading_platform_name="T",
            authority_status="operating",
            created_at=now_ms(),
        )
        .returning(registers.c.id)
    ).scalar_one()
    return int(entity), int(register)


def _sale(conn: Connection, register_id: int, entity_id: int, key: str, **amounts: D) -> int:
    return int(
        conn.execute(
            insert(sales)
            .values(**_document(conn, register_id, key), entity_id=entity_id, **amounts)
            .returning(sales.c.id)
        ).scalar_one()
    )


@pytest.fixture
def register(database: Database) -> tuple[int, int]:
    with database.write() as conn:
        return _register(conn)


def test_money_9999999999999999_99_round_trips_exactly(database: Database, register: tuple[int, int]) -> None:
    entity_id, register_id = register
    with database.write() as conn:
        sale_id = _sale(conn, register_id, entity_id, "s1", total=LARGEST, vat=D("0.01"), cash=LARGEST)
    with database.read() as conn:
        row = conn.execute(select(sales.c.total, sales.c.vat, sales.c.cash, sales.c.change)).one()
        stored = conn.execute(select(type_coerce(sales.c.total, BigInteger)).where(sales.c.id == sale_id)).scalar_one()
    assert row.total == LARGEST and str(row.total) == "9999999999999999.99"
    assert row.vat == D("0.01") and row.cash == LARGEST
    assert str(row.change) == "0.00"  # the server default "0" is 0 luma
    assert stored == 999_999_999_999_999_999  # an integer of luma at rest


def test_negative_money_round_trips_exactly(database: Database, register: tuple[int, int]) -> None:
    entity_id, register_id = register
    with database.write() as conn:
        sale_id = _sale(conn, register_id, entity_id, "s1")
        prepayment_id = conn.execute(
            insert(prepayments)
            .values(
                **_document(conn, register_id, "p1", "prepayment"),
                entity_id=entity_id,
                buyer={},
                customer_ref="c",
                amount=LARGEST,
            )
            .returning(prepayments.c.id)
        ).scalar_one()
        for amount in (D("0.01"), D("-0.01"), -LARGEST):
            conn.execute(
                insert(prepayment_usages).values(
                    entity_id=entity_id, prepayment_id=prepayment_id, sale_id=sale_id, amount=amount, created_at=0
                )
            )
    with database.read() as conn:
        amounts = conn.execute(select(prepayment_usages.c.amount).order_by(prepayment_usages.c.id)).scalars().all()
        total = conn.execute(select(money_sum(prepayment_usages.c.amount))).scalar_one()
        prepaid = conn.execute(select(prepayments.c.amount)).scalar_one()
    assert amounts == [D("0.01"), D("-0.01"), -LARGEST]
    assert prepaid == LARGEST
    assert total == -LARGEST and isinstance(total, D) and str(total) == "-9999999999999999.99"


def test_money_sum_is_a_decimal_amount_on_both_backends_and_zero_for_no_rows(
    database: Database, register: tuple[int, int]
) -> None:
    entity_id, register_id = register
    with database.write() as conn:
        for n, total in enumerate((D("0.10"), D("0.20"), D("1234567890123.45"))):
            _sale(conn, register_id, entity_id, f"s{n}", total=total)
    with database.read() as conn:
        total = conn.execute(select(money_sum(sales.c.total, "paid"))).scalar_one()
        none = conn.execute(select(money_sum(sales.c.total)).where(sales.c.id < 0)).scalar_one()
    assert type(total) is D and str(total) == "1234567890123.75"  # 0.1 + 0.2 is exact, unlike REAL
    assert type(none) is D and str(none) == "0.00"


def test_quantity_999999999999999_999_and_rates_round_trip_exactly(
    database: Database, register: tuple[int, int]
) -> None:
    entity_id, register_id = register
    quantity = D("999999999999999.999")
    with database.write() as conn:
        sale_id = _sale(conn, register_id, entity_id, "s1", exchange_rate=D("4.001234"))
        conn.execute(
            insert(sale_items).values(
                sale_id=sale_id,
                register_id=register_id,
                line_no=0,
                offer={},
                department_id=1,
                department={},
                quantity=quantity,
                price=D("0.01"),
                unit="kg",
                total=D("0.01"),
                vat=D("0.00"),
            )
        )
        conn.execute(
            insert(exchange_rates).values(
                currency="JPY", rate_date="2024-01-02", amount=100, rate=D("251.0712"), source="CBA", imported_at=0
            )
        )
        conn.execute(
            update(sale_items).values(
                refunded_quantity=sale_items.c.refunded_quantity + D("0.001"),
                refunded_amount=sale_items.c.refunded_amount + D("0.01"),
            )
        )
    with database.read() as conn:
        item = conn.execute(select(sale_items)).one()
        rate = conn.execute(select(exchange_rates.c.rate)).scalar_one()
        exchange_rate = conn.execute(select(sales.c.exchange_rate)).scalar_one()
        refunded = conn.execute(select(exact_sum(sale_items.c.refunded_quantity))).scalar_one()
    assert item.quantity == quantity and str(item.quantity) == "999999999999999.999"
    assert str(item.refunded_quantity) == "0.001" and str(item.refunded_amount) == "0.01"
    assert item.foreign_price is None and item.discount is None  # None passes through
    assert str(rate) == "251.0712" and str(exchange_rate) == "4.001234"
    assert str(refunded) == "0.001"


def test_a_float_amount_is_refused_and_nothing_is_written(database: Database, register: tuple[int, int]) -> None:
    entity_id, register_id = register
    with pytest.raises(StatementError) as raised, database.write() as conn:
        _sale(conn, register_id, entity_id, "s1", total=0.1)  # type: ignore[arg-type]
    assert isinstance(raised.value.orig, TypeError)
    with database.read() as conn:
        assert conn.execute(select(func.count()).select_from(sales)).scalar_one() == 0


@pytest.mark.parametrize(("column", "value"), [("total", D("0.001")), ("exchange_rate", D("4.0012345"))])
def test_more_decimals_than_the_column_holds_are_refused_not_rounded(
    database: Database, register: tuple[int, int], column: str, value: D
) -> None:
    entity_id, register_id = register
    with pytest.raises(StatementError) as raised, database.write() as conn:
        _sale(conn, register_id, entity_id, "s1", **{column: value})
    assert isinstance(raised.value.orig, ValueError) and "decimals" in str(raised.value.orig)
    with database.read() as conn:
        assert conn.execute(select(func.count()).select_from(sales)).scalar_one() == 0
