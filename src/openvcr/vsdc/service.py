"""V-SDC use cases: CA, taxpayers, devices, fiscalization, verification. One transaction per use case.

Rules:
- Checks run in this order: ``tin``/``mcr`` present → TIN known → MCR known → the MCR belongs to that TIN
  and to the presented certificate (else the "combination" error) → every other field → ``ino`` replay →
  rates against the taxpayer's configuration (first mismatch) → arithmetic. A refused invoice writes nothing.
- Replay: the same ``ino`` on the same device with the same normalized request returns the stored response
  (nothing is counted twice); with a different request → 400.
- Signing: one transaction moves the device counters (``UPDATE … RETURNING``), the taxpayer's invoice total,
  signs the canonical document (which carries the previous signature's SHA-256: a chain per device, and the
  internal data) with the device register's key, stores the invoice, appends it to the register journal
  (``vsdc_invoice``) and enqueues its delivery to aTAX in the outbox. All or nothing.
- The device's invoice signing key is its register's journal key; the counter key is the device's own,
  encrypted under the master key, and is shared with the tax authority only (device registration message).
- ``verificationUrl`` uses the request's ``date`` and the effective (configured) rates.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from openvcr.config import Settings
from openvcr.core.canonical import canonical_bytes
from openvcr.core.errors import Conflict, NotFound, ValidationFailed, excerpt
from openvcr.core.journal import CountersDelta, DocType
from openvcr.core.signing import EcdsaP256Signer, PublicKey, Signer
from openvcr.outbox import repository as outbox
from openvcr.registers import journal
from openvcr.registers.signing_keys import ensure_register_key, signer_for
from openvcr.store.db import Database
from openvcr.vsdc import crypto, repository
from openvcr.vsdc.errors import VsdcRejected
from openvcr.vsdc.models import (
    SLOTS,
    Counters,
    fill_journal,
    format_amount,
    format_date,
    invoice_hash,
    number_recu,
    verification_url,
)
from openvcr.vsdc.schemas import (
    arithmetic_problems,
    first_rate_mismatch,
    identity,
    normalized,
    request_digest,
    validate,
)

ATAX_INVOICE = "atax.vsdc_invoice"
RECEIPT_SMS = "receipt_sms"  # delivered by openvcr.receipts.sms_delivery
ATAX_DEVICE = "atax.vsdc_device"
GENESIS = "0" * 64
SUCCESS_MESSAGE = "Request successfully processed"


def master_key(settings: Settings) -> str:
    return settings.master_key.get_secret_value()


# --- CA, taxpayers, devices -------------------------------------------------------------------------------


def init_ca(db: Database, settings: Settings) -> tuple[str, bool]:
    """Create the V-SDC CA unless one exists; its certificate (PEM) and whether it was created now."""
    with db.write() as conn:
        existing = repository.get_ca(conn)
        if existing is not None:
            return existing.cert_pem, False
        cert_pem, signer = crypto.create_ca()
        repository.insert_ca(conn, cert_pem, crypto.seal_key(signer, master_key(settings), crypto.CA_CONTEXT))
        return cert_pem, True


def load_ca(db: Database, settings: Settings) -> tuple[str, EcdsaP256Signer]:
    with db.read() as conn:
        record = repository.get_ca(conn)
    if record is None:
        raise NotFound("the V-SDC CA does not exist yet: run `openvcr vsdc ca init`")
    return record.cert_pem, crypto.open_key(record.key_enc, master_key(settings), crypto.CA_CONTEXT)


def ca_certificate(db: Database) -> str:
    with db.read() as conn:
        record = repository.get_ca(conn)
    if record is None:
        raise NotFound("the V-SDC CA does not exist yet: run `openvcr vsdc ca init`")
    return record.cert_pem


def parse_rates(text: str) -> dict[str, Decimal]:
    """``A=0,B=18,C=16,D=32`` → rates by code; all four codes, each 0–100 with at most 6 decimals."""
    rates: dict[str, Decimal] = {}
    for part in text.split(","):
        code, sep, value = part.partition("=")
        code = code.strip().upper()
        if not sep or code not in ("A", "B", "C", "D") or code in rates:
            raise ValidationFailed.at(
                ["rates"], f"rates are written A=0,B=18,C=16,D=32; {excerpt(part.strip())} is not"
            )
        try:
            rate = Decimal(value.strip())
        except ArithmeticError as exc:
            raise ValidationFailed.at(["rates"], f"rate {code} is not a number: {excerpt(value.strip())}") from exc
        if not rate.is_finite() or rate < 0 or rate > 100 or rate != rate.quantize(Decimal("0.000001")):
            raise ValidationFailed.at(["rates"], f"rate {code} must be within 0–100 with at most 6 decimals")
        rates[code] = rate
    missing = [code for code in ("A", "B", "C", "D") if code not in rates]
    if missing:
        raise ValidationFailed.at(["rates"], f"rates of {', '.join(missing)} are missing (A=0,B=18,C=16,D=32)")
    return rates


def add_taxpayer(db: Database, *, tin: str, name: str, rates: Mapping[str, Decimal]) -> int:
    """Register (or reconfigure) a V-SDC taxpayer; its business entity id."""
    tin, name = tin.strip(), name.strip()
    if not tin or len(tin) > 15:
        raise ValidationFailed.at(["tin"], "the TIN must have 1 to 15 characters")
    if not name:
        raise ValidationFailed.at(["name"], "the taxpayer's name is required")
    with db.write() as conn:
        found = repository.entity_by_tin(conn, tin)
        entity_id = found[0] if found else repository.insert_entity(conn, tin, name)
        repository.upsert_taxpayer(conn, entity_id, dict(rates))
        return entity_id


@dataclass(frozen=True)
class DeviceFiles:
    serial: str
    cert: Path
    key: Path
    p12: Path
    ca: Path

    def as_json(self) -> dict[str, str]:
        return {
            "serial": self.serial,
            "cert": str(self.cert),
            "key": str(self.key),
            "p12": str(self.p12),
            "ca": str(self.ca),
        }


def _write(path: Path, data: bytes, *, secret: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def add_device(
    db: Database,
    settings: Settings,
    *,
    tin: str,
    mcr: str,
    out_dir: Path,
    passphrase: str | None = None,
    mode: str = "production",
) -> DeviceFiles:
    """Create device ``mcr`` of taxpayer ``tin``: its register, signing key, counter key and client
    certificate; write ``SERIAL.pem``, ``SERIAL.key``, ``SERIAL.p12`` and ``CA.pem`` into ``out_dir``."""
    mcr = mcr.strip()
    if not mcr or len(mcr) > 15:
        raise ValidationFailed.at(["mcr"], "the MCR must have 1 to 15 characters")
    if mode not in ("production", "sandbox"):
        raise ValidationFailed.at(["mode"], "the mode is production or sandbox")
    ca_pem, ca_signer = load_ca(db, settings)
    with db.write() as conn:
        taxpayer = repository.taxpayer_by_tin(conn, tin.strip())
        if taxpayer is None:
            raise NotFound(f"TIN {tin} is not a V-SDC taxpayer: run `openvcr vsdc taxpayer add` first")
        if repository.device_by_mcr(conn, mcr) is not None:
            raise Conflict(f"MCR {mcr} already exists")
        cert, key = crypto.issue_device_certificate(ca_pem, ca_signer, tin=taxpayer.tin, mcr=mcr)
        serial = crypto.serial_hex(cert)
        counter_key = crypto.new_counter_key()
        register_id = repository.insert_device(
            conn,
            entity_id=taxpayer.entity_id,
            mcr=mcr,
            mode=mode,
            cert_serial=serial,
            cert_pem=crypto.cert_pem(cert),
            counter_key_enc=crypto.seal_secret(counter_key, master_key(settings), crypto.device_context(mcr)),
        )
        ensure_register_key(conn, register_id, master_key(settings))
        outbox.enqueue(conn, ATAX_DEVICE, f"vsdc-device:{mcr}", {"mcr": mcr})
        files = DeviceFiles(
            serial=serial,
            cert=out_dir / f"{serial}.pem",
            key=out_dir / f"{serial}.key",
            p12=out_dir / f"{serial}.p12",
            ca=out_dir / "CA.pem",
        )
        # Written before the commit: a device is never created without its key having been handed out.
        _write(files.cert, crypto.cert_pem(cert).encode("ascii"), secret=False)
        _write(files.key, crypto.key_pem(key, passphrase), secret=True)
        _write(files.p12, crypto.pkcs12_bundle(cert, key, ca_pem, passphrase, mcr), secret=True)
        _write(files.ca, ca_pem.encode("ascii"), secret=False)
        return files


def revoke_device(db: Database, mcr: str) -> None:
    with db.write() as conn:
        if repository.revoke_device(conn, mcr.strip()) is None:
            if repository.device_by_mcr(conn, mcr.strip()) is None:
                raise NotFound(f"MCR {mcr} does not exist")
            raise Conflict(f"MCR {mcr} is already revoked")


def device_for_certificate(db: Database, serial: str) -> repository.Device | None:
    """The device whose client certificate has this serial, when it is not revoked."""
    with db.read() as conn:
        device = repository.device_by_serial(conn, serial)
    if device is None or device.revoked_at is not None:
        return None
    return device


# --- fiscalization ----------------------------------------------------------------------------------------


class _CounterKeys:
    """Counter keys, decrypted once per process (keyed by device and the encrypted blob)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, bytes], bytes] = {}
        self._lock = threading.Lock()

    def get(self, device: repository.Device, master: str) -> bytes:
        slot = (device.mcr, hashlib.sha256(device.counter_key_enc).digest())
        with self._lock:
            key = self._keys.get(slot)
        if key is None:
            key = crypto.open_secret(device.counter_key_enc, master, crypto.device_context(device.mcr))
            with self._lock:
                self._keys[slot] = key
        return key


