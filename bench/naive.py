"""The naive receipt service: the reference that ``POST /api/v1/sales`` is compared with (``naive_rps``).

What PERF-NOTES calls the minimal receipt service, and nothing more: a FastAPI app whose
``POST /api/v1/sales``

1. validates the sale body with pydantic (the same request bytes the sales scenario sends, ``bench.workload``);
2. in ONE durable transaction increments the register's counter (``UPDATE … RETURNING``; the API key picks the
   register, so an unknown key updates nothing and is refused), signs the receipt's canonical bytes (register,
   number, sale; sorted-key JSON) with the register's ECDSA P-256 key, and inserts the receipt row;
3. answers ``{"receiptId", "number", "signature"}``.

Storage, chosen by ``NAIVE_DATABASE_URL``:

- SQLite (``sqlite:///PATH``): WAL, ``synchronous=FULL``. Each process has one connection on one writer thread
  (the event loop never blocks on it), and its transactions start with ``BEGIN IMMEDIATE``. Processes queue
  for SQLite's single write lock on an ``flock`` of ``PATH.lock``, like the real service's write queue, rather
  than on SQLite's sleeping busy handler.
- PostgreSQL (``postgresql://…``, ``postgresql+psycopg://…``): psycopg 3, a pool of ``NAIVE_POOL_SIZE``
  (default 8) async connections per process; ``BEGIN``, the counter, the insert, ``COMMIT``
  (``synchronous_commit`` at its durable default).

No idempotency, no SRC, no journal chain, no catalogue: what is left is the framework, validation, one signature
and one durable commit per request. ``setup`` creates the schema and the register rows for the bench's API keys;
``serve`` is ``python -m bench.reference naive``.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

_ECDSA = ec.ECDSA(hashes.SHA256())


# ---- the request ------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ref(_Model):
    id: int = Field(gt=0)


class OfferRef(_Model):
    externalId: str = Field(min_length=1, max_length=64)  # noqa: N815 - the API's field name


class Discount(_Model):
    type: Literal["percent", "amount"]
    value: Decimal = Field(ge=0)


class Discounts(_Model):
    base: Discount | None = None
    additional: Discount | None = None


class Item(_Model):
    offer: OfferRef
    department: Ref
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    price: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    unit: str = Field(min_length=1, max_length=16)
    discounts: Discounts | None = None


class Amount(_Model):
    cash: Decimal | None = Field(default=None, ge=0)
    nonCash: Decimal | None = Field(default=None, ge=0)  # noqa: N815
    prepayment: Decimal | None = Field(default=None, ge=0)


class AutoSettle(_Model):
    tender: Literal["cash", "nonCash"]


class Buyer(_Model):
    type: Literal["individual", "business"]
    phone: str = Field(min_length=4, max_length=20)


class Sale(_Model):
    cashier: Ref
    items: list[Item] = Field(min_length=1, max_length=500)
    amount: Amount | None = None
    autoSettle: AutoSettle | None = None  # noqa: N815
    buyer: Buyer | None = None

    @model_validator(mode="after")
    def _one_way_to_pay(self) -> Sale:
        if (self.amount is None) == (self.autoSettle is None):
            raise ValueError("exactly one of amount and autoSettle")
        return self


class Receipt(_Model):
    receiptId: int  # noqa: N815
    number: int
    signature: str


# ---- canonical bytes and keys -----------------------------------------------------------------------------


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def sale_bytes(sale: Sale) -> bytes:
    """The sale's canonical JSON: sorted keys, no whitespace, decimals as strings, absent fields left out."""
    return orjson.dumps(sale.model_dump(mode="json", exclude_none=True), option=orjson.OPT_SORT_KEYS)


def receipt_bytes(register_id: int, number: int, sale: bytes) -> bytes:
    """``{"number":N,"register":R,"sale":…}``: canonical (sorted keys) when ``sale`` is."""
    return b'{"number":%d,"register":%d,"sale":%s}' % (number, register_id, sale)


