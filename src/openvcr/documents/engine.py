"""``DocumentEngine``: the one owner of a fiscal document's life, from draft to journal.

Rules:
- ``run`` takes a document through two durable commits on the common path: (1) the draft — the document
  row, the kind's detail rows and effects, and its SRC request(s) with reserved seqs; (2) the outcome — the
  SRC answer, ``completed`` with the receipt, the kind's completion effects, the journal entry, the outbox
  messages and the stored response. Both go through the group writer (``Database.group``): many documents
  share each durable transaction, and a request is answered only after its outcome is on disk. The draft and
  the SRC call run in the register's pipeline (``documents.pipeline``): a register's requests reach SRC in seq
  order, while database writes and other registers never wait behind an SRC call.
- One ``document_key`` → one document: a replay of a completed one returns its stored response byte for
  byte; a different request under the same key is an ``IdempotencyMismatch``; a key whose document is still
  in flight is a ``Conflict``. A request that fails validation writes nothing and spends no key.
- SRC unreachable (certainly nothing registered): with the register's late fiscalization off the document
  is ``dropped`` (the client may resubmit); on, it is ``deferred`` and ``fiscalize_deferred`` sends it later,
  in order. SRC's answer lost: ``in_doubt``, settled by printCopy resolution (``settle``). SRC refused:
  ``dropped``. Each raises the error that carries the contract's ``pending`` object.
- A failure while recording a registered document (after SRC answered) is a 502 with ``mayResubmit: false``:
  the document stays ``sent`` and recovery completes it from SRC's stored answer.
- Recovery, resume and drop exist once, here, for every kind; a kind plugs in through ``DocumentKind``.
- Webhook events (``webhooks.service.emit``) are written in the transaction of the state they tell:
  ``<kind>.completed`` when a document completes (``sale.completed`` …), plus ``document.fiscalized`` when it
  completes after its request was answered without a receipt (deferred, in doubt or recovered);
  ``document.deferred`` and ``document.dropped`` when it becomes so. A rolled-back transaction emits nothing.
- The stored response of a completed document carries ``receiptUrl``, its public receipt page under
  ``Settings.public_url`` (``receipt_url``): it is part of the response a replay repeats byte for byte.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote

from pydantic import BaseModel
from sqlalchemy import Connection, Table
from sqlalchemy.exc import IntegrityError

from openvcr.authority.gateway import PrintRequest, Receipt, ReturnedReceiptInfo, ReturnRequest
from openvcr.authority.service import Reservation, SrcService
from openvcr.config import Settings
from openvcr.core.errors import (
    AuthorityInDoubt,
    AuthorityRefused,
    AuthorityUnavailable,
    Conflict,
    DocumentRefused,
    FiscalizationPending,
    IdempotencyMismatch,
    PendingDocument,
)
from openvcr.documents import repository as repo
from openvcr.documents import requests
from openvcr.documents.models import UNSETTLED, Document, DocumentState, Draft, JournalBody, Outcome, RequestKey
from openvcr.documents.pipeline import Drafted, RegisterPipelines
from openvcr.outbox.repository import enqueue
from openvcr.registers import journal
from openvcr.registers.signing_keys import signer_for
from openvcr.schemas import json_bytes
from openvcr.store.db import Database, now_ms
from openvcr.webhooks.models import DOCUMENT_DEFERRED, DOCUMENT_DROPPED, DOCUMENT_FISCALIZED, EVENTS
from openvcr.webhooks.service import emit

log = logging.getLogger("openvcr.documents")
S = DocumentState


class DocumentKind(Protocol):
    """What a kind of fiscal document supplies: everything else is the engine's."""

    name: str  # the journal's doc_type and ``documents.kind``: sale, sale_refund, prepayment, prepayment_refund
    api_type: str  # the contract's ``pending.type``: sale, saleRefund, prepayment, prepaymentRefund
    status_path: str  # where a client polls the document, with ``{id}``: "/api/v1/sales/{id}"
    table: Table  # the detail table (``document_id`` → the API's id)

    def complete(self, conn: Connection, document: Document, detail_id: int, receipt: Receipt) -> JournalBody:
        """Completion effects (ledger moves, offers to create …) and the journal body."""
        ...

    def drop(self, conn: Connection, document: Document, detail_id: int) -> None:
        """Undo the draft's effects (holds, reserved quantities) of a document SRC never registered."""
        ...

    def created(self, conn: Connection, document: Document, detail_id: int, receipt_url: str | None) -> BaseModel:
        """The POST response of the completed document (``receipt_url``: its public receipt page)."""
        ...


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """SRC's receipt as stored on the document."""
    return {
        "srcId": receipt.receipt_id,
        "crn": receipt.crn,
        "sn": receipt.sn,
        "tin": receipt.tin,
        "taxpayer": receipt.taxpayer,
        "address": receipt.address,
        "time": receipt.time_ms,
        "fiscal": receipt.fiscal,
        "total": str(receipt.total),
        "change": str(receipt.change),
        "qr": receipt.qr,
        "emarkVerificationCode": receipt.emark_verification_code,
    }


