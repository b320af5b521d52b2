"""SQL of the catalog: cashiers, departments, offers. Every query is scoped to one register."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, Select, Table, bindparam, delete, func, insert, select, update

from openvcr.catalog.models import Cashier, Department, Offer, OfferTitle
from openvcr.store.db import now_ms
from openvcr.store.schema.foundation import cashiers, departments, offers
from openvcr.store.types import names_no_row


def _cashier(row: Row[Any]) -> Cashier:
    return Cashier(id=row.id, register_id=row.register_id, desk_id=row.desk_id, number=row.number, name=dict(row.name))


def insert_cashier(conn: Connection, register_id: int, desk_id: str, pin_hash: str, name: dict[str, str]) -> Cashier:
    number = conn.execute(
        select(func.coalesce(func.max(cashiers.c.number), 0) + 1).where(cashiers.c.register_id == register_id)
    ).scalar_one()
    new_id = conn.execute(
        insert(cashiers)
        .values(
            register_id=register_id,
            desk_id=desk_id,
            number=number,
            pin_hash=pin_hash,
            name=name,
            created_at=now_ms(),
        )
        .returning(cashiers.c.id)
    ).scalar_one()
    return Cashier(id=new_id, register_id=register_id, desk_id=desk_id, number=number, name=name)


def list_cashiers(conn: Connection, register_id: int) -> list[Cashier]:
    rows = conn.execute(select(cashiers).where(cashiers.c.register_id == register_id).order_by(cashiers.c.id))
    return [_cashier(r) for r in rows]


def find_cashier(
    conn: Connection, register_id: int, *, cashier_id: int | None = None, desk_id: str | None = None
) -> Cashier | None:
    if names_no_row(cashier_id):
        return None
    query = _FIND_CASHIER[(cashier_id is not None, desk_id is not None)]
    params = {"p_register": register_id, "p_id": cashier_id, "p_desk_id": desk_id}
    row = conn.execute(query, params).first()
    return _cashier(row) if row else None


def _department(row: Row[Any]) -> Department:
    return Department(
        id=row.id,
        register_id=row.register_id,
        dep=row.dep,
        external_id=row.external_id,
        tax_regime=row.tax_regime,
        title=dict(row.title),
        confirmed=row.confirmed_at is not None,
    )


def next_dep_number(conn: Connection, register_id: int) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.max(departments.c.dep), 0) + 1).where(departments.c.register_id == register_id)
        ).scalar_one()
    )


def insert_department(
    conn: Connection,
    register_id: int,
    dep: int,
    external_id: str | None,
    tax_regime: str,
    title: dict[str, str],
) -> Department:
    new_id = conn.execute(
        insert(departments)
        .values(
            register_id=register_id,
            dep=dep,
            external_id=external_id,
            tax_regime=tax_regime,
            title=title,
            confirmed_at=None,
            created_at=now_ms(),
        )
        .returning(departments.c.id)
    ).scalar_one()
    return Department(new_id, register_id, dep, external_id, tax_regime, title, confirmed=False)


def confirm_department(conn: Connection, department_id: int) -> None:
    conn.execute(update(departments).where(departments.c.id == department_id).values(confirmed_at=now_ms()))


def delete_department(conn: Connection, department_id: int) -> None:
    conn.execute(delete(departments).where(departments.c.id == department_id))


def list_departments(conn: Connection, register_id: int, *, confirmed_only: bool = True) -> list[Department]:
    query = select(departments).where(departments.c.register_id == register_id).order_by(departments.c.id)
    if confirmed_only:
        query = query.where(departments.c.confirmed_at.is_not(None))
    return [_department(r) for r in conn.execute(query)]


def find_department(conn: Connection, register_id: int, department_id: int) -> Department | None:
    if names_no_row(department_id):
        return None
    row = conn.execute(_FIND_DEPARTMENT, {"p_register": register_id, "p_id": department_id}).first()
    return _department(row) if row else None


def department_external_id_taken(conn: Connection, register_id: int, external_id: str) -> bool:
    return (
        conn.execute(
            select(departments.c.id).where(
                departments.c.register_id == register_id, departments.c.external_id == external_id
            )
        ).first()
        is not None
    )


def _offer(row: Row[Any]) -> Offer:
    return Offer(
        id=row.id,
        register_id=row.register_id,
        external_id=row.external_id,
        type=row.type,
        classifier_code=row.classifier_code,
        default_measure_unit=row.default_measure_unit,
        default_department_id=row.default_department_id,
        title=OfferTitle.from_json(row.title),
        archived_at=row.archived_at,
        created_at=row.created_at,
    )


def insert_offer(
    conn: Connection,
    register_id: int,
    *,
    external_id: str | None,
    type_: str,
    classifier_code: str,
    unit: str,
    department_id: int,
    title: OfferTitle,
) -> Offer:
    created = now_ms()
    new_id = conn.execute(
        insert(offers)
        .values(
            register_id=register_id,
            external_id=external_id,
            type=type_,
            classifier_code=classifier_code,
            default_measure_unit=unit,
            default_department_id=department_id,
            title=title.to_json(),
            archived_at=None,
            created_at=created,
        )
        .returning(offers.c.id)
    ).scalar_one()
    return Offer(new_id, register_id, external_id, type_, classifier_code, unit, department_id, title, None, created)


def _find(table: Table, *columns: str) -> Select[Any]:
    """``SELECT * FROM table WHERE register_id = :p_register AND <column> = :p_<column> …``, built once."""
    query = select(table).where(table.c.register_id == bindparam("p_register"))
    for column in columns:
        query = query.where(table.c[column] == bindparam(f"p_{column}"))
    return query


_FIND_OFFER = {
    (True, False): _find(offers, "id"),
    (False, True): _find(offers, "external_id"),
    (True, True): _find(offers, "id", "external_id"),
    (False, False): _find(offers),
}
_FIND_CASHIER = {
    (True, False): _find(cashiers, "id"),
    (False, True): _find(cashiers, "desk_id"),
    (True, True): _find(cashiers, "id", "desk_id"),
    (False, False): _find(cashiers),
}
_FIND_DEPARTMENT = _find(departments, "id")


def find_offer(
    conn: Connection, register_id: int, *, offer_id: int | None = None, external_id: str | None = None
) -> Offer | None:
    if names_no_row(offer_id):
        return None
    query = _FIND_OFFER[(offer_id is not None, external_id is not None)]
    params = {"p_register": register_id, "p_id": offer_id, "p_external_id": external_id}
    row = conn.execute(query, params).first()
    return _offer(row) if row else None


def list_offers(
    conn: Connection,
    register_id: int,
    *,
    external_id: str | None,
    type_: str | None,
    include_archived: bool,
    limit: int = 500,
) -> list[Offer]:
    query = select(offers).where(offers.c.register_id == register_id)
    if external_id is not None:
        query = query.where(offers.c.external_id == external_id)
    if type_ is not None:
        query = query.where(offers.c.type == type_)
    if not include_archived:
        query = query.where(offers.c.archived_at.is_(None))
    return [_offer(r) for r in conn.execute(query.order_by(offers.c.id).limit(limit))]


def set_offer_title(conn: Connection, offer_id: int, title: OfferTitle) -> None:
    conn.execute(update(offers).where(offers.c.id == offer_id).values(title=title.to_json()))


def set_offer_archived(conn: Connection, offer_id: int, archived_at: int | None) -> None:
    conn.execute(update(offers).where(offers.c.id == offer_id).values(archived_at=archived_at))
