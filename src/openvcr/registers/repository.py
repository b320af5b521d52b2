"""SQL of registers and business entities."""

from __future__ import annotations

from sqlalchemy import Connection, select

from openvcr.core.errors import NotFound
from openvcr.registers.models import Register
from openvcr.store.schema.foundation import business_entities, registers


def get_register(conn: Connection, register_id: int) -> Register:
    row = conn.execute(
        select(registers, business_entities.c.tin, business_entities.c.name.label("entity_name"))
        .join(business_entities, business_entities.c.id == registers.c.entity_id)
        .where(registers.c.id == register_id)
    ).first()
    if row is None:
        raise NotFound(f"no register with id {register_id}")
    return Register(
        id=row.id,
        entity_id=row.entity_id,
        kind=row.kind,
        crn=row.crn,
        sn=row.sn,
        mode=row.mode,
        trading_platform_name=row.trading_platform_name,
        authority_status=row.authority_status,
        tin=row.tin,
        entity_name=row.entity_name,
        address=row.address,
        taxpayer_name=row.taxpayer_name,
    )


def first_register_id(conn: Connection, kind: str = "ehdm") -> int | None:
    return conn.execute(
        select(registers.c.id).where(registers.c.kind == kind).order_by(registers.c.id).limit(1)
    ).scalar_one_or_none()