RECEIPT_LOCALES = ("hy", "ru", "en")


def receipt_url(public_url: str, url_id: str, receipt: Mapping[str, Any] | None, language: str | None) -> str | None:
    """The absolute address of a document's public receipt page, ``{public_url}/{locale}/r/{crn}/{urlId}`` (the
    contract's public link shape; ``locale``: the receipt language the buyer asked for, else ``hy``), or None
    while the document has no receipt (not fiscalized yet)."""
    if not receipt:
        return None
    base = public_url.rstrip("/")
    crn = receipt.get("crn")
    if not crn:
        return f"{base}/r/{quote(url_id, safe='')}"
    locale = language if language in RECEIPT_LOCALES else RECEIPT_LOCALES[0]
    return f"{base}/{locale}/r/{quote(str(crn), safe='')}/{quote(url_id, safe='')}"


def created_fields(document: Document, receipt_url: str | None) -> dict[str, Any]:
    """``urlId``, ``crn``, ``receiptId``, ``fiscal`` and ``receiptUrl`` of a completed document: the POST response
    of a refund or prepayment, beside the document's own id field."""
    receipt = document.receipt
    assert receipt is not None
    return {
        "url_id": document.url_id,
        "crn": receipt.get("crn"),
        "receipt_id": int(receipt["srcId"]),
        "fiscal": receipt.get("fiscal"),
        "receipt_url": receipt_url,
    }


