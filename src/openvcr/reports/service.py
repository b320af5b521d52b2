"""Use cases of shift reports (X and Z) and of the document lists.

Rules:
- A report is a journal-only fiscal document: SRC e-HDM has no report call, so it never enters the SRC
  pipeline. Taking one is one write transaction: lock the register's journal head, add up the shift's
  entries (everything after the last Z report, ``core.shift.ShiftTally``), insert the ``completed`` document
  and the report row, append the signed entry (``registers.journal.append``: gap-free number, chain,
  signature) and store the response. The totals therefore equal the sum of the journal entries they follow,
  and ``openvcr verify`` recomputes them.
- One ``Idempotency-Key`` → at most one report (per endpoint and register), also when two requests race:
  the second finds the first's document and replays its stored response; the same key with another body is
  an ``IdempotencyMismatch``. Without a key every request takes a new report.
- A Z report on an empty shift (no document since the last Z) is refused with a ``Conflict`` (409) and writes
  nothing; an X report on an empty shift is a zero report.
- Bad input (unknown cashier, a bad cursor, period or limit) is a ``ValidationFailed`` before anything is
  written.
- Lists are scoped to the caller's register, newest first, ``limit`` 1 … 500, with an opaque cursor (the
  base64url of the last row's creation time and id) that a client passes back unchanged.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openvcr.catalog.service import find_cashier
from openvcr.config import Settings
from openvcr.core.errors import Conflict, IdempotencyMismatch, NotFound, ValidationFailed
from openvcr.core.journal import CountersDelta
from openvcr.core.shift import ShiftTally, report_body
from openvcr.documents import repository as documents
from openvcr.documents.models import Document, DocumentState, FiscalStatus, Outcome, RequestKey
from openvcr.documents.schemas import CashierRef
from openvcr.registers import journal
from openvcr.registers.models import Register
from openvcr.registers.repository import get_register
from openvcr.registers.signing_keys import signer_for
from openvcr.reports import repository as repo
from openvcr.reports.models import (
    MAX_LIMIT,
    REPORT_KINDS,
    Cursor,
    ListedDocument,
    ListKind,
    Page,
    Period,
    ReportType,
    ShiftReport,
)
from openvcr.reports.schemas import ReportOut
from openvcr.schemas import json_bytes
from openvcr.store.db import Database, now_ms
from openvcr.webhooks import service as webhooks
from openvcr.webhooks.models import REPORT_Z

_MAX_CURSOR = 200


def encode_cursor(cursor: Cursor) -> str:
    """The opaque text of a cursor."""
    return base64.urlsafe_b64encode(orjson.dumps([cursor.created_at, cursor.id])).decode("ascii").rstrip("=")


def decode_cursor(text: str | None) -> Cursor | None:
    """A cursor from its text (None: the first page); ``ValidationFailed`` when it is not one of ours."""
    if text is None:
        return None
    problem = ValidationFailed.at(["query", "cursor"], "cursor is not a cursor this list returned")
    if not text or len(text) > _MAX_CURSOR or not text.isascii():
        raise problem
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise problem from None
    if not isinstance(value, list) or len(value) != 2 or any(type(v) is not int or v < 0 or v > 2**62 for v in value):
        raise problem
    return Cursor(value[0], value[1])


def _moment(name: str, text: str, *, upper: bool) -> int:
    """Epoch ms of a period bound: an ISO-8601 date-time with an offset (``…Z``, ``…+04:00``), or a date
    (``YYYY-MM-DD``, a UTC day: a ``to`` date includes the whole day)."""
    text = text.strip()
    problem = ValidationFailed.at(
        ["query", name], f"{name} is a date (YYYY-MM-DD) or a date-time with an offset (2026-12-07T10:00:00Z)"
    )
    if len(text) > 40:
        raise problem
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + (timedelta(days=1) if upper else timedelta())
            return int(moment.timestamp() * 1000)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise problem from None
    if parsed.tzinfo is None:
        raise problem
    ms = int(parsed.timestamp() * 1000)
    return ms + 1 if upper else ms  # ``to`` includes its own millisecond


def period_of(from_text: str | None, to_text: str | None) -> Period:
    """The period ``from`` … ``to`` (both included; each optional); ``ValidationFailed`` when malformed or
    reversed."""
    start = None if from_text is None else _moment("from", from_text, upper=False)
    end = None if to_text is None else _moment("to", to_text, upper=True)
    if start is not None and end is not None and end <= start:
        raise ValidationFailed.at(["query", "to"], "to is before from")
    return Period(start, end)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.at(["query", "limit"], f"limit is 1 to {MAX_LIMIT}")
    return limit


class ReportsService:
    """X and Z reports of a register (see the module rules)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def take(self, register_id: int, report_type: ReportType, key: RequestKey, cashier: CashierRef | None) -> Outcome:
        """Take an X or Z report, or answer from the one already taken under ``key``."""
        kind = REPORT_KINDS[report_type]
        with self.db.read() as conn:
            existing = documents.by_key(conn, register_id, key.document_key)
            cashier_id = None if cashier is None else find_cashier(conn, register_id, cashier).id
        if existing is not None:
            return self._existing(existing, kind, key)
        try:
            with self.db.write() as conn:
                return self._write(conn, register_id, report_type, key, cashier_id)
        except IntegrityError:
            with self.db.read() as conn:
                existing = documents.by_key(conn, register_id, key.document_key)
            if existing is None:
                raise
            return self._existing(existing, kind, key)

    @staticmethod
    def _existing(document: Document, kind: str, key: RequestKey) -> Outcome:
        if document.kind != kind or document.request_hash != key.request_hash:
            raise IdempotencyMismatch("This Idempotency-Key was already used with a different request")
        if document.state is not DocumentState.COMPLETED or document.response is None:  # pragma: no cover
            raise Conflict("A request with this Idempotency-Key is still in progress; retry later with the same key")
        return Outcome(document.response, replayed=True)

    def _write(
        self, conn: Connection, register_id: int, report_type: ReportType, key: RequestKey, cashier_id: int | None
    ) -> Outcome:
        kind = REPORT_KINDS[report_type]
        closed = repo.lock_journal(conn, register_id)
        if key.request_hash is not None:  # a racing request with this key may have taken it while we waited
            existing = documents.by_key(conn, register_id, key.document_key)
            if existing is not None:
                return self._existing(existing, kind, key)
        tally = ShiftTally()
        for entry in journal.entries(conn, register_id, after=repo.last_z_number(conn, register_id)):
            tally.add(entry.doc_type, entry.number, entry.time_ms, entry.body)
        if report_type == "z" and tally.empty:
            raise Conflict("The shift is empty: no document since the last Z report, so there is nothing to close")
        now = now_ms()
        document_id = repo.insert_document(conn, register_id, kind, key, cashier_id)
        report_id = repo.insert_report(
            conn,
            register_id,
            document_id,
            report_type,
            closed + 1,
            0,
            tally.first_number,
            tally.last_number,
            tally.opened_at,
            now,
        )
        body = report_body(report_id, report_type, closed + 1, tally)
        entry = journal.append(
            conn,
            register_id,
            doc_type=kind,
            doc_ref=str(report_id),
            body=body,
            delta=CountersDelta(),
            signer=signer_for(conn, register_id, self.settings.master_key.get_secret_value()),
            time_ms=now,
        )
        report = repo.report_of_document(conn, document_id)
        assert report is not None
        report = replace(report, journal_number=entry.number, totals=body["totals"])
        out = ReportOut.of(report).model_dump(by_alias=True)
        response = json_bytes(out)
        repo.finish_report(conn, report_id, document_id, entry.number, body["totals"], response)
        if report_type == "z":  # in the Z's own transaction: the event exists exactly when the Z does
            webhooks.emit(conn, register_id, REPORT_Z, out)
        return Outcome(response, replayed=False)

    def get(self, register_id: int, report_id: int) -> ShiftReport:
        with self.db.read() as conn:
            report = repo.get_report(conn, register_id, report_id)
        if report is None:
            raise NotFound(f"report {report_id} not found")
        return report

    def printable(self, register_id: int, report_id: int) -> tuple[ShiftReport, Register]:
        """The report and its register (business name, TIN, CRN …) for a printable rendering."""
        with self.db.read() as conn:
            report = repo.get_report(conn, register_id, report_id)
            if report is None:
                raise NotFound(f"report {report_id} not found")
            return report, get_register(conn, register_id)

    def list(
        self, register_id: int, report_type: ReportType | None, period: Period, cursor: Cursor | None, limit: int
    ) -> Page[ShiftReport]:
        check_limit(limit)
        with self.db.read() as conn:
            rows = repo.list_reports(conn, register_id, report_type, period, cursor, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = Cursor(rows[-1].created_at, rows[-1].id) if more else None
        return Page(tuple(rows), last)


class DocumentLists:
    """The cursor lists of a register's sales, sale refunds and prepayment refunds."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list(
        self,
        register_id: int,
        kind: ListKind,
        states: Sequence[FiscalStatus] | None,
        period: Period,
        cursor: Cursor | None,
        limit: int,
    ) -> Page[ListedDocument]:
        check_limit(limit)
        with self.db.read() as conn:
            rows = repo.list_documents(conn, register_id, kind, states, period, cursor, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        last = Cursor(rows[-1].created_at, rows[-1].id) if more else None
        return Page(tuple(rows), last)
