"""Measure journal verification speed: ``python -m bench.verify_bench [ENTRIES] [ROUNDS]``.

Builds a journal of ENTRIES signed entries (a 3-line sale body each) in memory, writes it as an export file,
then times the pure verifier, ``verify_file`` (file → parse → canonical bytes → hash → chain → counters →
signature) and ``verify_database``, with signatures checked in the caller's thread alone, in threads, and in
worker processes (``default_workers()`` of them, the default from ``PARALLEL_FROM`` entries). Prints entries
per second and, for the database, the ratio to one core's raw P-256 verify rate (``reference.raw_verify_rate``,
as ``verify_raw_ratio`` of the benchmark): the best of ROUNDS rounds (default 3), measured alternately. Not a
test: figures depend on the machine.

OpenVCR is imported inside the functions: a worker process imports the main module again (``multiprocessing``
does, whatever the start method), and this one should cost it nothing.
"""

from __future__ import annotations

import base64
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import orjson


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


def build(n: int, path: Path) -> list[Any]:
    """The ``RawEntry`` list of a journal of ``n`` sales, also written to ``path`` as an export."""
    from openvcr.core.canonical import canonical_bytes, parse
    from openvcr.core.journal import GENESIS_HASH, Counters, CountersDelta, RawEntry, entry_content, entry_hash
    from openvcr.core.signing import EcdsaP256Signer
    from openvcr.registers.export import EXPORT_FORMAT, EXPORT_VERSION

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


PATHS: dict[str, dict[str, Any]] = {
    "one thread": {"workers": 0, "threads": 0},
    "3 signature threads (before worker processes)": {"workers": 0, "threads": 3},
    "worker processes": {"parallel_from": 0},
}
"""How signatures are checked: the caller's thread alone, threads (the path of a journal shorter than
``PARALLEL_FROM``) and worker processes (with the caller's thread)."""


def _rate(n: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return n / (time.perf_counter() - started)


def main() -> None:
    from openvcr.core.journal import verify_entries
    from openvcr.core.signing import load_public_key
    from openvcr.registers.export import verify_file

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.jsonl"
        started = time.perf_counter()
        raws = build(n, path)
        print(f"built {n} entries in {time.perf_counter() - started:.1f} s ({path.stat().st_size >> 20} MiB)")
        key = load_public_key(_pem(path))
        print(f"pure verifier, in-process: {_rate(n, partial(verify_entries, 1, key, raws, threads=0)):,.0f} entries/s")
        for label, options in PATHS.items():
            rate = max(_rate(n, partial(verify_file, path, **options)) for _ in range(rounds))
            print(f"verify_file, {label}: {rate:,.0f} entries/s")
        bench_database(n, tmp, rounds)


def bench_database(n: int, tmp: str, rounds: int) -> None:
    """Append ``n`` sales through the write path (SQLite, batches of 1000 per transaction), then time
    ``verify_database`` in-process and in worker processes, and one core's raw verify rate, alternately."""
    from sqlalchemy import insert

    from bench.reference import raw_verify_rate
    from openvcr.core.journal import CountersDelta
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
    assert verify_database(db, workers=0).entries == n  # reads the database into the page cache
    best: dict[str, float] = {}
    for _ in range(rounds):
        for label, options in PATHS.items():
            best[label] = max(_rate(n, partial(verify_database, db, **options)), best.get(label, 0.0))
        best["raw"] = max(raw_verify_rate(1.0), best.get("raw", 0.0))
    raw = best.pop("raw")
    print(f"raw P-256 verify, one core: {raw:,.0f}/s")
    for label, rate in best.items():
        print(f"verify_database, {label}: {rate:,.0f} entries/s (ratio to raw {rate / raw:.2f})")
    db.dispose()


def _pem(path: Path) -> str:
    with open(path, "rb") as handle:
        return str(orjson.loads(handle.readline())["public_key_pem"])


if __name__ == "__main__":
    main()
