"""A register provisioned in a fresh in-process SRC sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert

from openvcr.authority.factory import build_gateway, provision_sandbox_register, sandbox_simulator
from openvcr.authority.gateway import PrintItem, PrintRequest
from openvcr.authority.sandbox.simulator import Simulator
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers


@dataclass
class Env:
    db: Database
    settings: Settings
    service: SrcService
    simulator: Simulator
    register_id: int
    crn: str


def add_register(db: Database, *, tin: str, crn: str, sn: str, status: str = "current") -> int:
    with db.write() as conn:
        entity_id = conn.execute(
            insert(business_entities)
            .values(tin=tin, name="Test LLC", address="Yerevan", created_at=now_ms())
            .returning(business_entities.c.id)
        ).scalar_one()
        return int(
            conn.execute(
                insert(registers)
                .values(
                    entity_id=entity_id,
                    kind="ehdm",
                    crn=crn,
                    sn=sn,
                    mode="sandbox",
                    trading_platform_name="Shop",
                    authority_status=status,
                    created_at=now_ms(),
                )
                .returning(registers.c.id)
            ).scalar_one()
        )


def make_env(database: Database, tmp_path: Path, policy: str = "increasing") -> Env:
    settings = Settings(
        database_url=database.url,
        sandbox_state_dir=tmp_path / f"sandbox-{policy}",
        src_seq_policy=policy,  # type: ignore[arg-type]
    )
    crn, sn = provision_sandbox_register(settings, tin="01234567", taxpayer="Test LLC", address="Yerevan")
    register_id = add_register(database, tin="01234567", crn=crn, sn=sn)
    service = SrcService(database, build_gateway(settings), settings)
    return Env(database, settings, service, sandbox_simulator(settings), register_id, crn)


@pytest.fixture
def env(database: Database, tmp_path: Path) -> Env:
    return make_env(database, tmp_path)


def sale(card: str = "0", cash: str = "1000.00", price: str = "1000.00", qty: str = "1") -> PrintRequest:
    return PrintRequest(
        mode=2,
        cashier_id=1,
        cash_amount=Decimal(cash),
        card_amount=Decimal(card),
        items=(
            PrintItem(
                adg_code="2201",
                dep=1,
                good_code="W-1",
                good_name="Water",
                quantity=Decimal(qty),
                unit="pc",
                price=Decimal(price),
            ),
        ),
    )


def ready(env: Env) -> None:
    env.service.activate(env.register_id)
    env.service.configure_departments(env.register_id, [(1, 1), (2, 2)])