def receipt_out(stored: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The contract's receipt object from a stored receipt (None: not fiscalized)."""
    if not stored:
        return None
    return {
        "src_id": int(stored["srcId"]),
        "time": str(stored["time"]),
        "tin": stored["tin"],
        "fiscal": stored.get("fiscal"),
        "sn": stored["sn"],
        "address": stored.get("address"),
        "total": Decimal(str(stored["total"])),
        "taxpayer": stored["taxpayer"],
        "change": Decimal(str(stored["change"])),
    }


def src_summary(stored: Mapping[str, Any]) -> dict[str, Any]:
    """What a journal entry records of SRC's receipt."""
    return {
        "crn": stored["crn"],
        "receiptId": stored["srcId"],
        "fiscal": stored.get("fiscal"),
        "time": stored["time"],
        "qr": stored["qr"],
    }


def response_bytes(model: BaseModel) -> bytes:
    """A response model as the exact JSON bytes the API answers."""
    return json_bytes(model.model_dump(by_alias=True))


def _event_data(kind: DocumentKind, document: Document, detail_id: int, **fields: Any) -> dict[str, Any]:
    """What a document's webhook event tells (beside ``registerId``)."""
    return {
        "documentType": kind.api_type,
        "id": detail_id,
        "urlId": document.url_id,
        "statusUrl": kind.status_path.format(id=detail_id),
        **fields,
    }


def src_key(document: Document) -> str:
    """The key of a document's SRC request: its id, which (unlike its Idempotency-Key) is never reused."""
    return f"document:{document.id}"


@dataclass(frozen=True)
class Prepared:
    """A draft whose validation and arithmetic only read: ``prepare`` runs on a read snapshot in the request's
    own thread (after the Idempotency-Key check), so that the group writer only writes (``Draft.attach``, which
    re-checks what must be checked under the write lock, such as a prepayment's balance)."""

    prepare: Callable[[Connection], Draft]


def _already(draft: Draft) -> Callable[[Connection], Draft]:
    return lambda _conn: draft


@dataclass(frozen=True)
class RecoveryReport:
    completed: int
    dropped: int
    deferred: int
    in_doubt: int


class DocumentEngine:
    """Runs documents of every registered kind (see the module rules)."""

    def __init__(self, db: Database, src: SrcService, settings: Settings, kinds: Iterable[DocumentKind]) -> None:
        self.db = db
        self.src = src
        self.settings = settings
        self.kinds: dict[str, DocumentKind] = {kind.name: kind for kind in kinds}
        self.pipelines = RegisterPipelines(db, src)

    # ---- a new document ------------------------------------------------------------------------------------

    def run(
        self,
        register_id: int,
        kind: DocumentKind,
        key: RequestKey,
        draft: Callable[[Connection], Draft] | Prepared,
    ) -> Outcome:
        """Draft, register with SRC and complete one document, or answer from the one already under ``key``.
        ``draft`` runs in the group writer, or, ``Prepared``, on a read snapshot first (see ``Prepared``)."""
        with self.db.read() as conn:
            existing = repo.by_key(conn, register_id, key.document_key)
            ready = draft.prepare(conn) if existing is None and isinstance(draft, Prepared) else None
        if existing is not None:
            return self._existing(kind, existing, key)
        write: Callable[[Connection], Draft]
        if isinstance(draft, Prepared):
            assert ready is not None
            write = _already(ready)
        else:
            write = draft
        try:
            sent = self.pipelines.run(
                register_id, lambda conn: Drafted(*self._draft(conn, register_id, kind, key, write))
            )
        except IntegrityError:
            # another request with the same key drafted its document first
            with self.db.read() as conn:
                existing = repo.by_key(conn, register_id, key.document_key)
            if existing is None:
                raise
            return self._existing(kind, existing, key)
        document, detail_id, reservations = sent.drafted.document, sent.drafted.detail_id, sent.drafted.reservations
        if sent.failure is not None:
            raise self._failed(kind, document, detail_id, sent.failure) from sent.failure
        results = sent.results
        assert results is not None
        receipt = results[-1]
        assert isinstance(receipt, Receipt)

        def complete(conn: Connection) -> bytes:
            self.src.record(conn, reservations, results)
            return self._complete(conn, kind, document, detail_id, receipt)

        try:
            body = self.db.group.run(complete)
        except Exception as exc:
            # SRC registered it: the document must not be sent again. It stays ``sent`` and recovery completes it.
            log.exception("completing document %s failed after SRC registered it", document.id)
            raise FiscalizationPending(
                "The tax authority registered the document; recording it failed and the server will finish it. "
                "Poll statusUrl, do not resend.",
                self.pending(kind, detail_id, may_resubmit=False),
            ) from exc
        return Outcome(body, replayed=False)

    def _draft(
        self,
        conn: Connection,
        register_id: int,
        kind: DocumentKind,
        key: RequestKey,
        draft: Callable[[Connection], Draft],
    ) -> tuple[Document, int, list[Reservation]]:
        drafted = draft(conn)
        # Inserted ``sent`` at once: nothing outside this transaction can see it before its request is
        # reserved below, and if the reservation fails the whole draft is rolled back.
        document = repo.insert(
            conn, register_id, kind.name, key, drafted, state=S.SENT, src_request=requests.to_json(drafted.request)
        )
        detail_id = drafted.attach(conn, document.id)
        reservations = self.src.reserve(
            conn,
            register_id,
            src_key(document),
            drafted.request,
            with_info=isinstance(drafted.request, ReturnRequest),
            fresh=True,
        )
        return document, detail_id, reservations

    def _complete(
        self,
        conn: Connection,
        kind: DocumentKind,
        document: Document,
        detail_id: int,
        receipt: Receipt,
        *,
        late: bool = False,
    ) -> bytes:
        """Complete ``document`` with SRC's ``receipt`` in ``conn``: effects, journal, outbox, stored response
        (``late``: its request was answered without a receipt)."""
        stored = receipt_json(receipt)
        completed = replace(document, receipt=stored)
        entry = kind.complete(conn, completed, detail_id, receipt)
        journal.append(
            conn,
            document.register_id,
            doc_type=kind.name,
            doc_ref=entry.doc_ref,
            body=entry.body,
            delta=entry.delta,
            signer=signer_for(conn, document.register_id, self.settings.master_key.get_secret_value()),
            time_ms=receipt.time_ms,
        )
        if document.receipt_email:
            enqueue(
                conn,
                "receipt_email",
                f"receipt-email:{document.url_id}",
                {
                    "document": kind.name,
                    "urlId": document.url_id,
                    "email": document.receipt_email,
                    "language": document.receipt_language or "hy",
                },
            )
        if document.receipt_phone:
            sms = {"urlId": document.url_id, "phone": document.receipt_phone, "language": document.receipt_language}
            enqueue(conn, "receipt_sms", f"receipt-sms:{document.url_id}", sms)
        url = receipt_url(self.settings.public_url, document.url_id, stored, document.receipt_language)
        body = response_bytes(kind.created(conn, completed, detail_id, url))
        repo.transition(conn, document, S.COMPLETED, receipt=stored, response=body, error=None)
        data = _event_data(kind, document, detail_id, **json.loads(body, parse_float=Decimal))
        if f"{kind.api_type}.completed" in EVENTS:  # a kind without a completion event (a shift report) has none
            emit(conn, document.register_id, f"{kind.api_type}.completed", data)
        if late:
            emit(conn, document.register_id, DOCUMENT_FISCALIZED, data)
        return body

    # ---- failures and what the client is told ----------------------------------------------------------------

    def pending(self, kind: DocumentKind, detail_id: int, may_resubmit: bool) -> PendingDocument:
        return PendingDocument(kind.api_type, detail_id, kind.status_path.format(id=detail_id), may_resubmit)

    def _failed(self, kind: DocumentKind, document: Document, detail_id: int, failure: Exception) -> Exception:
        """Record a failed registration on the document; return the error to raise."""
        if isinstance(failure, AuthorityRefused):
            with self.db.write() as conn:
                self._drop(conn, kind, document, detail_id, failure.message)
            return DocumentRefused(failure, self.pending(kind, detail_id, may_resubmit=False))
        if isinstance(failure, AuthorityInDoubt):
            with self.db.write() as conn:
                repo.transition(conn, document, S.IN_DOUBT, error=failure.message)
            return FiscalizationPending(
                "The tax authority's answer was lost; the document is being settled. Poll statusUrl, do not resend.",
                self.pending(kind, detail_id, may_resubmit=False),
            )
        assert isinstance(failure, AuthorityUnavailable)
        with self.db.write() as conn:
            late = self._unregistered(conn, kind, document, detail_id, failure.message)
        if late:
            return FiscalizationPending(
                "The tax authority is unreachable; the document is kept and will be fiscalized when it answers.",
                self.pending(kind, detail_id, may_resubmit=False),
            )
        return FiscalizationPending(
            "The tax authority is unreachable and registered nothing; resubmit the document later.",
            self.pending(kind, detail_id, may_resubmit=True),
        )

    def _unregistered(self, conn: Connection, kind: DocumentKind, document: Document, detail_id: int, why: str) -> bool:
        """SRC certainly registered nothing: defer (late fiscalization on) or drop; return whether deferred."""
        if repo.late_fiscalization(conn, document.register_id):
            repo.transition(conn, document, S.DEFERRED, error=why)
            emit(conn, document.register_id, DOCUMENT_DEFERRED, _event_data(kind, document, detail_id, error=why))
            return True
        self._drop(conn, kind, document, detail_id, why)
        return False

    @staticmethod
    def _drop(conn: Connection, kind: DocumentKind, document: Document, detail_id: int, why: str) -> None:
        kind.drop(conn, document, detail_id)
        repo.transition(conn, document, S.DROPPED, error=why[:2000])
        emit(conn, document.register_id, DOCUMENT_DROPPED, _event_data(kind, document, detail_id, error=why[:2000]))

    # ---- a document found under its key --------------------------------------------------------------------

    def _existing(self, kind: DocumentKind, document: Document, key: RequestKey) -> Outcome:
        if document.kind != kind.name or document.request_hash != key.request_hash:
            raise IdempotencyMismatch("This Idempotency-Key was already used with a different request")
        if document.state in (S.SENT, S.PENDING, S.IN_DOUBT):
            age_ms = now_ms() - document.created_at
            if document.state is not S.IN_DOUBT and age_ms < self.settings.recovery_min_age_seconds * 1000:
                raise Conflict(
                    "A request with this Idempotency-Key is still in progress; retry later with the same key"
                )
            document = self.settle(document)
        if document.state is S.COMPLETED:
            assert document.response is not None
            return Outcome(document.response, replayed=True)
        with self.db.read() as conn:
            detail_id = repo.detail_id(conn, kind.table, document.id)
        if document.state is S.DEFERRED:
            raise FiscalizationPending(
                "The document awaits fiscalization; poll statusUrl, do not resend.",
                self.pending(kind, detail_id, may_resubmit=False),
            )
        if document.state is S.IN_DOUBT:
            raise FiscalizationPending(
                "The tax authority's answer was lost; the document is being settled. Poll statusUrl, do not resend.",
                self.pending(kind, detail_id, may_resubmit=False),
            )
        raise Conflict(f"document {detail_id} is {document.state}")

    # ---- settling: recovery, resume, late fiscalization ------------------------------------------------------

    def settle(self, document: Document) -> Document:
        """Bring an unsettled document (``pending``, ``sent``, ``in_doubt``) to what SRC knows of it: completed
        from SRC's receipt, dropped/deferred when SRC certainly has nothing, or in doubt. Never sends it again."""
        kind = self.kinds[document.kind]
        with self.src.locks.hold(document.register_id):
            attempt = self.src.request_state(src_key(document))
            if attempt is not None and attempt.state in ("pending", "in_doubt"):
                self.src.resolve_held(document.register_id)
                attempt = self.src.request_state(src_key(document))
            with self.db.write() as conn:
                current = repo.by_id(conn, document.id)
                assert current is not None
                if current.state not in (S.PENDING, S.SENT, S.IN_DOUBT):
                    return current
                detail_id = repo.detail_id(conn, kind.table, current.id)
                if attempt is None or attempt.state in ("failed", "rejected"):
                    why = (
                        "SRC registered nothing" if attempt is None else f"SRC {attempt.state}: {attempt.error_message}"
                    )
                    if attempt is not None and attempt.state == "rejected":
                        self._drop(conn, kind, current, detail_id, why)
                    else:
                        self._unregistered(conn, kind, current, detail_id, why)
                elif attempt.state == "done":
                    receipt = self.src.outcome(src_key(document))
                    assert receipt is not None
                    self._complete(conn, kind, current, detail_id, receipt, late=True)
                elif current.state is not S.IN_DOUBT:
                    repo.transition(conn, current, S.IN_DOUBT, error=attempt.note)
                fresh = repo.by_id(conn, document.id)
        assert fresh is not None
        return fresh

    def recover(self, *, min_age_ms: int) -> RecoveryReport:
        """Settle documents left unsettled by a crash or a lost answer (those older than ``min_age_ms``, and
        every one in doubt), then fiscalize deferred documents. Each register's documents are taken in
        creation order, and a register stops at its first document that stays unsettled, so its journal keeps
        SRC's order. Touches nothing younger than ``min_age_ms``: a request still being served by this or
        another worker is never interfered with."""
        cutoff = now_ms() - min_age_ms
        with self.db.read() as conn:
            stale = repo.in_states(conn, (S.PENDING, S.SENT), created_before=cutoff)
            stale += repo.in_states(conn, (S.IN_DOUBT,))
        counts = dict.fromkeys(S, 0)
        blocked: set[int] = set()
        for document in sorted(stale, key=lambda d: d.id):
            if document.register_id in blocked:
                continue
            try:
                settled = self.settle(document)
            except (AuthorityUnavailable, AuthorityRefused):
                log.warning("could not settle document %s yet", document.id, exc_info=True)
                blocked.add(document.register_id)
                continue
            counts[settled.state] += 1
            if settled.state in UNSETTLED:
                blocked.add(document.register_id)
            log.info("document %s (%s) settled as %s", document.id, document.kind, settled.state)
        counts[S.COMPLETED] += self.fiscalize_deferred(blocked)
        return RecoveryReport(counts[S.COMPLETED], counts[S.DROPPED], counts[S.DEFERRED], counts[S.IN_DOUBT])

    def fiscalize_deferred(self, blocked: set[int] | None = None) -> int:
        """Send deferred documents to SRC, per register in creation order, stopping at a register's first
        failure (its later documents keep waiting behind it) and skipping ``blocked`` registers; return how
        many completed."""
        with self.db.read() as conn:
            deferred = repo.in_states(conn, (S.DEFERRED,))
        blocked = set(blocked or ())
        done = 0
        for document in deferred:
            if document.register_id in blocked:
                continue
            if self._fiscalize_one(document):
                done += 1
            else:
                blocked.add(document.register_id)
        return done

    def _fiscalize_one(self, document: Document) -> bool:
        kind = self.kinds[document.kind]
        assert document.src_request is not None
        request = requests.from_json(document.src_request)
        with self.src.locks.hold(document.register_id):
            with self.db.write() as conn:
                current = repo.by_id(conn, document.id)
                if current is None or current.state is not S.DEFERRED:
                    return current is not None and current.state is S.COMPLETED
                detail_id = repo.detail_id(conn, kind.table, current.id)
                reservations = self.src.reserve(
                    conn,
                    current.register_id,
                    src_key(current),
                    request,
                    with_info=isinstance(request, ReturnRequest),
                )
                current = repo.transition(conn, current, S.SENT)
            try:
                results: list[Receipt | ReturnedReceiptInfo] = self.src.send(reservations)
            except AuthorityUnavailable as exc:
                with self.db.write() as conn:
                    repo.transition(conn, current, S.DEFERRED, error=exc.message)
                return False
            except AuthorityRefused as exc:
                with self.db.write() as conn:
                    self._drop(conn, kind, current, detail_id, exc.message)
                log.error("SRC refused deferred document %s: %s", current.id, exc.message)
                return False
            except AuthorityInDoubt as exc:
                with self.db.write() as conn:
                    repo.transition(conn, current, S.IN_DOUBT, error=exc.message)
                return False
        receipt = results[-1]
        assert isinstance(receipt, Receipt)
        with self.db.write() as conn:
            self.src.record(conn, reservations, results)
            self._complete(conn, kind, current, detail_id, receipt, late=True)
        return True

    def purge_keys(self, retention_days: float) -> int:
        """Release Idempotency-Keys older than the retention period (their documents stay)."""
        with self.db.write() as conn:
            return repo.release_expired_keys(conn, now_ms() - int(retention_days * 86_400_000))


__all__ = [
    "DocumentEngine",
    "DocumentKind",
    "Prepared",
    "PrintRequest",
    "RecoveryReport",
    "created_fields",
    "receipt_json",
    "receipt_out",
    "receipt_url",
    "response_bytes",
    "src_summary",
]
