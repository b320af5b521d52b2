"""SQL of the V-SDC: the CA, taxpayers, devices, counters and signed invoices.

Rules:
- Counters move only through one ``UPDATE … RETURNING`` per invoice (never read-modify-write in Python); the
  device row is locked (``FOR UPDATE`` on PostgreSQL, the write lock on SQLite) before the ``ino`` is looked up,
  so two requests with the same ``ino`` are serialized and the second one sees the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from openvcr.store.db import now_ms
from openvcr.store.schema.foundation import business_entities, registers
from openvcr.store.schema.vsdc import vsdc_ca, vsdc_devices, vsdc_invoices, vsdc_taxpayers
from openvcr.vsdc.models import PAIRS, SLOTS, Counters


@dataclass(frozen=True)
class CaRecord:
    id: int
    cert_pem: str
    key_enc: bytes


@dataclass(frozen=True)
class Taxpayer:
    entity_id: int
    tin: str
    name: str
    rates: dict[str, Decimal]  # slot prefix (h, m, l, z) → rate


@dataclass(frozen=True)
class Device:
    register_id: int
    entity_id: int
    tin: str
    taxpayer_name: str
    mcr: str
    cert_serial: str
    public_key_pem: str | None
    counter_key_enc: bytes
    revoked_at: int | None
    chain_head: str


@dataclass(frozen=True)
class StoredInvoice:
    id: int
    register_id: int
    ino: str
    invoice_count: int
    request_digest: str
    signed_bytes: bytes
    signature: str
    internal_data: str
    response: str
    created_at: int


def get_ca(conn: Connection) -> CaRecord | None:
    row = conn.execute(select(vsdc_ca).order_by(vsdc_ca.c.id.desc()).limit(1)).first()
    return None if row is None else CaRecord(row.id, row.cert_pem, row.key_enc)


def insert_ca(conn: Connection, cert_pem: str, key_enc: bytes) -> int:
    return int(
        conn.execute(
            insert(vsdc_ca).values(cert_pem=cert_pem, key_enc=key_enc, created_at=now_ms()).returning(vsdc_ca.c.id)
        ).scalar_one()
    )


def _rates(row: Any) -> dict[str, Decimal]:
    return {slot: getattr(row, f"rate_{code.lower()}") for code, slot in SLOTS}


def taxpayer_by_tin(conn: Connection, tin: str) -> Taxpayer | None:
    row = conn.execute(
        select(business_entities.c.id, business_entities.c.tin, business_entities.c.name, vsdc_taxpayers)
        .join(vsdc_taxpayers, vsdc_taxpayers.c.entity_id == business_entities.c.id)
        .where(business_entities.c.tin == tin)
    ).first()
    return None if row is None else Taxpayer(row.id, row.tin, row.name, _rates(row))


def entity_by_tin(conn: Connection, tin: str) -> tuple[int, str] | None:
    row = conn.execute(
        select(business_entities.c.id, business_entities.c.name).where(business_entities.c.tin == tin)
    ).first()
    return None if row is None else (int(row.id), str(row.name))


def insert_entity(conn: Connection, tin: str, name: str) -> int:
    return int(
        conn.execute(
            insert(business_entities).values(tin=tin, name=name, created_at=now_ms()).returning(business_entities.c.id)
        ).scalar_one()
    )


def upsert_taxpayer(conn: Connection, entity_id: int, rates: dict[str, Decimal]) -> None:
    values = {f"rate_{code.lower()}": rates[code] for code, _slot in SLOTS}
    exists = conn.execute(select(vsdc_taxpayers.c.entity_id).where(vsdc_taxpayers.c.entity_id == entity_id)).first()
    if exists is None:
        conn.execute(insert(vsdc_taxpayers).values(entity_id=entity_id, created_at=now_ms(), **values))
    else:
        conn.execute(update(vsdc_taxpayers).where(vsdc_taxpayers.c.entity_id == entity_id).values(**values))


def _device_query() -> Any:
    return (
        select(
            vsdc_devices,
            business_entities.c.tin,
            business_entities.c.name.label("taxpayer_name"),
            registers.c.public_key_pem,
        )
        .join(business_entities, business_entities.c.id == vsdc_devices.c.entity_id)
        .join(registers, registers.c.id == vsdc_devices.c.register_id)
    )


def _device(row: Any) -> Device:
    return Device(
        register_id=row.register_id,
        entity_id=row.entity_id,
        tin=row.tin,
        taxpayer_name=row.taxpayer_name,
        mcr=row.mcr,
        cert_serial=row.cert_serial,
        public_key_pem=row.public_key_pem,
        counter_key_enc=row.counter_key_enc,
        revoked_at=row.revoked_at,
        chain_head=row.chain_head,
    )


def device_by_mcr(conn: Connection, mcr: str, *, lock: bool = False) -> Device | None:
    query = _device_query().where(vsdc_devices.c.mcr == mcr)
    if lock and conn.dialect.name != "sqlite":
        query = query.with_for_update(of=vsdc_devices)
    row = conn.execute(query).first()
    return None if row is None else _device(row)


def device_by_serial(conn: Connection, serial: str) -> Device | None:
    row = conn.execute(_device_query().where(vsdc_devices.c.cert_serial == serial)).first()
    return None if row is None else _device(row)


def insert_device(
    conn: Connection,
    *,
    entity_id: int,
    mcr: str,
    mode: str,
    cert_serial: str,
    cert_pem: str,
    counter_key_enc: bytes,
) -> int:
    now = now_ms()
    register_id = int(
        conn.execute(
            insert(registers)
            .values(
                entity_id=entity_id,
                kind="vsdc",
                sn=mcr,
                mode=mode,
                trading_platform_name="V-SDC",
                authority_status="operating",
                created_at=now,
            )
            .returning(registers.c.id)
        ).scalar_one()
    )
    conn.execute(
        insert(vsdc_devices).values(
            register_id=register_id,
            entity_id=entity_id,
            mcr=mcr,
            cert_serial=cert_serial,
            cert_pem=cert_pem,
            counter_key_enc=counter_key_enc,
            created_at=now,
        )
    )
    return register_id


def revoke_device(conn: Connection, mcr: str) -> int | None:
    """Mark the device revoked (and its register blocked); its register id, None when unknown."""
    now = now_ms()
    register_id = conn.execute(
        update(vsdc_devices)
        .where(vsdc_devices.c.mcr == mcr, vsdc_devices.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(vsdc_devices.c.register_id)
    ).scalar()
    if register_id is not None:
        conn.execute(update(registers).where(registers.c.id == register_id).values(authority_status="blocked"))
    return None if register_id is None else int(register_id)


def advance_counters(
    conn: Connection,
    register_id: int,
    pair: str,
    *,
    sales: Decimal,
    refunds: Decimal,
    sales_tax: Decimal,
    refund_tax: Decimal,
) -> Counters:
    """Move the device's counters by one invoice, atomically; the counters after it."""
    c = vsdc_devices.c
    pair_column = getattr(c, f"count_{pair.lower()}")
    row = conn.execute(
        update(vsdc_devices)
        .where(c.register_id == register_id)
        .values(
            {
                c.invoice_count: c.invoice_count + 1,
                pair_column: pair_column + 1,
                c.sales_total: c.sales_total + sales,
                c.refund_total: c.refund_total + refunds,
                c.sales_tax_total: c.sales_tax_total + sales_tax,
                c.refund_tax_total: c.refund_tax_total + refund_tax,
            }
        )
        .returning(
            c.invoice_count,
            *(getattr(c, f"count_{p.lower()}") for p in PAIRS),
            c.sales_total,
            c.refund_total,
            c.sales_tax_total,
            c.refund_tax_total,
        )
    ).one()
    return Counters(
        invoice_count=int(row.invoice_count),
        pairs={p: int(getattr(row, f"count_{p.lower()}")) for p in PAIRS},
        sales_total=row.sales_total,
        refund_total=row.refund_total,
        sales_tax_total=row.sales_tax_total,
        refund_tax_total=row.refund_tax_total,
    )


