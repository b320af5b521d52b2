"""SQL of registers and business entities."""

from __future__ import annotations

from dataclasses import fields, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from openvcr.core.errors import NotFound
from openvcr.core.limits import DEFAULT_LIMITS, Limits
from openvcr.registers.models import Register
from openvcr.store.db import now_ms
from openvcr.store.schema.foundation import api_keys, business_entities, registers

_GET_REGISTER = (
    select(registers, business_entities.c.tin, business_entities.c.name.label("entity_name"))
    .join(business_entities, business_entities.c.id == registers.c.entity_id)
    .where(registers.c.id == bindparam("p_register"))
)


def get_register(conn: Connection, register_id: int) -> Register:
    row = conn.execute(_GET_REGISTER, {"p_register": register_id}).first()
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
        late_fiscalization=bool(row.late_fiscalization),
        sms_receipts=bool(row.sms_receipts),
        limits=_limits(row),
        disabled_at=row.disabled_at,
    )


LIMIT_COLUMNS = tuple(item.name for item in fields(Limits))


def _limits(row: Any) -> Limits:
    """The register's limits: each column that is set, else the default."""
    chosen = {name: getattr(row, name) for name in LIMIT_COLUMNS if getattr(row, name) is not None}
    return replace(DEFAULT_LIMITS, **chosen) if chosen else DEFAULT_LIMITS


def register_limits(conn: Connection, register_id: int) -> Limits:
    """Only the limits of a register (``NotFound`` for an unknown one)."""
    row = conn.execute(
        select(*(registers.c[name] for name in LIMIT_COLUMNS)).where(registers.c.id == register_id)
    ).first()
    if row is None:
        raise NotFound(f"no register with id {register_id}")
    return _limits(row)


def set_limits(conn: Connection, register_id: int, values: dict[str, Decimal | None]) -> Limits:
    """Set some limits of a register (``None``: back to the default) and return them all; a value the
    ``Limits`` rules refuse is a ``ValueError`` and changes nothing."""
    unknown = set(values) - set(LIMIT_COLUMNS)
    if unknown:
        raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
    current = register_limits(conn, register_id)
    replace(current, **{k: v if v is not None else getattr(DEFAULT_LIMITS, k) for k, v in values.items()})
    conn.execute(update(registers).where(registers.c.id == register_id).values(**values))
    return register_limits(conn, register_id)


def first_register_id(conn: Connection, kind: str = "ehdm") -> int | None:
    return conn.execute(
        select(registers.c.id).where(registers.c.kind == kind).order_by(registers.c.id).limit(1)
    ).scalar_one_or_none()


def list_registers(conn: Connection) -> list[Register]:
    """Every register, in id order."""
    ids = conn.execute(select(registers.c.id).order_by(registers.c.id)).scalars().all()
    return [get_register(conn, int(register_id)) for register_id in ids]


def set_sms_receipts(conn: Connection, register_id: int, enabled: bool) -> None:
    """Turn receipt SMS on or off for one register (``NotFound`` for an unknown register)."""
    result = conn.execute(update(registers).where(registers.c.id == register_id).values(sms_receipts=enabled))
    if result.rowcount != 1:
        raise NotFound(f"no register with id {register_id}")


def set_late_fiscalization(conn: Connection, register_id: int, enabled: bool) -> None:
    """Turn late fiscalization on or off for one register (``NotFound`` for an unknown register)."""
    result = conn.execute(update(registers).where(registers.c.id == register_id).values(late_fiscalization=enabled))
    if result.rowcount != 1:
        raise NotFound(f"no register with id {register_id}")


# --- onboarding (``openvcr.registers.onboarding``) ---


def entity_by_tin(conn: Connection, tin: str) -> tuple[int, str] | None:
    """(id, name) of the business entity with this TIN."""
    row = conn.execute(
        select(business_entities.c.id, business_entities.c.name).where(business_entities.c.tin == tin)
    ).first()
    return None if row is None else (int(row.id), str(row.name))


def insert_entity(conn: Connection, tin: str, name: str, address: str | None) -> int:
    return int(
        conn.execute(
            insert(business_entities)
            .values(tin=tin, name=name, address=address, created_at=now_ms())
            .returning(business_entities.c.id)
        ).scalar_one()
    )


def register_by_crn(conn: Connection, crn: str) -> int | None:
    return conn.execute(select(registers.c.id).where(registers.c.crn == crn)).scalar_one_or_none()


def insert_register(
    conn: Connection,
    *,
    entity_id: int,
    crn: str,
    sn: str,
    mode: str,
    address: str | None,
    taxpayer_name: str,
    trading_platform_name: str,
) -> int:
    return int(
        conn.execute(
            insert(registers)
            .values(
                entity_id=entity_id,
                kind="ehdm",
                crn=crn,
                sn=sn,
                mode=mode,
                trading_platform_name=trading_platform_name,
                authority_status="current",
                address=address,
                taxpayer_name=taxpayer_name,
                created_at=now_ms(),
            )
            .returning(registers.c.id)
        ).scalar_one()
    )


def set_details(conn: Connection, register_id: int, values: dict[str, str | None]) -> None:
    """Change a register's ``address`` / ``trading_platform_name`` (``NotFound`` for an unknown register)."""
    result = conn.execute(update(registers).where(registers.c.id == register_id).values(values))
    if result.rowcount != 1:
        raise NotFound(f"no register with id {register_id}")


def disable_register(conn: Connection, register_id: int) -> int:
    """Mark the register disabled and revoke its API keys; returns how many keys were revoked."""
    now = now_ms()
    result = conn.execute(
        update(registers)
        .where(registers.c.id == register_id, registers.c.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    if result.rowcount != 1:
        get_register(conn, register_id)  # NotFound for an unknown one; an already disabled one is left as it is
    revoked = conn.execute(
        update(api_keys)
        .where(api_keys.c.register_id == register_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(revoked.rowcount)
