"""Registers with their own SRC identity, over the in-process SRC sandbox (which checks the presented client
certificate against the CRN it was issued for), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import func, select

from openvcr.authority.factory import build_gateway, sandbox_simulator
from openvcr.authority.identity import MS_PER_DAY, IdentityError
from openvcr.authority.pool import RegisterGateways
from openvcr.authority.sandbox import ca
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.config import Settings
from openvcr.core.errors import AuthorityRefused, Conflict, ValidationFailed
from openvcr.registers import onboarding
from openvcr.registers.repository import get_register
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import api_keys, registers
from openvcr.store.schema.identity import register_identities


@dataclass
class Host:
    db: Database
    settings: Settings
    src: SrcService
    state_dir: Path


@pytest.fixture
def host(database: Database, tmp_path: Path) -> Host:
    settings = Settings(database_url=database.url, sandbox_state_dir=tmp_path / "sandbox")
    return Host(database, settings, SrcService(database, build_gateway(settings, database), settings), tmp_path)


def _src_register(host: Host, tin: str, taxpayer: str) -> tuple[str, str]:
    """What SRC does on the u6 application: the register exists there, status Ընթացիկ."""
    return sandbox_simulator(host.settings).state.register(tin=tin, taxpayer=taxpayer, address="Yerevan")


def _add(host: Host, tin: str, taxpayer: str) -> onboarding.AddedRegister:
    crn, sn = _src_register(host, tin, taxpayer)
    new = onboarding.NewRegister(True, tin, taxpayer, crn, sn, "Yerevan, Abovyan 1")
    return onboarding.add_register(host.db, host.settings, host.src, new)


def _sign(host: Host, csr: str, crn: str, tin: str, **validity: object) -> bytes:
    simulator = sandbox_simulator(host.settings)
    pem, _serial = ca.sign_request(
        host.state_dir / "ca-home", simulator.state, csr.encode(), crn=crn, tin=tin, **validity
    )  # type: ignore[arg-type]
    return pem


def _ca(host: Host) -> bytes:
    return ca.ca_files(host.state_dir / "ca-home").ca_cert.read_bytes()


def test_production_register_gets_a_csr_and_talks_to_src_only_after_its_certificate(host: Host) -> None:
    added = _add(host, "01234567", "Shop LLC")
    assert added.mode == "production" and added.authority_status == "current" and added.csr_pem is not None
    csr = x509.load_pem_x509_csr(added.csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "01234567"
    with host.db.read() as conn:
        stored = conn.execute(select(register_identities)).one()
    assert b"PRIVATE KEY" not in stored.key_enc and stored.cert_pem is None
    with pytest.raises(AuthorityRefused, match="has no certificate yet") as refused:
        host.src.check_connection(added.register_id)
    assert refused.value.message.startswith("Not sent to SRC")

    cert = _sign(host, added.csr_pem, added.crn, added.tin)
    done = onboarding.import_certificate(host.db, host.settings, host.src, added.register_id, cert=cert, ca=_ca(host))
    assert done.activation_error is None and done.authority_status == "operating"
    with host.db.read() as conn:
        departments = catalog_repo.list_departments(conn, added.register_id, confirmed_only=True)
    assert len(departments) == 4
    host.src.check_connection(added.register_id)  # under its own certificate, which the sandbox checked


def test_a_certificate_for_another_key_or_expired_or_by_another_ca_is_refused_and_nothing_is_stored(
    host: Host,
) -> None:
    first, second = _add(host, "01234567", "Shop LLC"), _add(host, "07654321", "Cafe LLC")
    assert first.csr_pem is not None and second.csr_pem is not None
    others = _sign(host, second.csr_pem, second.crn, second.tin)
    with pytest.raises(IdentityError, match="does not match the register's key"):
        onboarding.import_certificate(host.db, host.settings, host.src, first.register_id, cert=others)
    expired = _sign(
        host, first.csr_pem, first.crn, first.tin, not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=30), days=10
    )
    with pytest.raises(IdentityError, match="expired on"):
        onboarding.import_certificate(host.db, host.settings, host.src, first.register_id, cert=expired)
    good = _sign(host, first.csr_pem, first.crn, first.tin)
    foreign_ca = ca.init_ca(host.state_dir / "foreign").ca_cert.read_bytes()
    with pytest.raises(IdentityError, match="not signed by the given CA"):
        onboarding.import_certificate(host.db, host.settings, host.src, first.register_id, cert=good, ca=foreign_ca)
    with pytest.raises(IdentityError, match="not a certificate"):
        onboarding.import_certificate(host.db, host.settings, host.src, first.register_id, cert=b"garbage")
    with host.db.read() as conn:
        assert conn.execute(select(func.count()).where(register_identities.c.cert_pem.is_not(None))).scalar() == 0
        assert get_register(conn, first.register_id).authority_status == "current"


def test_a_certificate_src_bound_to_another_crn_is_refused_by_src_with_403(host: Host) -> None:
    first, second = _add(host, "01234567", "Shop LLC"), _add(host, "07654321", "Cafe LLC")
    # A bundle SRC issued for the first register's CRN, imported into the second: OpenVCR cannot know the
    # binding; SRC refuses it.
    issued = ca.issue_client_certificate(
        host.state_dir / "ca-home",
        sandbox_simulator(host.settings).state,
        crn=first.crn,
        tin=first.tin,
        out_dir=host.state_dir / "issued",
        p12=True,
    )
    assert issued.p12 is not None
    done = onboarding.import_certificate(
        host.db, host.settings, host.src, second.register_id, p12=issued.p12.read_bytes()
    )
    assert done.activation_error is not None and "403" in done.activation_error
    assert "Invalid Certificate serial number" in done.activation_error or "Սերտիֆիկատի" in done.activation_error
    with host.db.read() as conn:
        assert get_register(conn, second.register_id).authority_status == "current"
    # … and the same bundle is refused outright for a register that already holds it
    with pytest.raises(Conflict, match=f"already belongs to register {second.register_id}"):
        onboarding.import_certificate(host.db, host.settings, host.src, first.register_id, p12=issued.p12.read_bytes())


def test_pkcs12_bundle_brings_its_own_key(host: Host) -> None:
    added = _add(host, "01234567", "Shop LLC")
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "01234567")]))
        .sign(key, hashes.SHA256())
    )
    cert = x509.load_pem_x509_certificate(
        _sign(host, csr.public_bytes(serialization.Encoding.PEM).decode(), added.crn, added.tin)
    )
    bundle = pkcs12.serialize_key_and_certificates(
        b"reg", key, cert, None, serialization.BestAvailableEncryption(b"secret")
    )
    with pytest.raises(IdentityError, match="does not open"):
        onboarding.import_certificate(host.db, host.settings, host.src, added.register_id, p12=bundle)
    done = onboarding.import_certificate(
        host.db, host.settings, host.src, added.register_id, p12=bundle, p12_passphrase="secret"
    )
    assert done.activation_error is None and done.authority_status == "operating"


def test_expired_certificate_refuses_to_send_and_names_the_expiry(host: Host) -> None:
    added = _add(host, "01234567", "Shop LLC")
    assert added.csr_pem is not None
    cert = _sign(host, added.csr_pem, added.crn, added.tin, days=20)
    onboarding.import_certificate(host.db, host.settings, host.src, added.register_id, cert=cert)
    gateway = host.src.gateway
    assert isinstance(gateway, RegisterGateways)
    gateway.clock = lambda: now_ms() + 40 * MS_PER_DAY
    requests_before = sandbox_simulator(host.settings).state.summary(added.crn)
    with pytest.raises(AuthorityRefused, match="expired on") as refused:
        host.src.configure_departments(added.register_id, [(5, 1)])  # would consume a seq and add a department
    assert refused.value.message.startswith("Not sent to SRC: CERTIFICATE_EXPIRED")
    assert sandbox_simulator(host.settings).state.summary(added.crn) == requests_before


def test_disable_revokes_keys_and_stops_src_calls(host: Host) -> None:
    added = _add(host, "01234567", "Shop LLC")
    assert added.csr_pem is not None
    onboarding.import_certificate(
        host.db, host.settings, host.src, added.register_id, cert=_sign(host, added.csr_pem, added.crn, added.tin)
    )
    assert onboarding.disable(host.db, added.register_id) == 1
    gateway = host.src.gateway
    assert isinstance(gateway, RegisterGateways)
    gateway.forget()
    with pytest.raises(AuthorityRefused, match="is disabled"):
        host.src.check_connection(added.register_id)
    with host.db.read() as conn:
        assert conn.execute(select(func.count()).where(api_keys.c.revoked_at.is_(None))).scalar() == 0
        assert conn.execute(select(registers.c.disabled_at)).scalar() is not None


def test_add_refuses_bad_input_and_writes_nothing(host: Host) -> None:
    crn, sn = _src_register(host, "01234567", "Shop LLC")
    bad = [
        onboarding.NewRegister(True, "0123", "Shop", crn, sn),
        onboarding.NewRegister(True, "01234567", None, crn, sn),
        onboarding.NewRegister(True, "01234567", "Shop", None, sn),
    ]
    for new in bad:
        with pytest.raises(ValidationFailed):
            onboarding.add_register(host.db, host.settings, host.src, new)
    onboarding.add_register(host.db, host.settings, host.src, onboarding.NewRegister(True, "01234567", "S", crn, sn))
    with pytest.raises(Conflict, match="already has CRN"):
        onboarding.add_register(
            host.db, host.settings, host.src, onboarding.NewRegister(True, "01234567", "S", crn, sn)
        )
    with host.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(registers)).scalar() == 1


def test_sandbox_register_is_added_and_set_up_at_once_and_details_change(host: Host) -> None:
    added = onboarding.add_register(
        host.db, host.settings, host.src, onboarding.NewRegister(False, "01234567", "Shop LLC")
    )
    assert added.mode == "sandbox" and added.authority_status == "operating" and added.csr_pem is None
    second = onboarding.add_register(host.db, host.settings, host.src, onboarding.NewRegister(False, "01234567"))
    assert second.entity_id == added.entity_id
    changed = onboarding.update_details(host.db, added.register_id, address="Gyumri", trading_name="Shop 2")
    assert changed.address == "Gyumri" and changed.trading_platform_name == "Shop 2"
    with pytest.raises(ValidationFailed):
        onboarding.update_details(host.db, added.register_id, trading_name="  ")


def test_start_up_leaves_a_register_waiting_for_its_certificate_alone(host: Host) -> None:
    """``openvcr serve`` finishes the first register's set-up at start: one still waiting for its
    certificate is neither activated (it could not be) nor an error."""
    from openvcr.registers.service import initialize

    added = _add(host, "01234567", "Shop LLC")
    result = initialize(host.db, host.settings, host.src)
    assert not result.created and result.authority_status == "current"
    summary = sandbox_simulator(host.settings).state.summary(added.crn)
    assert summary is not None and summary["status"] == "current" and summary["departments"] == []
