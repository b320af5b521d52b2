"""Registers with signing keys, made directly in the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import insert

from openvcr.registers.signing_keys import clear_signer_cache, ensure_register_key
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers

MASTER_KEY = "test-master-key"

MakeRegister = Callable[[], int]


@pytest.fixture(autouse=True)
def _fresh_signer_cache() -> Iterator[None]:
    clear_signer_cache()
    yield
    clear_signer_cache()


@pytest.fixture
def make_register(database: Database) -> MakeRegister:
    """Create a business entity and a register with a signing key; return the register id."""
    counter = iter(range(1, 1000))

    def make() -> int:
        n = next(counter)
        with database.write() as conn:
            entity_id = conn.execute(
                insert(business_entities)
                .values(tin=f"0000000{n}", name=f"Entity {n}", created_at=now_ms())
                .returning(business_entities.c.id)
            ).scalar_one()
            register_id = int(
                conn.execute(
                    insert(registers)
                    .values(
                        entity_id=entity_id,
                        crn=f"CRN{n}",
                        mode="sandbox",
                        trading_platform_name="shop",
                        authority_status="operating",
                        created_at=now_ms(),
                    )
                    .returning(registers.c.id)
                ).scalar_one()
            )
            ensure_register_key(conn, register_id, MASTER_KEY)
        return register_id

    return make


@pytest.fixture
def register_id(make_register: MakeRegister) -> int:
    return make_register()