def _private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _new_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_key_pem(private_pem: str) -> str:
    return (
        _private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# ---- storage ----------------------------------------------------------------------------------------------

_SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS registers (id INTEGER PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, "
    "counter INTEGER NOT NULL DEFAULT 0, key_pem TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS receipts (id INTEGER PRIMARY KEY AUTOINCREMENT, register_id INTEGER NOT NULL "
    "REFERENCES registers (id), number INTEGER NOT NULL, content BLOB NOT NULL, signature BLOB NOT NULL, "
    "UNIQUE (register_id, number))",
)
_PG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS registers (id BIGSERIAL PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, "
    "counter BIGINT NOT NULL DEFAULT 0, key_pem TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS receipts (id BIGSERIAL PRIMARY KEY, register_id BIGINT NOT NULL "
    "REFERENCES registers (id), number BIGINT NOT NULL, content BYTEA NOT NULL, signature BYTEA NOT NULL, "
    "UNIQUE (register_id, number))",
)
_COUNT = "UPDATE registers SET counter = counter + 1 WHERE key_hash = {p} RETURNING id, counter"
_INSERT = "INSERT INTO receipts (register_id, number, content, signature) VALUES ({p}, {p}, {p}, {p}) RETURNING id"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL, None for anything else."""
    for prefix in ("sqlite+pysqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            return Path(url[len(prefix) :])
    return None


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=60000")
    return conn


def setup(url: str, api_keys: Iterable[str]) -> None:
    """Create the schema and one register (counter 0, its own signing key) per API key not yet known."""
    rows = [(key_hash(k), _new_key_pem()) for k in api_keys]
    path = sqlite_path(url)
    if path is not None:
        conn = _sqlite_connect(path)
        try:
            for statement in _SQLITE_SCHEMA:
                conn.execute(statement)
            conn.executemany("INSERT OR IGNORE INTO registers (key_hash, key_pem) VALUES (?, ?)", rows)
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as pg:
        for statement in _PG_SCHEMA:
            pg.execute(statement)
        with pg.cursor() as cur:
            cur.executemany(
                "INSERT INTO registers (key_hash, key_pem) VALUES (%s, %s) ON CONFLICT (key_hash) DO NOTHING", rows
            )


@dataclass(frozen=True)
class Stored:
    """What a naive run left: receipts, distinct (register, number) pairs, and counters agreeing with them."""

    receipts: int
    distinct_numbers: int
    counters_total: int
    signatures_valid: int


def stored(url: str, check_signatures: int = 50) -> Stored:
    """Count the receipts and check the last ``check_signatures`` of them against their registers' keys."""
    queries = (
        "SELECT count(*) FROM receipts",
        "SELECT count(*) FROM (SELECT DISTINCT register_id, number FROM receipts) AS pairs",
        "SELECT coalesce(sum(counter), 0) FROM registers",
    )
    last = (
        "SELECT r.content, r.signature, g.key_pem FROM receipts r JOIN registers g ON g.id = r.register_id "
        f"ORDER BY r.id DESC LIMIT {int(check_signatures)}"
    )
    path = sqlite_path(url)
    if path is not None:
        conn = _sqlite_connect(path)
        try:
            counts = [int(conn.execute(q).fetchone()[0]) for q in queries]
            signed = [(bytes(a), bytes(b), str(c)) for a, b, c in conn.execute(last).fetchall()]
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(libpq_url(url), autocommit=True) as pg:
            counts = []
            for q in queries:
                row = pg.execute(q).fetchone()
                assert row is not None
                counts.append(int(row[0]))
            signed = [(bytes(a), bytes(b), str(c)) for a, b, c in pg.execute(last).fetchall()]
    valid = 0
    for content, signature, pem in signed:
        try:
            _private_key(pem).public_key().verify(signature, content, _ECDSA)
        except Exception:  # noqa: S112 - an invalid signature is counted, not raised
            continue
        valid += 1
    return Stored(counts[0], counts[1], counts[2], valid)


class _Store:
    """One durable transaction per receipt; None when the API key names no register."""

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def commit_receipt(self, api_key_hash: str, sale: bytes) -> tuple[int, int, bytes] | None:
        raise NotImplementedError


class _SqliteStore(_Store):
    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="naive-writer")
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._keys: dict[int, ec.EllipticCurvePrivateKey] = {}

    async def open(self) -> None:
        self._conn = await asyncio.get_running_loop().run_in_executor(self._writer, _sqlite_connect, self._path)
        self._lock_fd = os.open(str(self._path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        for register_id, pem in self._conn.execute("SELECT id, key_pem FROM registers").fetchall():
            self._keys[int(register_id)] = _private_key(pem)

    async def close(self) -> None:
        if self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._writer, self._conn.close)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
        self._writer.shutdown()

    def _transaction(self, api_key_hash: str, sale: bytes) -> tuple[int, int, bytes] | None:
        conn, fd = self._conn, self._lock_fd
        assert conn is not None and fd is not None
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(_COUNT.format(p="?"), (api_key_hash,)).fetchone()
                if row is None:
                    conn.execute("ROLLBACK")
                    return None
                register_id, number = int(row[0]), int(row[1])
                content = receipt_bytes(register_id, number, sale)
                signature = self._keys[register_id].sign(content, _ECDSA)
                inserted = conn.execute(_INSERT.format(p="?"), (register_id, number, content, signature))
                receipt_id = inserted.fetchone()[0]
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        return int(receipt_id), number, signature

    async def commit_receipt(self, api_key_hash: str, sale: bytes) -> tuple[int, int, bytes] | None:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._transaction, api_key_hash, sale)


