"""A second business entity with its own sandbox register on a database that has one already (``initialize``
only ever creates the first): what a multi-business installation looks like."""

from __future__ import annotations

import secrets

from sqlalchemy import insert

from openvcr.authority.factory import provision_sandbox_register
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.demo import seed_demo_catalogue
from openvcr.catalog.models import TAX_REGIMES
from openvcr.catalog.pins import hash_pin
from openvcr.catalog.service import new_desk_id
from openvcr.config import Settings
from openvcr.registers.keys import create_key
from openvcr.registers.models import SCOPES
from openvcr.registers.service import REGIME_TITLES, InitResult, _finish_setup
from openvcr.registers.signing_keys import ensure_register_key
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers


def add_second_business(db: Database, settings: Settings, src: SrcService) -> InitResult:
    tin = f"{secrets.randbelow(10**8):08d}"
    name, address = "«Բ-բիզնես» ՍՊԸ", "ք. Գյումրի, 1"
    crn, sn = provision_sandbox_register(settings, tin=tin, taxpayer=name, address=address)
    with db.write() as conn:
        entity_id = conn.execute(
            insert(business_entities)
            .values(tin=tin, name=name, address=address, created_at=now_ms())
            .returning(business_entities.c.id)
        ).scalar_one()
        register_id = conn.execute(
            insert(registers)
            .values(entity_id=entity_id, kind="ehdm", crn=crn, sn=sn, mode="sandbox", trading_platform_name="B",
                    authority_status="current", address=address, taxpayer_name=name, created_at=now_ms())
            .returning(registers.c.id)
        ).scalar_one()  # fmt: skip
        ensure_register_key(conn, register_id, settings.master_key.get_secret_value())
        for dep, regime in enumerate(TAX_REGIMES, start=1):
            catalog_repo.insert_department(conn, register_id, dep, None, regime, REGIME_TITLES[regime])
        cashier = catalog_repo.insert_cashier(conn, register_id, new_desk_id(), hash_pin("0000"), {"hy": "Բ"})
        key = create_key(conn, register_id, SCOPES, name="b")
    _finish_setup(db, settings, src, register_id)
    with db.write() as conn:
        seed_demo_catalogue(conn, register_id)
    return InitResult(True, register_id, "sandbox", tin, crn, sn, "operating", key.key, key.prefix, cashier.id,
                      cashier.desk_id, "0000")  # fmt: skip
