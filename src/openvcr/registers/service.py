"""Register use cases: ``init`` (bootstrap of a working register) and API key management.

Rules of ``initialize``:
- Idempotent. On an empty database it creates a business entity, one register, one department per tax
  regime (VAT first: vat, vat_exempt, turnover_tax, micro_enterprise), cashier #1 and an API key with every
  scope; the key and the cashier PIN are returned once and never again.
- In sandbox mode the register is first provisioned in the SRC sandbox (status "current"), then activated and
  its departments configured exactly as against the real SRC. In production mode the operator supplies the
  TIN, CRN and serial issued by SRC.
- Re-running it on a database that has a register resumes what an interrupted run left undone (activation,
  unconfirmed departments) and creates nothing new.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select

from openvcr.authority.factory import provision_sandbox_register
from openvcr.authority.repository import load_identity
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.demo import seed_demo_catalogue
from openvcr.catalog.models import TAX_REGIMES
from openvcr.catalog.pins import hash_pin
from openvcr.catalog.service import new_desk_id
from openvcr.config import Settings
from openvcr.core.errors import AuthorityRefused
from openvcr.registers.keys import create_key
from openvcr.registers.models import SCOPES
from openvcr.registers.repository import first_register_id, get_register
from openvcr.registers.signing_keys import ensure_register_key
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers

REGIME_TITLES: dict[str, dict[str, str]] = {
    "vat": {"hy": "ԱԱՀ-ով հարկվող", "ru": "Облагается НДС", "en": "VAT taxable"},
    "vat_exempt": {"hy": "ԱԱՀ-ով չհարկվող", "ru": "Не облагается НДС", "en": "Not subject to VAT"},
    "turnover_tax": {"hy": "Շրջանառության հարկ", "ru": "Налог с оборота", "en": "Turnover tax"},
    "micro_enterprise": {
        "hy": "Միկրոձեռնարկատիրություն",
        "ru": "Микропредпринимательство",
        "en": "Micro-enterprise",
    },
}
SANDBOX_TAXPAYER = "«Ավազարկղ» ՍՊԸ"
SANDBOX_ADDRESS = "ք. Երևան, Աբովյան փ. 1"
EXISTING_DEPARTMENT = 202


@dataclass(frozen=True)
class ProductionRegistration:
    """What SRC issued for a real register (u6 application): the operator types it in."""

    tin: str
    taxpayer: str
    crn: str
    sn: str
    address: str | None = None


@dataclass(frozen=True)
class InitResult:
    created: bool
    register_id: int
    mode: str
    tin: str
    crn: str | None
    sn: str | None
    authority_status: str
    api_key: str | None
    api_key_prefix: str | None
    cashier_id: int | None
    cashier_desk_id: str | None
    cashier_pin: str | None
    demo_offers: tuple[str, ...] = ()  # external ids of the demo catalogue created with the register


def initialize(
    db: Database,
    settings: Settings,
    src: SrcService,
    *,
    production: ProductionRegistration | None = None,
    trading_platform_name: str = "OpenVCR",
    demo: bool = False,
) -> InitResult:
    """Create the first register (sandbox unless ``production``), or finish setting up the one that exists.
    ``demo``: a new sandbox register also gets the demo catalogue (``catalog.demo``)."""
    with db.read() as conn:
        existing = first_register_id(conn)
    if existing is not None:
        _finish_setup(db, settings, src, existing)
        with db.read() as conn:
            reg = get_register(conn, existing)
        return InitResult(
            False,
            reg.id,
            reg.mode,
            reg.tin,
            reg.crn,
            reg.sn,
            reg.authority_status,
            None,
            None,
            None,
            None,
            None,
        )

    if production is None:
        tin = f"{secrets.randbelow(10**8):08d}"
        crn, sn = provision_sandbox_register(settings, tin=tin, taxpayer=SANDBOX_TAXPAYER, address=SANDBOX_ADDRESS)
        registration = ProductionRegistration(tin, SANDBOX_TAXPAYER, crn, sn, SANDBOX_ADDRESS)
        mode = "sandbox"
    else:
        registration, mode = production, "production"

    pin = f"{secrets.randbelow(10**4):04d}"
    now = now_ms()
    with db.write() as conn:
        entity_id = conn.execute(
            select(business_entities.c.id).where(business_entities.c.tin == registration.tin)
        ).scalar_one_or_none()
        if entity_id is None:
            entity_id = conn.execute(
                insert(business_entities)
                .values(
                    tin=registration.tin,
                    name=registration.taxpayer,
                    address=registration.address,
                    created_at=now,
                )
                .returning(business_entities.c.id)
            ).scalar_one()
        register_id = conn.execute(
            insert(registers)
            .values(
                entity_id=entity_id,
                kind="ehdm",
                crn=registration.crn,
                sn=registration.sn,
                mode=mode,
                trading_platform_name=trading_platform_name,
                authority_status="current",
                address=registration.address,
                taxpayer_name=registration.taxpayer,
                created_at=now,
            )
            .returning(registers.c.id)
        ).scalar_one()
        ensure_register_key(conn, register_id, settings.master_key.get_secret_value())
        for dep, regime in enumerate(TAX_REGIMES, start=1):
            catalog_repo.insert_department(conn, register_id, dep, None, regime, REGIME_TITLES[regime])
        cashier = catalog_repo.insert_cashier(
            conn,
            register_id,
            new_desk_id(),
            hash_pin(pin),
            {"hy": "Գանձապահ 1", "ru": "Кассир 1", "en": "Cashier 1"},
        )
        key = create_key(conn, register_id, SCOPES, name="init")

    _finish_setup(db, settings, src, register_id)
    demo_offers: list[str] = []
    if demo and mode == "sandbox":
        with db.write() as conn:
            demo_offers = seed_demo_catalogue(conn, register_id)
    with db.read() as conn:
        reg = get_register(conn, register_id)
    return InitResult(
        True,
        register_id,
        mode,
        registration.tin,
        reg.crn,
        reg.sn,
        reg.authority_status,
        key.key,
        key.prefix,
        cashier.id,
        cashier.desk_id,
        pin,
        tuple(demo_offers),
    )


def _finish_setup(db: Database, settings: Settings, src: SrcService, register_id: int) -> None:
    """Activate the register and configure its unconfirmed departments (resumable). A register waiting for
    its own SRC certificate (``openvcr registers cert import``) is left as it is until then."""
    with db.write() as conn:
        ensure_register_key(conn, register_id, settings.master_key.get_secret_value())
        reg = get_register(conn, register_id)
        identity = load_identity(conn, register_id)
        if identity is not None and identity.cert_pem is None:
            return
        pending = [d for d in catalog_repo.list_departments(conn, register_id, confirmed_only=False) if not d.confirmed]
    if reg.authority_status != "operating":
        src.activate(register_id)
    for department in pending:  # one at a time, so that "already exists" settles exactly one department
        try:
            src.configure_departments(register_id, [(department.dep, TAX_REGIMES[department.tax_regime])])
        except AuthorityRefused as refused:
            if refused.authority_code != EXISTING_DEPARTMENT:
                raise
        with db.write() as conn:
            catalog_repo.confirm_department(conn, department.id)
