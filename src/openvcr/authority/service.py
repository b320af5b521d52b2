"""``SrcService``: the only way the rest of OpenVCR talks to SRC e-HDM.

Rules (the algorithm is written out in ``docs/src-ehdm.md``):
- Calls of one register are serialized (``RegisterLocks``); different registers run in parallel.
- A seq-carrying request gets its seq reserved and is persisted in ``src_requests`` in one committed
  transaction BEFORE it is sent; no database transaction is open during the HTTP call.
- One ``document_key`` → at most one registered receipt: a repeat returns the stored outcome; a lost answer
  is resolved (printCopy of the expected receipt numbers) before anything is sent again.
- Errors raised to callers are domain errors: ``AuthorityUnavailable`` (certainly nothing registered),
  ``AuthorityRefused`` (SRC's code and localized text kept), ``AuthorityInDoubt`` (answer lost, not settled
  yet), plus ``NotFound`` / ``ValidationFailed`` / ``Conflict`` for bad calls.
- seq policy ``increasing``: a reserved seq is never given back. ``strict`` (previous + 1): a seq the server
  did not consume (not sent, or refused before its seq check) is given back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from openvcr.authority import repository as repo
from openvcr.authority import wire
from openvcr.authority.errors import AuthorityRejected, AuthorityRetryable
from openvcr.authority.gateway import (
    GoodList,
    PrintRequest,
    Receipt,
    ReturnedReceiptInfo,
    ReturnRequest,
    SrcGateway,
)
from openvcr.authority.locks import RegisterLocks
from openvcr.config import Settings
from openvcr.core.errors import (
    AuthorityInDoubt,
    AuthorityRefused,
    AuthorityUnavailable,
    Conflict,
    NotFound,
    ValidationFailed,
)
from openvcr.store.db import Database

T = TypeVar("T")

# Codes SRC returns before its seq check: the seq of such a request is not consumed.
PRE_SEQ_CODES = frozenset({103, 105, 195, 196, 197, 198, 199, 403})
RECEIPT_DOES_NOT_EXIST = 176
INVALID_SEQ = 104
EXISTING_DEPARTMENT = 202
ACTIVATION_FAILED = 195
OPERATING_WORDS = ("Գործող", "Operating", "Действующ")
# How far past the last known receipt the resolution looks, and the clock skew it tolerates.
MAX_SCAN = 32
CLOCK_SKEW_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class Resolution:
    """What became of one unsettled request."""

    request_id: int
    register_id: int
    document_key: str | None
    method: str
    state: str  # done | failed | in_doubt | operator
    receipt_id: int | None
    note: str


class _Settled(Exception):
    """Internal: resolution reached a verdict."""


class SrcService:
    """The SRC e-HDM use cases over a ``SrcGateway``."""

    def __init__(self, db: Database, gateway: SrcGateway, settings: Settings) -> None:
        self.db = db
        self.gateway = gateway
        self.settings = settings
        self.strict = settings.src_seq_policy == "strict"
        self.locks = RegisterLocks(db)

    # --- registration and set-up ---

    def _register(self, register_id: int) -> tuple[repo.RegisterInfo, str]:
        with self.db.read() as conn:
            info = repo.load_register(conn, register_id)
        if info is None:
            raise NotFound(f"register {register_id} does not exist")
        if not info.crn:
            raise ValidationFailed.at(["register", "crn"], f"register {register_id} has no CRN")
        return info, info.crn

    def check_connection(self, register_id: int) -> None:
        _, crn = self._register(register_id)
        self._unsequenced(lambda: self.gateway.check_connection(crn))

    def activate(self, register_id: int) -> None:
        """Move the register to Գործող (operating); nothing to do when it already is."""
        info, crn = self._register(register_id)
        if info.authority_status == "operating":
            return
        with self.locks.hold(register_id):
            try:
                self._unsequenced(lambda: self.gateway.activate(crn))
            except AuthorityRefused as exc:
                already = exc.authority_code == ACTIVATION_FAILED and any(
                    word in exc.authority_message for word in OPERATING_WORDS
                )
                if not already:
                    raise
            with self.db.write() as conn:
                repo.set_authority_status(conn, register_id, "operating")

    def configure_departments(self, register_id: int, departments: Sequence[tuple[int, int]]) -> None:
        """Declare departments (dep, SRC regime code) one request each; an existing one counts as done."""
        if not departments:
            raise ValidationFailed.at(["departments"], "at least one department is required")
        for index, (dep, regime) in enumerate(departments):
            if dep < 1 or regime not in (1, 2, 3, 7):
                raise ValidationFailed.at(["departments", index], f"bad department {dep} / tax regime {regime}")
        _, crn = self._register(register_id)
        with self.locks.hold(register_id):
            for dep, regime in departments:
                pair = [(dep, regime)]

                def body(seq: int, pair: list[tuple[int, int]] = pair) -> dict[str, Any]:
                    return wire.configure_departments_body(crn, seq, pair)

                def call(seq: int, pair: list[tuple[int, int]] = pair) -> None:
                    self.gateway.configure_departments(crn, seq, pair)

                try:
                    self._sequenced(register_id, "configureDepartments", body, call)
                except AuthorityRefused as exc:
                    if exc.authority_code != EXISTING_DEPARTMENT:
                        raise

    def get_good_list(self, register_id: int, tax_regime: int) -> list[GoodList]:
        info, crn = self._register(register_id)
        return self._unsequenced(lambda: self.gateway.get_good_list(crn, info.tin, tax_regime))

    # --- read-only seq-carrying calls ---

    def print_copy(self, register_id: int, receipt_id: int) -> Receipt:
        _, crn = self._register(register_id)
        with self.locks.hold(register_id):
            return self._sequenced(
                register_id,
                "printCopy",
                lambda seq: wire.print_copy_body(crn, seq, receipt_id),
                lambda seq: self.gateway.print_copy(crn, seq, receipt_id),
            )

    def get_returned_receipt_info(
        self, register_id: int, receipt_id: int, source_crn: str | None = None
    ) -> ReturnedReceiptInfo:
        _, crn = self._register(register_id)
        with self.locks.hold(register_id):
            return self._sequenced(
                register_id,
                "getReturnedReceiptInfo",
                lambda seq: wire.returned_info_body(crn, seq, receipt_id, source_crn),
                lambda seq: self.gateway.get_returned_receipt_info(crn, seq, receipt_id, source_crn),
            )

    # --- documents ---

    def print_receipt(self, register_id: int, document_key: str, request: PrintRequest) -> Receipt:
        """Register a sale (mode 2) or a prepayment (mode 3) once per ``document_key``."""
        _, crn = self._register(register_id)
        return self._document(
            register_id,
            document_key,
            "print",
            lambda seq: wire.print_body(crn, seq, request),
            lambda seq: self.gateway.print_receipt(crn, seq, request),
        )

    def print_return_receipt(self, register_id: int, document_key: str, request: ReturnRequest) -> Receipt:
        """Register a return receipt once per ``document_key``."""
        _, crn = self._register(register_id)
        return self._document(
            register_id,
            document_key,
            "printReturnReceipt",
            lambda seq: wire.return_body(crn, seq, request),
            lambda seq: self.gateway.print_return_receipt(crn, seq, request),
        )

    def outcome(self, document_key: str) -> Receipt | None:
        """The receipt registered for ``document_key``, or None (not registered, or not settled yet)."""
        with self.db.read() as conn:
            row = repo.by_key(conn, document_key)
        if row is None or row.state != "done" or row.response is None:
            return None
        return wire.parse_receipt(wire.loads(row.response))

    def request_state(self, document_key: str) -> repo.SrcRequest | None:
        with self.db.read() as conn:
            return repo.by_key(conn, document_key)

    def unsettled(self, register_id: int | None = None) -> list[repo.SrcRequest]:
        """Requests pending, in doubt or waiting for an operator."""
        with self.db.read() as conn:
            return repo.unsettled(conn, register_id, ("pending", "in_doubt", "operator"))

    def resolve_in_doubt(self, register_id: int | None = None) -> list[Resolution]:
        """Settle every pending / in-doubt document request (of one register, or all); never sends one again."""
        with self.db.read() as conn:
            rows = repo.unsettled(conn, register_id)
        out: list[Resolution] = []
        for reg in sorted({r.register_id for r in rows}):
            with self.locks.hold(reg):
                with self.db.read() as conn:
                    current = repo.unsettled(conn, reg)
                for row in current:
                    out.append(self._resolve(row))
        return out

    def settle_by_operator(self, document_key: str, receipt_id: int | None) -> Resolution:
        """An operator's verdict on a request: registered as ``receipt_id`` (checked by printCopy) or not."""
        with self.db.read() as conn:
            row = repo.by_key(conn, document_key)
        if row is None:
            raise NotFound(f"no SRC request for {document_key!r}")
        if row.state == "done":
            raise Conflict(f"{document_key!r} is already registered as receipt {row.receipt_id}")
        with self.locks.hold(row.register_id):
            if receipt_id is None:
                with self.db.write() as conn:
                    repo.finish(conn, row.id, "failed", note="operator: not registered")
                return Resolution(row.id, row.register_id, document_key, row.method, "failed", None, "operator")
            receipt = self.print_copy_unlocked(row.register_id, receipt_id)
            with self.db.write() as conn:
                if receipt_id in repo.claimed_receipts(conn, row.register_id):
                    raise Conflict(f"receipt {receipt_id} already belongs to another document")
                repo.finish(
                    conn,
                    row.id,
                    "done",
                    receipt_id=receipt.receipt_id,
                    response=wire.dumps(wire.receipt_to_json(receipt)),
                    note="operator: registered",
                )
            return Resolution(row.id, row.register_id, document_key, row.method, "done", receipt_id, "operator")

    def resync_seq(self, register_id: int, last_seq: int | None) -> None:
        """Set the register's last used seq (the next request uses ``last_seq + 1``)."""
        if last_seq is not None and last_seq < 0:
            raise ValidationFailed.at(["seq"], "seq must not be negative")
        with self.locks.hold(register_id), self.db.write() as conn:
            if not repo.set_seq(conn, register_id, last_seq):
                raise NotFound(f"register {register_id} does not exist")

    # --- the machinery ---

    def print_copy_unlocked(self, register_id: int, receipt_id: int) -> Receipt:
        """printCopy for a caller that already holds the register's lock."""
        _, crn = self._register(register_id)
        return self._sequenced(
            register_id,
            "printCopy",
            lambda seq: wire.print_copy_body(crn, seq, receipt_id),
            lambda seq: self.gateway.print_copy(crn, seq, receipt_id),
        )

    @staticmethod
    def _unsequenced(call: Callable[[], T]) -> T:
        try:
            return call()
        except AuthorityRejected as exc:
            raise _refused(exc) from exc
        except AuthorityRetryable as exc:
            raise AuthorityUnavailable(f"SRC is unavailable: {exc}") from exc

    def _sequenced(
        self,
        register_id: int,
        method: str,
        body: Callable[[int], dict[str, Any]],
        call: Callable[[int], T],
    ) -> T:
        """A seq-carrying call that registers nothing (the caller holds the lock)."""
        with self.db.write() as conn:
            seq = repo.reserve_seq(conn, register_id)
            text = wire.dumps(body(seq))
            request_id = repo.insert_request(
                conn,
                register_id=register_id,
                document_key=None,
                method=method,
                seq=seq,
                body=text,
                request_hash=_hash(text),
            )
        try:
            result = call(seq)
        except AuthorityRejected as exc:
            self._record_rejection(register_id, request_id, seq, exc)
            raise _refused(exc) from exc
        except AuthorityRetryable as exc:
            with self.db.write() as conn:
                if self.strict and not exc.sent:
                    repo.give_back_seq(conn, register_id, seq)
                repo.finish(conn, request_id, "failed", error_code=exc.code, error_message=str(exc))
            raise AuthorityUnavailable(f"SRC is unavailable: {exc}") from exc
        with self.db.write() as conn:
            receipt_id = result.receipt_id if isinstance(result, Receipt) else None
            repo.finish(
                conn, request_id, "done", receipt_id=None, note=None if receipt_id is None else f"copy of {receipt_id}"
            )
        return result

    def _record_rejection(self, register_id: int, request_id: int, seq: int, exc: AuthorityRejected) -> None:
        with self.db.write() as conn:
            if self.strict and exc.code in PRE_SEQ_CODES:
                repo.give_back_seq(conn, register_id, seq)
            repo.finish(
                conn, request_id, "rejected", error_code=exc.code, error_message=exc.error_message or exc.message
            )

    def _document(
        self,
        register_id: int,
        document_key: str,
        method: str,
        body: Callable[[int], dict[str, Any]],
        call: Callable[[int], Receipt],
    ) -> Receipt:
        if not document_key or len(document_key) > 200:
            raise ValidationFailed.at(["document_key"], "document_key must have 1 to 200 characters")
        digest = _hash(wire.dumps(body(0) | {"seq": None}))
        with self.locks.hold(register_id):
            with self.db.read() as conn:
                existing = repo.by_key(conn, document_key)
            if existing is not None:
                if existing.register_id != register_id or existing.method != method or existing.request_hash != digest:
                    raise Conflict(f"document_key {document_key!r} was used for a different SRC request")
                if existing.state in ("pending", "in_doubt"):
                    existing = self._resolve_and_reload(existing)
                if existing.state == "done":
                    assert existing.response is not None
                    return wire.parse_receipt(wire.loads(existing.response))
                if existing.state in ("in_doubt", "operator"):
                    raise AuthorityInDoubt(document_key, f"SRC request {document_key!r} is unsettled: {existing.note}")
            # Not registered (new, failed or rejected before): send, at most twice if the answer is lost
            # and resolution proves nothing was registered.
            for _attempt in range(2):
                request_id, seq = self._persist(register_id, document_key, method, body, digest, existing)
                try:
                    receipt = call(seq)
                except AuthorityRejected as exc:
                    self._record_rejection(register_id, request_id, seq, exc)
                    raise _refused(exc) from exc
                except AuthorityRetryable as exc:
                    if not exc.sent or exc.code == 500:
                        with self.db.write() as conn:
                            if self.strict and not exc.sent:
                                repo.give_back_seq(conn, register_id, seq)
                            repo.finish(conn, request_id, "failed", error_code=exc.code, error_message=str(exc))
                        raise AuthorityUnavailable(f"SRC is unavailable, nothing was registered: {exc}") from exc
                    with self.db.write() as conn:
                        repo.finish(conn, request_id, "in_doubt", error_code=exc.code, error_message=str(exc))
                        row = repo.by_id(conn, request_id)
                    assert row is not None
                    row = self._resolve_and_reload(row)
                    if row.state == "done":
                        assert row.response is not None
                        return wire.parse_receipt(wire.loads(row.response))
                    if row.state != "failed":
                        raise AuthorityInDoubt(document_key) from exc
                    existing = row
                    continue
                with self.db.write() as conn:
                    repo.finish(
                        conn,
                        request_id,
                        "done",
                        receipt_id=receipt.receipt_id,
                        response=wire.dumps(wire.receipt_to_json(receipt)),
                    )
                return receipt
            raise AuthorityUnavailable("SRC lost two answers in a row; nothing was registered")

    def _persist(
        self,
        register_id: int,
        document_key: str,
        method: str,
        body: Callable[[int], dict[str, Any]],
        digest: str,
        existing: repo.SrcRequest | None,
    ) -> tuple[int, int]:
        """Reserve the seq and persist the request (committed before it is sent); return (request id, seq)."""
        with self.db.write() as conn:
            seq = repo.reserve_seq(conn, register_id)
            text = wire.dumps(body(seq))
            if existing is None:
                request_id = repo.insert_request(
                    conn,
                    register_id=register_id,
                    document_key=document_key,
                    method=method,
                    seq=seq,
                    body=text,
                    request_hash=digest,
                )
                return request_id, seq
            repo.restart_request(conn, existing.id, seq=seq, body=text)
            return existing.id, seq

    def _resolve_and_reload(self, row: repo.SrcRequest) -> repo.SrcRequest:
        self._resolve(row)
        with self.db.read() as conn:
            fresh = repo.by_id(conn, row.id)
        assert fresh is not None
        return fresh

    def _resolve(self, row: repo.SrcRequest) -> Resolution:
        """Settle one pending / in-doubt request (the caller holds its register's lock)."""

        def verdict(state: str, note: str, receipt: Receipt | None = None) -> Resolution:
            with self.db.write() as conn:
                repo.finish(
                    conn,
                    row.id,
                    state,
                    receipt_id=None if receipt is None else receipt.receipt_id,
                    response=None if receipt is None else wire.dumps(wire.receipt_to_json(receipt)),
                    error_code=row.error_code,
                    error_message=row.error_message,
                    note=note,
                )
            return Resolution(
                row.id,
                row.register_id,
                row.document_key,
                row.method,
                state,
                None if receipt is None else receipt.receipt_id,
                note,
            )

        if row.method not in repo.RECEIPT_METHODS or row.seq is None:
            return verdict("failed", "not a document: nothing to settle")
        body = wire.loads(row.body)
        with self.db.read() as conn:
            before, after = repo.receipt_bounds(conn, row.register_id, row.seq)
            claimed = repo.claimed_receipts(conn, row.register_id)
        start = (before or 0) + 1
        stop = start + MAX_SCAN if after is None else min(after, start + MAX_SCAN)
        matches: list[Receipt] = []
        ended = after is not None and stop == after
        candidate = start
        while candidate < stop:
            if candidate in claimed:
                candidate += 1
                continue
            try:
                copy = self.print_copy_unlocked(row.register_id, candidate)
            except AuthorityRefused as exc:
                if exc.authority_code == RECEIPT_DOES_NOT_EXIST:
                    ended = True
                    break
                if exc.authority_code == INVALID_SEQ and self.strict:
                    # SRC never consumed R's seq: give it back so that the re-send reuses it (and a late
                    # arrival of R and the re-send compete for one seq: at most one registers).
                    with self.db.write() as conn:
                        repo.set_seq(conn, row.register_id, row.seq - 1 if row.seq > 1 else None)
                    return verdict("failed", "strict seq: the lost request's seq was never consumed by SRC")
                return verdict("in_doubt", f"printCopy {candidate} refused: {exc.authority_code}")
            except AuthorityUnavailable as exc:
                return verdict("in_doubt", f"SRC unavailable while resolving: {exc}")
            if _matches(row, body, copy):
                matches.append(copy)
            candidate += 1
        if len(matches) == 1:
            return verdict("done", f"found as receipt {matches[0].receipt_id} (printCopy)", matches[0])
        if len(matches) > 1:
            ids = ", ".join(str(r.receipt_id) for r in matches)
            return verdict("operator", f"several receipts match: {ids}")
        if not ended:
            return verdict("operator", f"no match in receipts {start}..{stop - 1}; the scan limit was reached")
        return verdict("failed", f"not registered: no matching receipt in {start}..{candidate - 1}")


