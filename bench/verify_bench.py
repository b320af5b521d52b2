"""Measure journal verification speed: ``python bench/verify_bench.py [ENTRIES]``.

Builds a journal of ENTRIES signed entries (a 3-line sale body each) in memory, writes it as an export file,
then times ``verify_file`` (file → parse → canonical bytes → hash → chain → counters → signature) and the
pure verifier alone. Prints entries per second. Not a test: figures depend on the machine.
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import orjson

from openvcr.core.canonical import parse
from openvcr.core.journal import (
    GENESIS_HASH,
    Counters,
    CountersDelta,
    RawEntry,
    entry_content,
    verify_entries,
)
from openvcr.core.signing import EcdsaP256Signer, load_public_key
from openvcr.registers.export import EXPORT_FORMAT, EXPORT_VERSION, verify_file


def _body(i: int) -> dict[str, object]:
    return {
        "saleId": i,
        "cashier": 1,
        "lines": [
            {"offer": "A-1", "quantity": Decimal("2.000"), "price": Decimal("25000.00"), "discount": "10%"},
            {"offer": "B-7", "quantity": Decimal("1.500"), "price": Decimal("1000.00")},
            {"offer": "C-3", "quantity": Decimal("1.000"), "price": Decimal("990.00")},
        ],
        "total": Decimal("47490.00"),
        "paid": {"cash": Decimal("7490.00"), "nonCash": Decimal("40000.00")},
    }


def build(n: int, path: Path) -> list[RawEntry]:
    from openvcr.core.canonical import canonical_bytes
    from openvcr.core.journal import entry_hash

    signer = EcdsaP256Signer.generate()
    counters = Counters()
    prev = GENESIS_HASH
    raws: list[RawEntry] = []
    with open(path, "wb") as out:
        header = {
            "kind": "register",
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "register": 1,
            "algorithm": "ecdsa-p256-sha256",
            "key_id": signer.key_id,
            "public_key_pem": signer.public_key_pem(),
            "entries": n,
        }
        out.write(orjson.dumps(header) + b"\n")
        for i in range(1, n + 1):
            counters = counters.apply("sale", CountersDelta.sale(Decimal("47490.00"), Decimal("7915.00")))
            content = entry_content(
                register_id=1,
                number=i,
                doc_type="sale",
                doc_ref=str(i),
                body=_body(i),
                counters=counters,
                prev_hash=prev,
                time_ms=1_700_000_000_000 + i,
                key_id=signer.key_id,
            )
            data = canonical_bytes(content)
            digest = entry_hash(data)
            signature = signer.sign(data)
            line = {
                "kind": "entry",
                "hash": digest,
                "signature": base64.b64encode(signature).decode(),
                "entry": orjson.Fragment(data),
            }
            out.write(orjson.dumps(line) + b"\n")
            raws.append(RawEntry(parse(data), data, digest, signature))
            prev = digest
    return raws


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.jsonl"
        started = time.perf_counter()
        raws = build(n, path)
        print(f"built {n} entries in {time.perf_counter() - started:.1f} s ({path.stat().st_size >> 20} MiB)")
        key = load_public_key(raws[0].content and _pem(path))
        for threads in (0, 3):
            started = time.perf_counter()
            verify_entries(1, key, raws, threads=threads)
            elapsed = time.perf_counter() - started
            print(f"pure verifier, {threads} signature threads: {n / elapsed:,.0f} entries/s")
            started = time.perf_counter()
            report = verify_file(path, threads=threads)
            elapsed = time.perf_counter() - started
            assert report.entries == n
            print(f"verify_file, {threads} signature threads: {n / elapsed:,.0f} entries/s")
        bench_database(n, tmp)


def bench_database(n: int, tmp: str) -> None:
    """Append ``n`` sales through the write path (SQLite, batches of 1000 per transaction), then time
    ``verify_database``."""
    from sqlalchemy import insert

    from openvcr.registers import journal
    from openvcr.registers.export import verify_database
    from openvcr.registers.signing_keys import ensure_register_key, signer_for
    from openvcr.store import migrate
    from openvcr.store.db import Database, now_ms
    from openvcr.store.schema.foundation import business_entities, registers

    db = Database(f"sqlite:///{tmp}/bench.db")
    migrate.upgrade(db)
    with db.write() as conn:
        entity = conn.execute(
            insert(business_entities).values(tin="1", name="b", created_at=now_ms()).returning(business_entities.c.id)
        ).scalar_one()
        register_id = int(
            conn.execute(
                insert(registers)
                .values(
                    entity_id=entity, mode="sandbox", trading_platform_name="b", authority_status="current",
                    created_at=now_ms(),
                )
                .returning(registers.c.id)
            ).scalar_one()
        )  # fmt: skip
        ensure_register_key(conn, register_id, "bench")
    signer = signer_for(db, register_id, "bench")
    delta = CountersDelta.sale(Decimal("47490.00"), Decimal("7915.00"))
    started = time.perf_counter()
    for first in range(1, n + 1, 1000):
        with db.write() as conn:
            for i in range(first, min(first + 1000, n + 1)):
                journal.append(
                    conn, register_id, doc_type="sale", doc_ref=str(i), body=_body(i), delta=delta, signer=signer
                )
    print(f"append (1000 per transaction): {n / (time.perf_counter() - started):,.0f} entries/s")
    started = time.perf_counter()
    report = verify_database(db)
    assert report.entries == n
    print(f"verify_database: {n / (time.perf_counter() - started):,.0f} entries/s")
    db.dispose()


def _pem(path: Path) -> str:
    with open(path, "rb") as handle:
        return str(orjson.loads(handle.readline())["public_key_pem"])


if __name__ == "__main__":
    main()
