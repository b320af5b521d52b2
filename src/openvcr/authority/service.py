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
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection

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
from openvcr.authority.pool import IdentityRefused
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
class Reservation:
    """One SRC call whose seq is reserved and whose request is persisted, ready to be sent."""

    request_id: int
    register_id: int
    document_key: str | None  # None for the read-only getReturnedReceiptInfo before a return
    seq: int
    call: Callable[[int], Any]
    body: Callable[[int], dict[str, Any]] | None = None  # to send it again with a new seq (documents only)


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
        return self.register_document(register_id, document_key, request)

    def print_return_receipt(self, register_id: int, document_key: str, request: ReturnRequest) -> Receipt:
        """Register a return receipt once per ``document_key``."""
        return self.register_document(register_id, document_key, request)

    def register_document(
        self, register_id: int, document_key: str, request: PrintRequest | ReturnRequest, *, with_info: bool = False
    ) -> Receipt:
        """Register one document once per ``document_key``: a repeat returns the stored receipt, an unsettled
        earlier attempt is resolved first; otherwise reserve (one commit), send, record (one commit)."""
        with self.locks.hold(register_id):
            with self.db.read() as conn:
                existing = repo.by_key(conn, document_key)
            if existing is not None and existing.state not in ("failed", "rejected"):
                with self.db.read() as conn:
                    _check_same(existing, register_id, *self._describe(conn, register_id, request))
                if existing.state in ("pending", "in_doubt"):
                    existing = self._resolve_and_reload(existing)
                if existing.state == "done":
                    assert existing.response is not None
                    return wire.parse_receipt(wire.loads(existing.response))
                if existing.state in ("in_doubt", "operator"):
                    raise AuthorityInDoubt(document_key, f"SRC request {document_key!r} is unsettled: {existing.note}")
            with self.db.write() as conn:
                reservations = self.reserve(conn, register_id, document_key, request, with_info=with_info)
            results = self.send(reservations)
            with self.db.write() as conn:
                self.record(conn, reservations, results)
        receipt = results[-1]
        assert isinstance(receipt, Receipt)
        return receipt

    def _describe(
        self, conn: Connection, register_id: int, request: PrintRequest | ReturnRequest
    ) -> tuple[str, str, Callable[[int], dict[str, Any]], Callable[[int], Receipt]]:
        """(crn, method, body(seq), call(seq)) of a document request."""
        info = repo.load_register(conn, register_id)
        if info is None:
            raise NotFound(f"register {register_id} does not exist")
        if not info.crn:
            raise ValidationFailed.at(["register", "crn"], f"register {register_id} has no CRN")
        crn = info.crn
        if isinstance(request, PrintRequest):
            return (
                crn,
                "print",
                lambda seq: wire.print_body(crn, seq, request),
                lambda seq: self.gateway.print_receipt(crn, seq, request),
            )
        return (
            crn,
            "printReturnReceipt",
            lambda seq: wire.return_body(crn, seq, request),
            lambda seq: self.gateway.print_return_receipt(crn, seq, request),
        )

    def reserve(
        self,
        conn: Connection,
        register_id: int,
        document_key: str,
        request: PrintRequest | ReturnRequest,
        *,
        with_info: bool = False,
        fresh: bool = False,
    ) -> list[Reservation]:
        """Reserve the seq(s) of a document's SRC call(s) and persist them in ``conn`` (the caller commits
        before sending, and holds the register's lock until the answers are recorded). ``with_info``: a
        return is preceded by ``getReturnedReceiptInfo`` of the receipt it returns. ``fresh``: the caller
        created ``document_key``'s document in this transaction, so no request can exist under it yet (the
        look-up is skipped; the key's unique index still guards)."""
        if not document_key or len(document_key) > 200:
            raise ValidationFailed.at(["document_key"], "document_key must have 1 to 200 characters")
        crn, method, body, call = self._describe(conn, register_id, request)
        reservations: list[Reservation] = []
        if with_info and isinstance(request, ReturnRequest):
            info_seq = repo.reserve_seq(conn, register_id)
            text = wire.dumps(wire.returned_info_body(crn, info_seq, request.receipt_id, request.source_crn))
            info_id = repo.insert_request(
                conn,
                register_id=register_id,
                document_key=None,
                method="getReturnedReceiptInfo",
                seq=info_seq,
                body=text,
                request_hash=_hash(text),
            )
            receipt_id, source_crn = request.receipt_id, request.source_crn
            reservations.append(
                Reservation(
                    info_id,
                    register_id,
                    None,
                    info_seq,
                    lambda seq: self.gateway.get_returned_receipt_info(crn, seq, receipt_id, source_crn),
                )
            )
        digest = _hash(wire.dumps(body(0) | {"seq": None}))
        existing = None if fresh else repo.by_key(conn, document_key)
        if existing is not None:
            _check_same(existing, register_id, crn, method, body, call)
            if existing.state not in ("failed", "rejected"):
                raise Conflict(f"SRC request {document_key!r} is {existing.state}: settle it before sending again")
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
        else:
            repo.restart_request(conn, existing.id, seq=seq, body=text)
            request_id = existing.id
        reservations.append(Reservation(request_id, register_id, document_key, seq, call, body))
        return reservations

    def send(self, reservations: Sequence[Reservation]) -> list[Receipt | ReturnedReceiptInfo]:
        """Send reserved calls in order (the caller holds the register's lock). Success writes nothing: the
        caller records the answers with ``record`` in its own transaction. A failure is recorded here and
        raised as ``AuthorityRefused``, ``AuthorityUnavailable`` (certainly nothing registered) or
        ``AuthorityInDoubt`` (the answer was lost and resolution could not settle it). A document whose
        answer was lost and which resolution proves unregistered is sent once more, with a new seq."""
        return [self._send_one(reservation) for reservation in reservations]

    def _send_one(self, reservation: Reservation) -> Receipt | ReturnedReceiptInfo:
        for _attempt in range(2):
            try:
                result: Receipt | ReturnedReceiptInfo = reservation.call(reservation.seq)
                return result
            except AuthorityRejected as exc:
                self._record_rejection(reservation.register_id, reservation.request_id, reservation.seq, exc)
                raise _refused(exc) from exc
            except AuthorityRetryable as exc:
                lost = exc.sent and exc.code != 500 and reservation.document_key is not None
                if not lost:
                    with self.db.write() as conn:
                        if self.strict and not exc.sent:
                            repo.give_back_seq(conn, reservation.register_id, reservation.seq)
                        repo.finish(conn, reservation.request_id, "failed", error_code=exc.code, error_message=str(exc))
                    raise AuthorityUnavailable(f"SRC is unavailable, nothing was registered: {exc}") from exc
                with self.db.write() as conn:
                    repo.finish(conn, reservation.request_id, "in_doubt", error_code=exc.code, error_message=str(exc))
                    row = repo.by_id(conn, reservation.request_id)
                assert row is not None and reservation.document_key is not None
                row = self._resolve_and_reload(row)
                if row.state == "done":
                    assert row.response is not None
                    return wire.parse_receipt(wire.loads(row.response))
                if row.state != "failed":
                    raise AuthorityInDoubt(reservation.document_key) from exc
                reservation = self._again(reservation)
        raise AuthorityUnavailable("SRC lost two answers in a row; nothing was registered")

    def _again(self, reservation: Reservation) -> Reservation:
        """The same document request with a new seq (the earlier one was proven not registered)."""
        assert reservation.body is not None
        with self.db.write() as conn:
            seq = repo.reserve_seq(conn, reservation.register_id)
            repo.restart_request(conn, reservation.request_id, seq=seq, body=wire.dumps(reservation.body(seq)))
        return replace(reservation, seq=seq)

    def record(
        self, conn: Connection, reservations: Sequence[Reservation], results: Sequence[Receipt | ReturnedReceiptInfo]
    ) -> None:
        """Record the answers of ``send`` in ``conn`` (the caller's transaction)."""
        for reservation, result in zip(reservations, results, strict=True):
            if isinstance(result, Receipt) and reservation.document_key is not None:
                repo.finish_sent(
                    conn,
                    reservation.request_id,
                    receipt_id=result.receipt_id,
                    response=wire.dumps(wire.receipt_to_json(result)),
                )
            else:
                repo.finish_sent(conn, reservation.request_id)

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
                out.extend(self.resolve_held(reg))
        return out

    def resolve_held(self, register_id: int) -> list[Resolution]:
        """``resolve_in_doubt`` of one register whose lock the caller already holds."""
        with self.db.read() as conn:
            current = repo.unsettled(conn, register_id)
        return [self._resolve(row) for row in sorted(current, key=_seq_order)]

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

    def _resolve_and_reload(self, row: repo.SrcRequest) -> repo.SrcRequest:
        """Resolve ``row`` after the register's unsettled requests sent before it (seq order), then reload it."""
        with self.db.read() as conn:
            earlier = [r for r in repo.unsettled(conn, row.register_id) if _seq_order(r) < _seq_order(row)]
        for other in sorted(earlier, key=_seq_order):
            self._resolve(other)
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
            earlier_unsettled = any(
                r.seq is not None and r.seq < row.seq and r.id != row.id
                for r in repo.unsettled(conn, row.register_id, ("pending", "in_doubt", "operator"))
            )
        start = (before or 0) + 1
        if before is not None and not earlier_unsettled:
            # SRC numbers a register's receipts in the order of their seqs (it refuses a seq that is not
            # increasing), and every request sent before this one is settled: the first receipt after the last
            # one claimed is this request's if SRC registered it, and a later request's otherwise. (Without a
            # receipt of ours before it, the numbers before R may be the CRN's earlier history: scan.)
            candidate = start
            while candidate in claimed:
                candidate += 1
            if after is None or candidate < after:
                try:
                    copy = self.print_copy_unlocked(row.register_id, candidate)
                except AuthorityRefused as exc:
                    if exc.authority_code == RECEIPT_DOES_NOT_EXIST:
                        return verdict("failed", f"not registered: SRC has no receipt {candidate} yet")
                    if exc.authority_code == INVALID_SEQ and self.strict:
                        with self.db.write() as conn:
                            repo.set_seq(conn, row.register_id, row.seq - 1 if row.seq > 1 else None)
                        return verdict("failed", "strict seq: the lost request's seq was never consumed by SRC")
                    return verdict("in_doubt", f"printCopy {candidate} refused: {exc.authority_code}")
                except AuthorityUnavailable as exc:
                    return verdict("in_doubt", f"SRC unavailable while resolving: {exc}")
                if _matches(row, body, copy):
                    return verdict("done", f"found as receipt {candidate} (printCopy, in seq order)", copy)
                return verdict("failed", f"not registered: receipt {candidate}, the next one, is another request's")
            return verdict("failed", f"not registered: no receipt between {start - 1} and {after}")
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


def _seq_order(row: repo.SrcRequest) -> tuple[int, int]:
    return (row.seq if row.seq is not None else 0, row.id)


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


def _check_same(
    existing: repo.SrcRequest,
    register_id: int,
    _crn: str,
    method: str,
    body: Callable[[int], dict[str, Any]],
    _call: object,
) -> None:
    """A document key stands for one SRC request: the same register, method and body (seq aside)."""
    digest = _hash(wire.dumps(body(0) | {"seq": None}))
    if existing.register_id != register_id or existing.method != method or existing.request_hash != digest:
        raise Conflict(f"document_key {existing.document_key!r} was used for a different SRC request")


def _refused(exc: AuthorityRejected) -> AuthorityRefused:
    text = exc.error_message or exc.message
    if isinstance(exc, IdentityRefused):  # refused here, before anything was sent
        return AuthorityRefused(f"Not sent to SRC: {exc.message}: {text}", exc.code, text)
    return AuthorityRefused(f"SRC refused the request: {exc.code} {exc.message}: {text}", exc.code, text)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
