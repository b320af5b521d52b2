"""Extra registers for the multi-register scenario, added as an operator adds them.

``add_register`` is ``openvcr registers add`` for a sandbox register: a business of its own (a random TIN),
the register provisioned in the SRC sandbox, its signing key, the four departments, cashier #1, an API key
with every scope, activated and its departments configured with SRC (``openvcr.registers.onboarding``).
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from bench.workload import RegisterRefs
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.config import Settings
from openvcr.registers.onboarding import NewRegister
from openvcr.registers.onboarding import add_register as onboard
from openvcr.store.db import Database
from openvcr.store.schema.foundation import registers


def add_register(db: Database, settings: Settings, src: SrcService, label: str) -> RegisterRefs:
    tin = f"{secrets.randbelow(10**8):08d}"
    added = onboard(db, settings, src, NewRegister(False, tin, f"Bench {label}", trading_platform_name="OpenVCR"))
    return refs_of(db, added.register_id, added.api_key, added.cashier_id)


def refs_of(db: Database, register_id: int, api_key: str, cashier_id: int) -> RegisterRefs:
    """The register's departments for VAT and VAT-exempt lines."""
    with db.read() as conn:
        departments = catalog_repo.list_departments(conn, register_id, confirmed_only=True)
        ids = {d.tax_regime: d.id for d in departments}
        assert conn.execute(select(registers.c.id).where(registers.c.id == register_id)).scalar_one()
    return RegisterRefs(register_id, api_key, cashier_id, (ids["vat"], ids["vat_exempt"]))
