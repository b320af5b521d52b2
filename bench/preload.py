"""The ``BENCH_PRELOAD=N`` stage: fill a register's journal with N real documents before a sales scenario.

Rules:
- Every preloaded entry goes through ``openvcr.registers.journal.append`` with the register's own signer
  (``signer_for``): numbered, chained, counted and signed exactly like a sale's entry, so the run's final
  ``openvcr verify`` covers them too.
- The entries are sale documents (``doc_type="sale"``) with a body shaped like a real sale's (1–5 items,
  totals, VAT, payments, the SRC summary) and a sale's counters delta; their ``doc_ref`` is ``preload-<n>``,
  which no real sale id (an integer) can collide with.
- Only the journal is filled: no rows are added to ``sales`` or ``sale_items``. The document check of the run
  therefore counts them apart (journal entries = sales + prepayments + invoices + preloaded).
- Entries are appended ``batch`` at a time in one write transaction each (default 5,000), so the stage costs
  one fsync per batch, not per entry.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from openvcr.core.journal import CountersDelta
from openvcr.registers import journal
from openvcr.registers.signing_keys import signer_for
from openvcr.store.db import Database, now_ms

_CODES = ("0402", "1905", "2201", "2203", "0803", "1701", "3401", "0901")
_UNITS = ("pc", "kg", "bottle")
_CENT = Decimal("0.01")


def _body(n: int, rng: random.Random, cashier_id: int, time_ms: int) -> tuple[dict[str, Any], Decimal, Decimal]:
    items = []
    total = Decimal("0.00")
    vat = Decimal("0.00")
    for line_no in range(rng.randint(1, 5)):
        quantity = Decimal(rng.randint(1, 4000)) / 1000 if rng.random() < 0.3 else Decimal(rng.randint(1, 5))
        price = Decimal(rng.randint(100, 25_000))
        line_total = (price * quantity).quantize(_CENT)
        line_vat = (line_total * 20 / 120).quantize(_CENT) if rng.random() < 0.7 else Decimal("0.00")
        total += line_total
        vat += line_vat
        items.append(
            {
                "srcId": line_no,
                "classifierCode": rng.choice(_CODES),
                "dep": 1 if line_vat else 2,
                "quantity": quantity,
                "price": price.quantize(_CENT),
                "unit": rng.choice(_UNITS),
                "discount": None,
                "discountType": None,
                "additionalDiscount": None,
                "additionalDiscountType": None,
                "total": line_total,
                "vat": line_vat,
            }
        )
    cash = (total + rng.randint(0, 5000)).quantize(_CENT)
    body = {
        "sale": f"preload-{n}",
        "urlId": f"{rng.getrandbits(96):024x}",
        "cashier": cashier_id,
        "buyerTin": None,
        "currency": None,
        "exchangeRate": None,
        "total": total,
        "vat": vat,
        "cash": cash,
        "nonCash": Decimal("0.00"),
        "prepayment": Decimal("0.00"),
        "compensation": Decimal("0.00"),
        "change": cash - total,
        "items": items,
        "src": {"crn": "preload", "srcId": n, "fiscal": f"{rng.getrandbits(32):08X}", "time": time_ms},
    }
    return body, total, vat


def preload_journal(
    db: Database,
    register_id: int,
    count: int,
    *,
    master_key: str,
    cashier_id: int,
    batch: int = 5000,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Append ``count`` signed sale entries to the register's journal; return the entries and the time taken."""
    if count < 0 or batch < 1:
        raise ValueError("the preload count is ≥ 0 and the batch size ≥ 1")
    signer = signer_for(db, register_id, master_key)
    rng = random.Random(7)
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(batch, count - done)
        with db.write() as conn:
            for n in range(done + 1, done + size + 1):
                at = now_ms()
                body, total, vat = _body(n, rng, cashier_id, at)
                journal.append(
                    conn,
                    register_id,
                    doc_type="sale",
                    doc_ref=f"preload-{n}",
                    body=body,
                    delta=CountersDelta.sale(total, vat),
                    signer=signer,
                    time_ms=at,
                )
        done += size
        if progress is not None:
            progress(done, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    return {"entries": done, "seconds": seconds, "eps": done / seconds if seconds else 0.0, "batch": batch}