COUNTER_KEYS = _CounterKeys()


def counter_key(device: repository.Device, settings: Settings) -> bytes:
    return COUNTER_KEYS.get(device, master_key(settings))


def _signing_date(settings: Settings) -> str:
    return format_date(datetime.now(ZoneInfo(settings.vsdc_timezone)))


def fiscalize(db: Database, settings: Settings, *, cert_serial: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validate, sign and record one invoice; the success body (``VsdcRejected`` with the exact body).
    Runs in the database's group writer: invoices arriving together share one durable transaction, and the
    answer leaves only once its transaction is on disk."""
    tin, mcr = identity(fields)
    return db.group.run(lambda conn: _fiscalize(conn, settings, cert_serial, fields, tin, mcr))


def _fiscalize(
    conn: Connection, settings: Settings, cert_serial: str, fields: Mapping[str, Any], tin: str, mcr: str
) -> dict[str, Any]:
    taxpayer = repository.taxpayer_by_tin(conn, tin)
    if taxpayer is None:
        raise VsdcRejected.unknown_tin(tin)
    device = repository.device_by_mcr(conn, mcr, lock=True)
    if device is None:
        raise VsdcRejected.unknown_mcr(mcr)
    if device.entity_id != taxpayer.entity_id or device.cert_serial != cert_serial or device.revoked_at:
        raise VsdcRejected.combination(mcr, tin)
    invoice = validate(fields)
    digest = request_digest(invoice)
    stored = repository.invoice_by_ino(conn, device.register_id, invoice.ino)
    if stored is not None:
        if stored.request_digest != digest:
            raise VsdcRejected.invalid(
                [f"Invoice number <{invoice.ino}> was already used for a different invoice of this device"]
            )
        replay: dict[str, Any] = json.loads(stored.response)
        return replay
    mismatch = first_rate_mismatch(invoice, taxpayer.rates)
    if mismatch is not None:
        raise mismatch
    problems = arithmetic_problems(invoice, taxpayer.rates)
    if problems:
        raise VsdcRejected.invalid(problems)

    zero = Decimal("0.00")
    money = invoice.moves_money
    refund = invoice.ttype_letter == "R"
    total, tax = invoice.total.quantize(zero), invoice.tax_total.quantize(zero)
    counters = repository.advance_counters(
        conn,
        device.register_id,
        invoice.pair,
        sales=total if money and not refund else zero,
        refunds=total if money and refund else zero,
        sales_tax=tax if money and not refund else zero,
        refund_tax=tax if money and refund else zero,
    )
    total_invoices = repository.next_total_invoices(conn, taxpayer.entity_id)
    signing_date = _signing_date(settings)
    vsdc_number = f"MCR_{mcr}"
    recu = number_recu(counters.pairs[invoice.pair], counters.invoice_count, invoice.pair)
    internal_data = crypto.encrypt_counters(counters, counter_key(device, settings), mcr, invoice.ino)
    invoice_md5 = invoice_hash(mcr, invoice.ino, invoice.date)
    document = {
        "version": 1,
        "invoice": normalized(invoice),
        "rates": {slot: taxpayer.rates[slot] for _code, slot in SLOTS},
        "vsdcNumber": vsdc_number,
        "signingDate": signing_date,
        "numberRecu": recu,
        "totalInvoices": total_invoices,
        "invoiceCount": counters.invoice_count,
        "internalData": internal_data,
        "hash": invoice_md5,
        "prevHash": device.chain_head or GENESIS,
    }
    signed = canonical_bytes(document)
    signer: Signer = signer_for(conn, device.register_id, master_key(settings))
    signature_bytes = signer.sign(signed)
    signature = base64.b64encode(signature_bytes).decode("ascii")
    repository.set_chain_head(conn, device.register_id, hashlib.sha256(signature_bytes).hexdigest())
    amounts: dict[str, str | Decimal | None] = {}
    for _code, slot in SLOTS:
        amounts[f"{slot}r"] = taxpayer.rates[slot]
        amounts[f"{slot}b"] = invoice.bases[slot]
        amounts[f"{slot}t"] = invoice.taxes[slot]
    amounts["cr"] = invoice.cr
    amounts["ct"] = invoice.ct
    url = verification_url(
        settings.public_url,
        {
            "tin": tin,
            "date": invoice.date,
            "bid": invoice.bid,
            "itype": invoice.itype_letter,
            "ttype": invoice.ttype_letter,
            "mcr": mcr,
            "ino": invoice.ino,
            "data": internal_data,
            "sign": signature,
            **amounts,
        },
    )
    journal_text = fill_journal(
        invoice.journal,
        {
            "date": signing_date,
            "nev": vsdc_number,
            "numberRecu": recu,
            "idata": internal_data,
            "signature": signature,
        },
    )
    response: dict[str, Any] = {
        "success": True,
        "status": None,
        "message": SUCCESS_MESSAGE,
        "errors": [],
        "hash": invoice_md5,
        "journal": journal_text,
        "vsdcNumber": vsdc_number,
        "signingDate": signing_date,
        "internalData": internal_data,
        "signature": signature,
        "invoiceNumber": invoice.ino,
        "invoiceType": invoice.itype,
        "verificationUrl": url,
        "totalInvoices": total_invoices,
    }
    invoice_id = repository.insert_invoice(
        conn,
        register_id=device.register_id,
        entity_id=taxpayer.entity_id,
        ino=invoice.ino,
        invoice_count=counters.invoice_count,
        request_digest=digest,
        signed_bytes=signed,
        signature=signature,
        internal_data=internal_data,
        response=json.dumps(response, ensure_ascii=False, separators=(",", ":")),
    )
    if not money:
        delta = CountersDelta.non_fiscal()
    elif refund:
        delta = CountersDelta.sale_refund(total, tax)
    else:
        delta = CountersDelta.sale(total, tax)
    journal.append(
        conn,
        device.register_id,
        doc_type=DocType.VSDC_INVOICE.value,
        doc_ref=str(invoice_id),
        body=document,
        delta=delta,
        signer=signer,
    )
    outbox.enqueue(conn, ATAX_INVOICE, f"vsdc-invoice:{mcr}:{invoice.ino}", {"mcr": mcr, "ino": invoice.ino})
    if invoice.phone:  # the seed's "conformation SMS to buyer" (openvcr.receipts.sms_delivery)
        sms = {"phone": invoice.phone, "language": "hy", "kind": "sale_refund" if refund else "sale", "url": url}
        sms |= {"business": taxpayer.name, "total": str(total), "fiscal": recu}
        outbox.enqueue(conn, RECEIPT_SMS, f"receipt-sms:vsdc:{mcr}:{invoice.ino}", sms)
    return response


# --- verification -----------------------------------------------------------------------------------------


@dataclass
class Verification:
    """The outcome of ``GET /ticket/verify``."""

    valid: bool
    reason: str | None
    tin: str | None = None
    taxpayer: str | None = None
    mcr: str | None = None
    ino: str | None = None
    date: str | None = None
    signing_date: str | None = None
    invoice_type: str | None = None
    transaction_type: str | None = None
    amounts: dict[str, dict[str, str]] = field(default_factory=dict)
    counters: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reason": self.reason,
            "tin": self.tin,
            "taxpayer": self.taxpayer,
            "mcr": self.mcr,
            "ino": self.ino,
            "date": self.date,
            "signingDate": self.signing_date,
            "invoiceType": self.invoice_type,
            "transactionType": self.transaction_type,
            "amounts": self.amounts,
            "counters": self.counters,
        }


def _same_amount(given: str | None, signed: str) -> bool:
    try:
        return Decimal(given or "0") == Decimal(signed)
    except ArithmeticError:
        return False


def verify(db: Database, settings: Settings, params: Mapping[str, str]) -> Verification:
    """Check a verification URL's parameters against the stored, signed invoice."""
    mcr, ino = (params.get("mcr") or "").strip(), (params.get("ino") or "").strip()
    if not mcr or not ino:
        return Verification(False, "The link names no device (mcr) or no invoice number (ino).")
    with db.read() as conn:
        device = repository.device_by_mcr(conn, mcr)
        stored = None if device is None else repository.invoice_by_ino(conn, device.register_id, ino)
    if device is None:
        return Verification(False, f"Device {mcr} is unknown.", mcr=mcr, ino=ino)
    if stored is None:
        return Verification(False, f"Invoice {ino} of device {mcr} was never signed.", mcr=mcr, ino=ino)
    document = json.loads(stored.signed_bytes)
    invoice = document["invoice"]
    result = Verification(
        False,
        None,
        tin=device.tin,
        taxpayer=device.taxpayer_name,
        mcr=mcr,
        ino=ino,
        date=invoice["date"],
        signing_date=document["signingDate"],
        invoice_type=invoice["itype"],
        transaction_type=invoice["ttype"],
        amounts={
            code: {
                "rate": format_amount(Decimal(document["rates"][slot])),
                "taxable": invoice["slots"][slot]["b"],
                "tax": invoice["slots"][slot]["t"],
            }
            for code, slot in SLOTS
        },
    )
    try:
        signature = base64.b64decode(params.get("sign") or "", validate=True)
    except ValueError:
        signature = b""
    public_pem = device.public_key_pem
    if not signature or public_pem is None or not PublicKey(public_pem).verify(stored.signed_bytes, signature):
        result.reason = "The signature does not match the invoice signed by the V-SDC."
        return result
    data = params.get("data") or ""
    try:
        counters: Counters = crypto.decrypt_counters(data, counter_key(device, settings), mcr, ino)
    except crypto.InternalDataError:
        result.reason = "The internal data is not the V-SDC's: it does not decrypt under the device's counter key."
        return result
    if data != document["internalData"]:
        result.reason = "The internal data differs from the signed invoice."
        return result
    result.counters = {k: str(v) for k, v in counters.as_dict().items()}
    if (params.get("tin") or "").strip() != invoice["tin"]:
        result.reason = "The TIN differs from the signed invoice."
        return result
    if (params.get("date") or "").strip() not in (invoice["date"], document["signingDate"]):
        result.reason = "The date differs from the signed invoice."
        return result
    letters = {"itype": invoice["itype"][:1], "ttype": invoice["ttype"][:1]}
    for name, letter in letters.items():
        if (params.get(name) or "").strip() != letter:
            result.reason = f"The {name} differs from the signed invoice."
            return result
    for _code, slot in SLOTS:
        checks = (
            (f"{slot}b", invoice["slots"][slot]["b"]),
            (f"{slot}t", invoice["slots"][slot]["t"]),
            (f"{slot}r", str(document["rates"][slot])),
        )
        for name, signed_value in checks:
            if not _same_amount(params.get(name), signed_value):
                result.reason = f"The amount {name} differs from the signed invoice."
                return result
    for name, signed_value in (("ct", invoice["ct"]), ("cr", invoice["cr"] or "0")):
        if not _same_amount(params.get(name), signed_value):
            result.reason = f"The amount {name} differs from the signed invoice."
            return result
    result.valid = True
    return result
