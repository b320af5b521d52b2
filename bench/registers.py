"""Extra registers for the multi-register scenario (there is no API to add one).

``add_register`` does what ``openvcr init`` does for the first register, for one more: provision a taxpayer and
an e-HDM in the SRC sandbox, insert the business entity and the register with its signing key, the four
departments and cashier #1, an API key with every scope, then activate it and configure its departments with
SRC through the registers service's own resumable set-up.
"""

from __future__ import annotations

import secrets

from sqlalchemy import insert, select

from bench.workload import RegisterRefs
from openvcr.authority.factory import provision_sandbox_register
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import TAX_REGIMES
from openvcr.catalog.pins import hash_pin
from openvcr.catalog.service import new_desk_id
from openvcr.config import Settings
from openvcr.registers import service as register_service
from openvcr.registers.keys import create_key
from openvcr.registers.models import SCOPES
from openvcr.registers.signing_keys import ensure_register_key
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers


def add_register(db: Database, settings: Settings, src: SrcService, label: str) -> RegisterRefs:
    tin = f"{secrets.randbelow(10**8):08d}"
    taxpayer = f"Bench {label}"
    address = register_service.SANDBOX_ADDRESS
    crn, sn = provision_sandbox_register(settings, tin=tin, taxpayer=taxpayer, address=address)
    now = now_ms()
    with db.write() as conn:
        entity_id = conn.execute(
            insert(business_entities)
            .values(tin=tin, name=taxpayer, address=address, created_at=now)
            .returning(business_entities.c.id)
        ).scalar_one()
        register_id = conn.execute(
            insert(registers)
            .values(
                entity_id=entity_id,
                kind="ehdm",
                crn=crn,
                sn=sn,
                mode="sandbox",
                trading_platform_name="OpenVCR",
                authority_status="current",
                address=address,
                taxpayer_name=taxpayer,
                created_at=now,
            )
            .returning(registers.c.id)
        ).scalar_one()
        ensure_register_key(conn, register_id, settings.master_key.get_secret_value())
        for dep, regime in enumerate(TAX_REGIMES, start=1):
            catalog_repo.insert_department(conn, register_id, dep, None, regime, register_service.REGIME_TITLES[regime])
        cashier = catalog_repo.insert_cashier(
            conn, register_id, new_desk_id(), hash_pin(f"{secrets.randbelow(10**4):04d}"), {"hy": "Գանձապահ 1"}
        )
        key = create_key(conn, register_id, SCOPES, name="bench")
    register_service._finish_setup(db, settings, src, register_id)
    return refs_of(db, register_id, key.key, cashier.id)


def refs_of(db: Database, register_id: int, api_key: str, cashier_id: int) -> RegisterRefs:
    """The register's departments for VAT and VAT-exempt lines."""
    with db.read() as conn:
        departments = catalog_repo.list_departments(conn, register_id, confirmed_only=True)
        ids = {d.tax_regime: d.id for d in departments}
        assert conn.execute(select(registers.c.id).where(registers.c.id == register_id)).scalar_one()
    return RegisterRefs(register_id, api_key, cashier_id, (ids["vat"], ids["vat_exempt"]))
