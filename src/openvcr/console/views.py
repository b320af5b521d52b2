"""What the console's pages show, read for one business entity at a time (never another's).

Every function takes the entity id of the signed-in session and reads only rows of that entity's registers;
a row of another business is "not found". Writes go through the domain services (``registers.keys``,
``sales.service``, ``catalog.service``) exactly as the API calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openvcr.config import Settings
from openvcr.console import repository as repo
from openvcr.core.errors import NotFound
from openvcr.registers.models import KeyInfo
from openvcr.store.db import Database, now_ms

YEREVAN = ZoneInfo("Asia/Yerevan")
ZERO = Decimal("0.00")
TENDERS = ("cash", "non_cash", "prepayment", "compensation")
PAGE_SIZE = 25


def local_time(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return ""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=YEREVAN).strftime("%Y-%m-%d %H:%M")


def local_date(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return ""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=YEREVAN).date().isoformat()


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=YEREVAN).timestamp() * 1000)


def today() -> date:
    return datetime.now(tz=UTC).astimezone(YEREVAN).date()


@dataclass(frozen=True)
class Totals:
    sales: Decimal
    refunds: Decimal
    count: int
    tenders: dict[str, Decimal]  # net of refunds
    regimes: dict[str, Decimal]  # sales only

    @property
    def net(self) -> Decimal:
        return self.sales - self.refunds


@dataclass(frozen=True)
class Overview:
    today: Totals
    month: Totals
    days: list[tuple[str, Decimal]]  # (YYYY-MM-DD, net) for each of the last 30 days


def _totals(sales: list[Any], refunds: list[Any], lines: list[Any], since: int) -> Totals:
    tenders = dict.fromkeys(TENDERS, ZERO)
    total_sales = total_refunds = ZERO
    count = 0
    for row in sales:
        if row.completed_at < since:
            continue
        count += 1
        total_sales += row.total
        tenders["cash"] += row.cash - row.change
        tenders["non_cash"] += row.non_cash
        tenders["prepayment"] += row.prepayment
        tenders["compensation"] += row.compensation
    for row in refunds:
        if row.completed_at < since:
            continue
        total_refunds += row.total
        for tender in TENDERS:
            tenders[tender] -= getattr(row, tender)
    regimes: dict[str, Decimal] = {}
    for row in lines:
        if row.completed_at >= since:
            regimes[row.tax_regime] = regimes.get(row.tax_regime, ZERO) + row.total
    return Totals(total_sales, total_refunds, count, tenders, regimes)


def overview(db: Database, entity_id: int) -> Overview:
    first_day = today() - timedelta(days=29)
    since = day_start_ms(first_day)
    with db.read() as conn:
        sales = repo.completed_sales_since(conn, entity_id, since)
        refunds = repo.completed_refunds_since(conn, entity_id, since)
        lines = repo.regime_lines_since(conn, entity_id, since)
    per_day = {(first_day + timedelta(days=n)).isoformat(): ZERO for n in range(30)}
    for row in sales:
        per_day[local_date(row.completed_at)] = per_day.get(local_date(row.completed_at), ZERO) + row.total
    for row in refunds:
        per_day[local_date(row.completed_at)] = per_day.get(local_date(row.completed_at), ZERO) - row.total
    return Overview(
        today=_totals(sales, refunds, lines, day_start_ms(today())),
        month=_totals(sales, refunds, lines, since),
        days=sorted(per_day.items()),
    )


@dataclass(frozen=True)
class RegisterView:
    id: int
    crn: str | None
    sn: str | None
    kind: str
    mode: str
    authority_status: str
    late_fiscalization: bool
    documents: dict[str, int]


def registers(db: Database, entity_id: int) -> list[RegisterView]:
    with db.read() as conn:
        rows = repo.entity_registers(conn, entity_id)
        states = repo.documents_by_state(conn, entity_id)
    return [
        RegisterView(
            id=r.id,
            crn=r.crn,
            sn=r.sn,
            kind=r.kind,
            mode=r.mode,
            authority_status=r.authority_status,
            late_fiscalization=bool(r.late_fiscalization),
            documents={state: n for (rid, state), n in sorted(states.items()) if rid == r.id},
        )
        for r in rows
    ]


def register_ids(db: Database, entity_id: int) -> list[int]:
    with db.read() as conn:
        return repo.entity_register_ids(conn, entity_id)


def own_register(db: Database, entity_id: int, register_id: int) -> int:
    if register_id not in register_ids(db, entity_id):
        raise NotFound(f"no register {register_id}")
    return register_id


def keys(db: Database, entity_id: int) -> list[KeyInfo]:
    with db.read() as conn:
        rows = repo.entity_keys(conn, entity_id)
    return [
        KeyInfo(r.id, r.prefix, r.register_id, r.name, tuple(r.scopes.split()), r.created_at, r.last_used_at,
                r.expires_at, r.revoked_at)
        for r in rows
    ]  # fmt: skip


def key_register(db: Database, entity_id: int, key_id: int) -> int:
    with db.read() as conn:
        found = repo.key_register(conn, entity_id, key_id)
    if found is None:
        raise NotFound(f"no API key with id {key_id}")
    return found


@dataclass(frozen=True)
class SaleRow:
    id: int
    register_id: int
    time: str
    total: Decimal
    state: str
    cashier_id: int
    receipt_no: str | None
    fiscal: str | None


def sales(db: Database, entity_id: int, f: repo.SaleFilter, limit: int = PAGE_SIZE) -> tuple[list[SaleRow], int | None]:
    """One page of sales, newest first, and the cursor of the next page (None: no more)."""
    with db.read() as conn:
        rows = repo.list_sales(conn, entity_id, f, limit + 1)
    page = [
        SaleRow(
            id=r.id,
            register_id=r.register_id,
            time=local_time(r.created_at),
            total=r.total,
            state=r.state,
            cashier_id=r.cashier_id,
            receipt_no=None if not r.receipt else str(r.receipt.get("srcId")),
            fiscal=None if not r.receipt else r.receipt.get("fiscal"),
        )
        for r in rows[:limit]
    ]
    return page, (page[-1].id if len(rows) > limit else None)


def sale_register(db: Database, entity_id: int, sale_id: int) -> int:
    with db.read() as conn:
        found = repo.sale_register(conn, entity_id, sale_id)
    if found is None:
        raise NotFound(f"sale {sale_id} not found")
    return found


@dataclass(frozen=True)
class EmailStatus:
    status: str
    attempts: int
    last_error: str | None


def receipt_email(db: Database, url_id: str) -> EmailStatus | None:
    with db.read() as conn:
        row = repo.receipt_email_status(conn, url_id)
    return None if row is None else EmailStatus(row.status, row.attempts, row.last_error)


@dataclass(frozen=True)
class WaitingDocument:
    id: int
    register_id: int
    kind: str
    state: str
    error: str | None
    created: str


def waiting_documents(db: Database, entity_id: int) -> list[WaitingDocument]:
    with db.read() as conn:
        rows = repo.unsettled_documents(conn, entity_id)
    return [WaitingDocument(r.id, r.register_id, r.kind, r.state, r.error, local_time(r.created_at)) for r in rows]


def now_local() -> str:
    return local_time(now_ms())


@dataclass(frozen=True)
class Delivery:
    id: int
    kind: str
    status: str
    attempts: int
    next_attempt: str
    last_error: str | None
    created: str
    delivered: str


def deliveries(db: Database, entity_id: int) -> list[Delivery]:
    with db.read() as conn:
        rows = repo.entity_outbox(conn, entity_id)
    return [
        Delivery(r.id, r.kind, r.status, r.attempts, local_time(r.next_attempt_at), r.last_error,
                 local_time(r.created_at), local_time(r.delivered_at))
        for r in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class DeviceRow:
    register_id: int
    mcr: str
    serial: str
    mode: str
    invoices: int
    created: str
    revoked: str
    expires: str


def devices(db: Database, entity_id: int) -> list[DeviceRow]:
    with db.read() as conn:
        rows = repo.entity_devices(conn, entity_id)
    return [
        DeviceRow(r.register_id, r.mcr, r.cert_serial, r.mode, r.invoice_count, local_time(r.created_at),
                  local_time(r.revoked_at), certificate_expiry(r.cert_pem))
        for r in rows
    ]  # fmt: skip


def certificate_expiry(pem: bytes | str) -> str:
    """The ``not after`` date of a PEM certificate (YYYY-MM-DD), or "" when it cannot be read."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii") if isinstance(pem, str) else pem)
    except ValueError:
        return ""
    return cert.not_valid_after_utc.date().isoformat()


def src_certificate_expiry(settings: Settings) -> str | None:
    """The expiry of the SRC client certificate the process uses (``OPENVCR_SRC_CERT``, or the certificate in
    ``OPENVCR_SRC_P12``); None when there is none (the sandbox)."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        if settings.src_cert is not None:
            return certificate_expiry(settings.src_cert.read_bytes())
        if settings.src_p12 is not None:
            secret = settings.src_p12_passphrase.get_secret_value().encode() if settings.src_p12_passphrase else None
            _key, cert, _extra = pkcs12.load_key_and_certificates(settings.src_p12.read_bytes(), secret)
            return "" if cert is None else cert.not_valid_after_utc.date().isoformat()
    except (OSError, ValueError):
        return ""
    return None