def next_total_invoices(conn: Connection, entity_id: int) -> int:
    return int(
        conn.execute(
            update(vsdc_taxpayers)
            .where(vsdc_taxpayers.c.entity_id == entity_id)
            .values(total_invoices=vsdc_taxpayers.c.total_invoices + 1)
            .returning(vsdc_taxpayers.c.total_invoices)
        ).scalar_one()
    )


def set_chain_head(conn: Connection, register_id: int, head: str) -> None:
    conn.execute(update(vsdc_devices).where(vsdc_devices.c.register_id == register_id).values(chain_head=head))


def _invoice(row: Any) -> StoredInvoice:
    return StoredInvoice(
        id=row.id,
        register_id=row.register_id,
        ino=row.ino,
        invoice_count=row.invoice_count,
        request_digest=row.request_digest,
        signed_bytes=bytes(row.signed_bytes),
        signature=row.signature,
        internal_data=row.internal_data,
        response=row.response,
        created_at=row.created_at,
    )


def invoice_by_ino(conn: Connection, register_id: int, ino: str) -> StoredInvoice | None:
    row = conn.execute(
        select(vsdc_invoices).where(vsdc_invoices.c.register_id == register_id, vsdc_invoices.c.ino == ino)
    ).first()
    return None if row is None else _invoice(row)


def insert_invoice(
    conn: Connection,
    *,
    register_id: int,
    entity_id: int,
    ino: str,
    invoice_count: int,
    request_digest: str,
    signed_bytes: bytes,
    signature: str,
    internal_data: str,
    response: str,
) -> int:
    return int(
        conn.execute(
            insert(vsdc_invoices)
            .values(
                register_id=register_id,
                entity_id=entity_id,
                ino=ino,
                invoice_count=invoice_count,
                request_digest=request_digest,
                signed_bytes=signed_bytes,
                signature=signature,
                internal_data=internal_data,
                response=response,
                created_at=now_ms(),
            )
            .returning(vsdc_invoices.c.id)
        ).scalar_one()
    )
