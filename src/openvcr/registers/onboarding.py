"""Onboarding registers after the first: add one, give it its own SRC certificate, change it, disable it.

Rules:
- ``add_register`` creates a register of a business entity (an existing one, by TIN, or a new one) with the
  four departments (one per tax regime), cashier #1 and an API key with every scope (the key and the PIN are
  returned once). A sandbox register is provisioned in the SRC sandbox and set up at once (activation and
  departments). A production register gets its own key pair and a CSR, the file SRC's portal asks for; it
  talks to SRC only once the certificate SRC signed is imported.
- ``import_certificate`` accepts a certificate only when it matches the register's key (a PKCS#12 bundle
  brings its own key), has not expired, and — with ``ca`` — was signed by that CA; a certificate that
  already belongs to another register is refused. It is stored (the key sealed under the master key), then
  the register is activated with SRC and its departments are configured, under its own identity.
  Importing a renewed certificate later replaces the old one; activation is then a no-op.
- Activation is resumable: ``activate`` does what an interrupted import left undone.
- ``disable`` revokes the register's API keys and stops every call to SRC for it; nothing is deleted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from openvcr.authority import repository as authority_repo
from openvcr.authority.identity import check_certificate, check_pkcs12, new_identity
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import TAX_REGIMES
from openvcr.catalog.pins import hash_pin
from openvcr.catalog.service import new_desk_id
from openvcr.config import Settings
from openvcr.core.errors import Conflict, NotFound, ValidationFailed
from openvcr.registers import repository as repo
from openvcr.registers import service as register_service
from openvcr.registers.keys import create_key
from openvcr.registers.models import SCOPES, Register
from openvcr.registers.signing_keys import ensure_register_key
from openvcr.store.db import Database, now_ms


@dataclass(frozen=True)
class NewRegister:
    """What an operator gives to add a register. ``production``: a real SRC register (CRN and serial issued
    by SRC); otherwise a sandbox one (CRN and serial come from the sandbox)."""

    production: bool
    tin: str | None = None  # the business's TIN (a new business needs ``taxpayer`` too)
    taxpayer: str | None = None
    crn: str | None = None
    sn: str | None = None
    address: str | None = None
    trading_platform_name: str = "OpenVCR"


@dataclass(frozen=True)
class AddedRegister:
    register_id: int
    entity_id: int
    mode: str
    tin: str
    crn: str
    sn: str
    authority_status: str
    api_key: str
    api_key_prefix: str
    cashier_id: int
    cashier_desk_id: str
    cashier_pin: str
    csr_pem: str | None  # production: the request to hand to SRC


@dataclass(frozen=True)
class ImportedCertificate:
    register_id: int
    crn: str | None
    serial: str
    subject: str
    not_after: int
    authority_status: str
    activation_error: str | None  # activation with SRC failed (the certificate is stored; retry ``activate``)


def _required(value: str | None, field: str, why: str) -> str:
    if value is None or not value.strip():
        raise ValidationFailed.at([field], f"{field} is required {why}", "required")
    return value.strip()


def add_register(db: Database, settings: Settings, src: SrcService, new: NewRegister) -> AddedRegister:
    """Create a register (see the module rules); nothing is written when the input is refused."""
    tin = _required(new.tin, "tin", "(the business's TIN)")
    if not (len(tin) == 8 and tin.isdigit()):
        raise ValidationFailed.at(["tin"], "tin must be 8 digits")
    with db.read() as conn:
        entity = repo.entity_by_tin(conn, tin)
    taxpayer = entity[1] if entity is not None else _required(new.taxpayer, "taxpayer", "for a new business")
    if new.production:
        crn = _required(new.crn, "crn", "for a production register (issued by SRC)")
        sn = _required(new.sn, "sn", "for a production register (issued by SRC)")
        with db.read() as conn:
            taken = repo.register_by_crn(conn, crn)
        if taken is not None:
            raise Conflict(f"register {taken} already has CRN {crn}")
        mode = "production"
    else:
        if settings.environment == "production":
            raise ValidationFailed.at(["production"], "OPENVCR_ENVIRONMENT is production: add a production register")
        address = new.address or register_service.SANDBOX_ADDRESS
        from openvcr.authority.factory import provision_sandbox_register

        crn, sn = provision_sandbox_register(settings, tin=tin, taxpayer=taxpayer, address=address)
        mode = "sandbox"
    pin = f"{secrets.randbelow(10**4):04d}"
    master_key = settings.master_key.get_secret_value()
    with db.write() as conn:
        entity_id = entity[0] if entity is not None else repo.insert_entity(conn, tin, taxpayer, new.address)
        register_id = repo.insert_register(
            conn,
            entity_id=entity_id,
            crn=crn,
            sn=sn,
            mode=mode,
            address=new.address or (None if new.production else register_service.SANDBOX_ADDRESS),
            taxpayer_name=taxpayer,
            trading_platform_name=new.trading_platform_name,
        )
        ensure_register_key(conn, register_id, master_key)
        csr_pem = None
        if new.production:
            identity = new_identity(register_id, master_key, tin=tin, crn=crn, taxpayer=taxpayer)
            authority_repo.insert_identity(conn, register_id, identity.key_enc, identity.csr_pem)
            csr_pem = identity.csr_pem
        for dep, regime in enumerate(TAX_REGIMES, start=1):
            catalog_repo.insert_department(conn, register_id, dep, None, regime, register_service.REGIME_TITLES[regime])
        cashier = catalog_repo.insert_cashier(
            conn, register_id, new_desk_id(), hash_pin(pin), {"hy": "Գանձապահ 1", "ru": "Кассир 1", "en": "Cashier 1"}
        )
        key = create_key(conn, register_id, SCOPES, name="registers add")
    if not new.production:
        register_service._finish_setup(db, settings, src, register_id)
    with db.read() as conn:
        status = repo.get_register(conn, register_id).authority_status
    return AddedRegister(
        register_id,
        entity_id,
        mode,
        tin,
        crn,
        sn,
        status,
        key.key,
        key.prefix,
        cashier.id,
        cashier.desk_id,
        pin,
        csr_pem,
    )


def csr_of(db: Database, register_id: int) -> str:
    """The CSR written when the register was added (``NotFound`` when it has no identity of its own)."""
    with db.read() as conn:
        identity = authority_repo.load_identity(conn, register_id)
    if identity is None or identity.csr_pem is None:
        raise NotFound(
            f"register {register_id} has no certificate request of its own (it was not added with --production, "
            "or its key came in a PKCS#12 bundle)"
        )
    return identity.csr_pem


def import_certificate(
    db: Database,
    settings: Settings,
    src: SrcService,
    register_id: int,
    *,
    cert: bytes | None = None,
    p12: bytes | None = None,
    p12_passphrase: str | None = None,
    ca: bytes | None = None,
    activate: bool = True,
) -> ImportedCertificate:
    """Store the certificate SRC signed for the register (see the module rules), then activate it."""
    if (cert is None) == (p12 is None):
        raise ValidationFailed.at(["certificate"], "give either a certificate or a PKCS#12 bundle")
    master_key = settings.master_key.get_secret_value()
    with db.read() as conn:
        register = repo.get_register(conn, register_id)
        identity = authority_repo.load_identity(conn, register_id)
    if register.kind != "ehdm" or register.mode != "production":
        raise ValidationFailed.at(["register"], f"register {register_id} is not a production e-HDM register")
    if register.disabled_at is not None:
        raise Conflict(f"register {register_id} is disabled")
    now = now_ms()
    if p12 is not None:
        checked = check_pkcs12(p12, p12_passphrase, master_key=master_key, register_id=register_id, ca=ca, now_ms=now)
    else:
        assert cert is not None
        if identity is None:
            raise NotFound(f"register {register_id} has no key of its own: import a PKCS#12 bundle (--p12)")
        checked = check_certificate(
            cert, key_enc=identity.key_enc, master_key=master_key, register_id=register_id, ca=ca, now_ms=now
        )
    with db.write() as conn:
        owner = authority_repo.certificate_owner(conn, checked.sha256)
        if owner is not None and owner != register_id:
            raise Conflict(f"this certificate already belongs to register {owner}")
        if authority_repo.load_identity(conn, register_id) is None:
            assert checked.key_enc is not None
            authority_repo.insert_identity(conn, register_id, checked.key_enc, None)
        authority_repo.store_certificate(
            conn,
            register_id,
            cert_pem=checked.cert_pem,
            sha256=checked.sha256,
            serial=checked.serial,
            subject=checked.subject,
            issuer=checked.issuer,
            not_before=checked.not_before,
            not_after=checked.not_after,
            key_enc=checked.key_enc,
        )
    forget = getattr(src.gateway, "forget", None)
    if callable(forget):
        forget()
    error = None
    if activate:
        error = _try_activate(db, settings, src, register_id)
    with db.read() as conn:
        status = repo.get_register(conn, register_id).authority_status
    return ImportedCertificate(
        register_id, register.crn, checked.serial, checked.subject, checked.not_after, status, error
    )


def _try_activate(db: Database, settings: Settings, src: SrcService, register_id: int) -> str | None:
    from openvcr.core.errors import OpenVCRError

    try:
        register_service._finish_setup(db, settings, src, register_id)
    except OpenVCRError as exc:
        return exc.message
    return None


def activate(db: Database, settings: Settings, src: SrcService, register_id: int) -> Register:
    """Activate the register with SRC and configure its departments (what an interrupted import left)."""
    with db.read() as conn:
        register = repo.get_register(conn, register_id)
    if register.disabled_at is not None:
        raise Conflict(f"register {register_id} is disabled")
    register_service._finish_setup(db, settings, src, register_id)
    with db.read() as conn:
        return repo.get_register(conn, register_id)


def update_details(
    db: Database, register_id: int, *, address: str | None = None, trading_name: str | None = None
) -> Register:
    """Change the address printed on receipts and the trading platform name."""
    values: dict[str, str | None] = {}
    if address is not None:
        values["address"] = address.strip() or None
    if trading_name is not None:
        if not trading_name.strip():
            raise ValidationFailed.at(["tradingName"], "the trading name must not be empty")
        values["trading_platform_name"] = trading_name.strip()[:200]
    with db.write() as conn:
        if values:
            repo.set_details(conn, register_id, values)
        return repo.get_register(conn, register_id)


def disable(db: Database, register_id: int) -> int:
    """Disable the register: revoke its API keys, send nothing more to SRC for it. Returns keys revoked."""
    with db.write() as conn:
        return repo.disable_register(conn, register_id)
