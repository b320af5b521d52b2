"""The sandbox's persistent state: one SQLite file under the state directory.

Rules:
- Every request runs in one ``BEGIN IMMEDIATE`` transaction, so several processes may share the directory.
- Per CRN: taxpayer, sn, status (pending / current / operating / blocked), allowed regimes and cashiers,
  optional caller IP, last seq, the next receipt number (shared by sales and returns), departments, goods
  lists, receipts (with their lines, 0-based ``receiptProductId``) and what was returned of them.
- Client certificates issued by the sandbox CA map a serial number to a CRN and TIN.
- Amounts and quantities are stored exactly, as decimal strings inside the JSON texts (``to_json``), never as
  REAL or JSON floats: ``to_json`` refuses a ``float``. Stored JSON is read back with ``from_json``, which turns
  any JSON number with a fraction into a ``Decimal`` (a state file hand-edited or written before this rule was
  enforced reads exactly too), so the state needs no migration.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

STATE_FILE = "src-sandbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ecrs (
    crn TEXT PRIMARY KEY,
    tin TEXT NOT NULL,
    sn TEXT NOT NULL,
    taxpayer TEXT NOT NULL,
    address TEXT NOT NULL,
    status TEXT NOT NULL,
    blocked_on TEXT,
    blocked_protocol TEXT,
    regimes TEXT NOT NULL,
    cashiers TEXT,
    ip TEXT,
    last_seq INTEGER,
    next_receipt_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS departments (
    crn TEXT NOT NULL,
    dep INTEGER NOT NULL,
    regime INTEGER NOT NULL,
    PRIMARY KEY (crn, dep)
);
CREATE TABLE IF NOT EXISTS good_lists (
    crn TEXT NOT NULL,
    regime INTEGER NOT NULL,
    position INTEGER NOT NULL,
    listname TEXT NOT NULL,
    goods TEXT NOT NULL,
    PRIMARY KEY (crn, regime, position)
);
CREATE TABLE IF NOT EXISTS receipts (
    crn TEXT NOT NULL,
    receipt_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    fiscal TEXT,
    response TEXT NOT NULL,
    info TEXT NOT NULL,
    returned TEXT NOT NULL,
    source_receipt_id INTEGER,
    PRIMARY KEY (crn, receipt_id)
);
CREATE TABLE IF NOT EXISTS certs (
    serial TEXT PRIMARY KEY,
    crn TEXT,
    tin TEXT,
    subject TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    crn TEXT NOT NULL,
    method TEXT NOT NULL,
    fault TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

ALL_REGIMES = (1, 2, 3, 7)


@dataclass(frozen=True)
class Ecr:
    crn: str
    tin: str
    sn: str
    taxpayer: str
    address: str
    status: str
    blocked_on: str | None
    blocked_protocol: str | None
    regimes: tuple[int, ...]
    cashiers: tuple[int, ...] | None
    ip: str | None
    last_seq: int | None
    next_receipt_id: int


def to_json(value: Any) -> str:
    """JSON text to store: Decimals become decimal strings; a float is refused (it would not be exact)."""

    def convert(v: Any) -> Any:
        if isinstance(v, float):
            raise TypeError("the sandbox stores amounts exactly: pass a Decimal, not a float")
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [convert(x) for x in v]
        return v

    return json.dumps(convert(value), ensure_ascii=False)


def from_json(text: str) -> Any:
    """Stored JSON text back: numbers with a fraction become ``Decimal``, never ``float``."""
    return json.loads(text, parse_float=Decimal)


class SandboxState:
    """The state file and its transactions."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / STATE_FILE
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives the death of any process (kill -9), which is what a simulator of
        # the tax authority must survive; only a power loss could drop its last commits. It saves one fsync
        # per simulated receipt on the service's hot path.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=60000")
        with self._lock:
            self._conn.executescript(_SCHEMA)  # idempotent; executescript manages its own transaction

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed unless the block raises."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    # --- reads and writes inside a transaction ---

    @staticmethod
    def ecr(conn: sqlite3.Connection, crn: str) -> Ecr | None:
        row = conn.execute("SELECT * FROM ecrs WHERE crn = ?", (crn,)).fetchone()
        if row is None:
            return None
        cashiers = json.loads(row["cashiers"]) if row["cashiers"] else None
        return Ecr(
            crn=row["crn"],
            tin=row["tin"],
            sn=row["sn"],
            taxpayer=row["taxpayer"],
            address=row["address"],
            status=row["status"],
            blocked_on=row["blocked_on"],
            blocked_protocol=row["blocked_protocol"],
            regimes=tuple(json.loads(row["regimes"])),
            cashiers=None if cashiers is None else tuple(cashiers),
            ip=row["ip"],
            last_seq=row["last_seq"],
            next_receipt_id=row["next_receipt_id"],
        )

    @staticmethod
    def next_value(conn: sqlite3.Connection, key: str, start: int) -> int:
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, str(start - 1)))
        conn.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = ?", (key,))
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row["value"])

    def register(
        self,
        *,
        tin: str,
        taxpayer: str,
        address: str,
        crn: str | None = None,
        sn: str | None = None,
        status: str = "current",
        regimes: Sequence[int] = ALL_REGIMES,
        cashiers: Sequence[int] | None = None,
        ip: str | None = None,
        next_receipt_id: int = 1,
        created_at: int = 0,
    ) -> tuple[str, str]:
        """Register a taxpayer's e-HDM (as SRC does after the u6 application); returns (crn, sn)."""
        with self.transaction() as conn:
            if crn is None:
                while True:
                    crn = str(self.next_value(conn, "crn", 53000001))
                    if conn.execute("SELECT 1 FROM ecrs WHERE crn = ?", (crn,)).fetchone() is None:
                        break
            elif conn.execute("SELECT 1 FROM ecrs WHERE crn = ?", (crn,)).fetchone() is not None:
                raise ValueError(f"CRN {crn} is already registered")
            sn = sn or secrets.token_hex(4).upper()
            conn.execute(
                "INSERT INTO ecrs (crn, tin, sn, taxpayer, address, status, regimes, cashiers, ip, last_seq,"
                " next_receipt_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    crn,
                    tin,
                    sn,
                    taxpayer,
                    address,
                    status,
                    json.dumps(list(regimes)),
                    None if cashiers is None else json.dumps(list(cashiers)),
                    ip,
                    next_receipt_id,
                    created_at,
                ),
            )
        return crn, sn

    def set_status(self, crn: str, status: str, *, blocked_on: str | None = None, protocol: str | None = None) -> None:
        if status not in ("pending", "current", "operating", "blocked"):
            raise ValueError(f"unknown status {status!r}")
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE ecrs SET status = ?, blocked_on = ?, blocked_protocol = ? WHERE crn = ?",
                (status, blocked_on, protocol, crn),
            )
            if cur.rowcount != 1:
                raise KeyError(crn)

    def set_goods(self, crn: str, regime: int, lists: Sequence[tuple[str, Sequence[tuple[str, str, str]]]]) -> None:
        """Replace the goods lists of one regime: (listname, [(goodName, goodCode, price)])."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM good_lists WHERE crn = ? AND regime = ?", (crn, regime))
            for position, (name, goods) in enumerate(lists):
                conn.execute(
                    "INSERT INTO good_lists (crn, regime, position, listname, goods) VALUES (?, ?, ?, ?, ?)",
                    (
                        crn,
                        regime,
                        position,
                        name,
                        to_json([{"goodName": g, "goodCode": c, "price": p} for g, c, p in goods]),
                    ),
                )

    def add_fault(self, crn: str, method: str, fault: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO faults (crn, method, fault) VALUES (?, ?, ?)", (crn, method, fault))

    def bind_certificate(self, serial: str, crn: str | None, tin: str | None, subject: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO certs (serial, crn, tin, subject) VALUES (?, ?, ?, ?)",
                (serial.lower(), crn, tin, subject),
            )

    def receipt_count(self, crn: str) -> int:
        with self.transaction() as conn:
            row = conn.execute("SELECT COUNT(*) AS n FROM receipts WHERE crn = ?", (crn,)).fetchone()
            return int(row["n"])

    def summary(self, crn: str) -> dict[str, Any] | None:
        with self.transaction() as conn:
            ecr = self.ecr(conn, crn)
            if ecr is None:
                return None
            n = conn.execute("SELECT COUNT(*) AS n FROM receipts WHERE crn = ?", (crn,)).fetchone()["n"]
            deps = conn.execute("SELECT dep, regime FROM departments WHERE crn = ? ORDER BY dep", (crn,)).fetchall()
        return {
            "crn": ecr.crn,
            "tin": ecr.tin,
            "sn": ecr.sn,
            "status": ecr.status,
            "lastSeq": ecr.last_seq,
            "nextReceiptId": ecr.next_receipt_id,
            "receipts": int(n),
            "departments": [{"dep": d["dep"], "taxRegime": d["regime"]} for d in deps],
        }
