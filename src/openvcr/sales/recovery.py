"""Finishing documents left ``pending`` by a crash, a timeout or a lost answer.

Rules:
- A pending document whose SRC request never got persisted was never sent: it is dropped.
- One whose SRC request is ``done`` is completed with the stored receipt (journal entry included); one whose
  request ``failed`` (SRC refused it, or it was certainly not registered) is dropped.
- One still in doubt is left alone after asking ``SrcService.resolve_in_doubt`` to settle it; a later pass,
  or an operator (``openvcr src in-doubt``), finishes it. Nothing is ever sent to SRC twice.
- Only documents older than ``min_age_ms`` are touched, so a request still being served (by this or another
  worker) is never interfered with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select

from openvcr.authority.gateway import Receipt
from openvcr.authority.service import SrcService
from openvcr.store.db import Database, now_ms

log = logging.getLogger("openvcr.recovery")


@dataclass(frozen=True)
class DocumentKind:
    name: str
    table: Table
    complete: Callable[[Connection, int, Receipt], Any]
    drop: Callable[[Connection, int], None]


@dataclass(frozen=True)
class RecoveryReport:
    completed: int
    dropped: int
    in_doubt: int


def recover(db: Database, src: SrcService, kinds: list[DocumentKind], *, min_age_ms: int = 60_000) -> RecoveryReport:
    try:
        src.resolve_in_doubt()
    except Exception:  # SRC unreachable: settle what is already known, try the rest next time
        log.warning("could not reach SRC to resolve requests in doubt", exc_info=True)
    cutoff = now_ms() - min_age_ms
    completed = dropped = in_doubt = 0
    for kind in kinds:
        with db.read() as conn:
            rows = conn.execute(
                select(kind.table.c.id, kind.table.c.document_key).where(
                    kind.table.c.state == "pending", kind.table.c.created_at <= cutoff
                )
            ).all()
        for row in rows:
            request = src.request_state(row.document_key)
            if request is None or request.state == "failed":
                with db.write() as conn:
                    kind.drop(conn, row.id)
                dropped += 1
                log.info("dropped pending %s %s (not registered with SRC)", kind.name, row.id)
            elif request.state == "done":
                receipt = src.outcome(row.document_key)
                assert receipt is not None
                with db.write() as conn:
                    kind.complete(conn, row.id, receipt)
                completed += 1
                log.info("completed pending %s %s from SRC receipt %s", kind.name, row.id, receipt.receipt_id)
            else:
                in_doubt += 1
    return RecoveryReport(completed, dropped, in_doubt)