class _Unknown(Exception):
    pass


class _PostgresStore(_Store):
    def __init__(self, url: str, size: int) -> None:
        self._url = libpq_url(url)
        self._size = size
        self._pool: asyncio.Queue[Any] = asyncio.Queue()
        self._all: list[Any] = []
        self._keys: dict[int, ec.EllipticCurvePrivateKey] = {}

    async def open(self) -> None:
        import psycopg

        for _ in range(self._size):
            conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            self._all.append(conn)
            self._pool.put_nowait(conn)
        cursor = await self._all[0].execute("SELECT id, key_pem FROM registers")
        for register_id, pem in await cursor.fetchall():
            self._keys[int(register_id)] = _private_key(pem)

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()

    async def commit_receipt(self, api_key_hash: str, sale: bytes) -> tuple[int, int, bytes] | None:
        conn = await self._pool.get()
        try:
            async with conn.transaction():
                row = await (await conn.execute(_COUNT.format(p="%s"), (api_key_hash,))).fetchone()
                if row is None:
                    raise _Unknown
                register_id, number = int(row[0]), int(row[1])
                content = receipt_bytes(register_id, number, sale)
                signature = self._keys[register_id].sign(content, _ECDSA)
                cursor = await conn.execute(_INSERT.format(p="%s"), (register_id, number, content, signature))
                receipt_id = (await cursor.fetchone())[0]
        except _Unknown:
            return None
        finally:
            self._pool.put_nowait(conn)
        return int(receipt_id), number, signature


def _store_for(url: str, pool_size: int) -> _Store:
    path = sqlite_path(url)
    if path is not None:
        return _SqliteStore(path)
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return _PostgresStore(url, pool_size)
    raise ValueError(f"not a SQLite or PostgreSQL URL: {url}")


# ---- the app ----------------------------------------------------------------------------------------------


def create_app(url: str, pool_size: int = 8) -> FastAPI:
    store = _store_for(url, pool_size)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/sales")
    async def create_sale(sale: Sale, x_api_key: str = Header()) -> Receipt:
        done = await store.commit_receipt(key_hash(x_api_key), sale_bytes(sale))
        if done is None:
            raise HTTPException(status_code=401, detail="unknown API key")
        receipt_id, number, signature = done
        return Receipt(receiptId=receipt_id, number=number, signature=base64.b64encode(signature).decode())

    return app


def create_app_from_environment() -> FastAPI:
    """The factory ``uvicorn`` calls in each worker: ``NAIVE_DATABASE_URL``, ``NAIVE_POOL_SIZE``."""
    return create_app(os.environ["NAIVE_DATABASE_URL"], int(os.environ.get("NAIVE_POOL_SIZE", "8")))