def _matches(row: repo.SrcRequest, body: dict[str, Any], receipt: Receipt) -> bool:
    """Whether ``receipt`` is what ``row`` would have registered (kind, time, payment amounts)."""
    if receipt.time_ms < row.created_at - CLOCK_SKEW_MS:
        return False
    qr = wire.parse_qr(receipt.qr)
    try:
        amounts = {k: wire.qr_amount(qr[k]) for k in ("TOTAL_CASH", "TOTAL_NONCASH", "PREP_USAGE")}
    except (KeyError, ArithmeticError, ValueError):
        return False
    if row.method == "print":
        if receipt.fiscal is None:
            return False
        return (
            amounts["TOTAL_CASH"] == wire.dec(body["cashAmount"])
            and amounts["TOTAL_NONCASH"] == wire.dec(body["cardAmount"])
            and amounts["PREP_USAGE"] == wire.dec(body["prePaymentAmount"])
        )
    if receipt.fiscal is not None:
        return False
    return (
        amounts["TOTAL_CASH"] == wire.dec(body["cashAmountForReturn"])
        and amounts["TOTAL_NONCASH"] == wire.dec(body["cardAmountForReturn"])
        and amounts["PREP_USAGE"] == wire.dec(body.get("prePaymentAmountForReturn", Decimal(0)))
    )


def _refused(exc: AuthorityRejected) -> AuthorityRefused:
    text = exc.error_message or exc.message
    return AuthorityRefused(f"SRC refused the request: {exc.code} {exc.message}: {text}", exc.code, text)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
