"""The fiscal journal's rules: entries, counters, hashes, and the streaming verifier. Pure.

Rules:
- Every fiscal document of a register is one journal entry. Entries of a register are numbered 1, 2, 3 …:
  no gap, no repeat, no reordering.
- An entry's signed content is the canonical bytes (``core.canonical``) of::

      {"version": 1, "register": <int>, "number": <int>, "type": <doc type>, "ref": <document reference>,
       "body": <the document, every amount a decimal string>, "counters": <snapshot after this entry>,
       "prev_hash": <hex>, "time": <ms since epoch>, "key_id": <hex>}

- ``hash`` = lower-case hex SHA-256 of the content bytes. The first entry's ``prev_hash`` is 64 zeros
  (``GENESIS_HASH``); every other entry's is the previous entry's hash.
- ``signature`` = ECDSA P-256 / SHA-256 (DER) of the content bytes by the register's key (``core.signing``).
- Counters only grow. ``documents`` equals the entry number; ``by_type[type]`` grows by exactly one per
  entry; money counters grow by the (non-negative) amounts of the document. A training or pro-forma document
  (``moves_money=False``) counts as a document and in ``non_fiscal`` but never moves a money counter.
- A counters snapshot is written as ``Counters.to_json`` writes it: ``documents``, ``non_fiscal`` and each
  ``by_type`` count are integers; each money counter is a string of ASCII digits, a point and two decimals
  (so never ``"Infinity"``, ``"NaN"``, ``"1E+2"`` or negative). A snapshot that is not breaks its own entry.
- The verifier reads entries in journal order and stops at the FIRST broken entry, raising the error of the
  rule it breaks: ``MalformedEntryError`` (unreadable), ``CounterGapError`` (a number missing),
  ``EntryOrderError`` (a number repeated or out of order), ``ChainBrokenError`` (``prev_hash`` is not the
  previous entry's hash), ``ContentAlteredError`` (the content does not hash to the recorded hash),
  ``SignatureInvalidError`` (the signature does not verify, or another key signed), ``CountersShrinkError``
  (a counter went down), ``CountersMismatchError`` (counters that do not follow from the previous ones),
  ``ShiftTotalsError`` (an X or Z report whose shift or totals are not what the entries of its shift add up
  to, see ``core.shift``). Checks of one entry run in that order. The other rules run in order in the
  caller's thread; signatures are verified in batches, there or by an executor the caller gives (threads,
  or worker processes: the cryptography library releases the GIL while it verifies, but the caller holds it
  while it checks the other rules). Batch results are read back in journal order, so the entry reported is
  the first broken one however the batches ran.
- The rules are written once (``check_shape``, ``parse_counters``, ``check_counters``) and every entry goes
  through all of them. The verifier's fast path (the default) only skips parsing a money counter again when
  its string is the previous entry's, which cannot change the verdict; ``fast=False`` skips nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple

from openvcr.core.canonical import CanonicalError, canonical_bytes, parse
from openvcr.core.errors import (
    ChainBrokenError,
    ContentAlteredError,
    CounterGapError,
    CountersMismatchError,
    CountersShrinkError,
    EntryOrderError,
    InvalidDeltaError,
    JournalError,
    MalformedEntryError,
    ShiftTotalsError,
    SignatureInvalidError,
)
from openvcr.core.money import CENT, MoneyError, money
from openvcr.core.shift import REPORT_TYPES, ShiftChecker
from openvcr.core.signing import PublicKey, first_invalid_signature

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
_sha256 = hashlib.sha256
log = logging.getLogger("openvcr.verify")
MAX_REF_LENGTH = 100


class DocType(StrEnum):
    """Kinds of fiscal documents that enter the journal (new kinds are added here)."""

    SALE = "sale"
    SALE_REFUND = "sale_refund"
    PREPAYMENT = "prepayment"
    PREPAYMENT_REFUND = "prepayment_refund"
    VSDC_INVOICE = "vsdc_invoice"
    X_REPORT = "x_report"
    Z_REPORT = "z_report"


DOC_TYPES: frozenset[str] = frozenset(t.value for t in DocType)

MONEY_FIELDS: tuple[str, ...] = (
    "sales_total",
    "sale_refunds_total",
    "prepayments_total",
    "prepayment_refunds_total",
    "vat_total",
    "vat_refunds_total",
)
"""The money counters of ``Counters`` (AMD, 2 decimals), in their canonical order."""

_ZERO = Decimal("0.00")


def _amount(name: str, value: object) -> Decimal:
    try:
        result = money(value)
    except MoneyError as exc:
        raise InvalidDeltaError(f"counters delta {name}: {exc}") from exc
    if result < 0:
        raise InvalidDeltaError(f"counters delta {name} is negative ({result}): counters only grow")
    return result


@dataclass(frozen=True)
class CountersDelta:
    """How one document moves the counters. Amounts are non-negative Decimals (AMD, ≤ 2 decimals).

    A sale refund (or a V-SDC refund invoice) moves ``sale_refunds`` / ``vat_refunds``; a training or
    pro-forma document is ``moves_money=False`` and must carry no amounts.
    """

    sales: Decimal = _ZERO
    sale_refunds: Decimal = _ZERO
    prepayments: Decimal = _ZERO
    prepayment_refunds: Decimal = _ZERO
    vat: Decimal = _ZERO
    vat_refunds: Decimal = _ZERO
    moves_money: bool = True

    def __post_init__(self) -> None:
        for name in ("sales", "sale_refunds", "prepayments", "prepayment_refunds", "vat", "vat_refunds"):
            object.__setattr__(self, name, _amount(name, getattr(self, name)))
        if not self.moves_money and any(self.amounts()):
            raise InvalidDeltaError("a training or pro-forma document never moves money counters")

    def amounts(self) -> tuple[Decimal, ...]:
        """The amounts in the order of ``MONEY_FIELDS``."""
        return (self.sales, self.sale_refunds, self.prepayments, self.prepayment_refunds, self.vat, self.vat_refunds)

    @classmethod
    def sale(cls, total: Decimal, vat: Decimal = _ZERO) -> CountersDelta:
        return cls(sales=total, vat=vat)

    @classmethod
    def sale_refund(cls, total: Decimal, vat: Decimal = _ZERO) -> CountersDelta:
        return cls(sale_refunds=total, vat_refunds=vat)

    @classmethod
    def prepayment(cls, amount: Decimal) -> CountersDelta:
        return cls(prepayments=amount)

    @classmethod
    def prepayment_refund(cls, amount: Decimal) -> CountersDelta:
        return cls(prepayment_refunds=amount)

    @classmethod
    def non_fiscal(cls) -> CountersDelta:
        """A training or pro-forma document: counted, never moving money."""
        return cls(moves_money=False)


def _frozen_map(values: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(sorted(values.items())))


@dataclass(frozen=True)
class Counters:
    """The register's counters after an entry (a snapshot; a new one per entry, never changed in place)."""

    documents: int = 0
    by_type: Mapping[str, int] = field(default_factory=lambda: _frozen_map({}))
    non_fiscal: int = 0
    sales_total: Decimal = _ZERO
    sale_refunds_total: Decimal = _ZERO
    prepayments_total: Decimal = _ZERO
    prepayment_refunds_total: Decimal = _ZERO
    vat_total: Decimal = _ZERO
    vat_refunds_total: Decimal = _ZERO

    def apply(self, doc_type: str, delta: CountersDelta) -> Counters:
        """The counters after one more document of ``doc_type`` moving them by ``delta``."""
        if doc_type not in DOC_TYPES:
            raise InvalidDeltaError(f"unknown document type {doc_type!r}; known: {', '.join(sorted(DOC_TYPES))}")
        by_type = dict(self.by_type)
        by_type[doc_type] = by_type.get(doc_type, 0) + 1
        if not delta.moves_money:
            return Counters(
                self.documents + 1,
                _frozen_map(by_type),
                self.non_fiscal + 1,
                *self.money(),
            )
        return Counters(
            self.documents + 1,
            _frozen_map(by_type),
            self.non_fiscal,
            *(a + b for a, b in zip(self.money(), delta.amounts(), strict=True)),
        )

    def money(self) -> tuple[Decimal, ...]:
        """The money counters in the order of ``MONEY_FIELDS``."""
        return (
            self.sales_total,
            self.sale_refunds_total,
            self.prepayments_total,
            self.prepayment_refunds_total,
            self.vat_total,
            self.vat_refunds_total,
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (amounts as decimal strings with 2 decimals)."""
        out: dict[str, Any] = {
            "documents": self.documents,
            "by_type": dict(self.by_type),
            "non_fiscal": self.non_fiscal,
        }
        for name, value in zip(MONEY_FIELDS, self.money(), strict=True):
            out[name] = format(value.quantize(CENT), "f")
        return out

    @classmethod
    def from_json(cls, data: Any) -> Counters:
        """Parse ``to_json`` output; ``MalformedEntryError`` when it is not well formed (see
        ``parse_counters``)."""
        return parse_counters(data)


_MONEY_TEXT = re.compile(r"(?:0|[1-9][0-9]*)\.[0-9]{2}")


def _money_counter(name: str, value: object) -> Decimal:
    """Rule: a money counter is a non-negative amount written as ``Counters.to_json`` writes it: ASCII
    digits without leading zeros, a point, two decimals (``"45500.00"``; never ``"Infinity"``, ``"NaN"``,
    ``"1E+2"``, ``"5.5"`` or ``"-1.00"``)."""
    if type(value) is not str or _MONEY_TEXT.fullmatch(value) is None:
        raise MalformedEntryError(f"counter {name} is not an amount written with two decimals: {value!r}")
    return Decimal(value)


def parse_counters(data: Any, previous: tuple[Mapping[str, Any], Counters] | None = None) -> Counters:
    """A counters snapshot parsed from JSON; ``MalformedEntryError`` when it is not well formed.

    Rule: a snapshot is an object with ``documents`` and ``non_fiscal`` integers, ``by_type`` an object of
    integers, and every money counter of ``MONEY_FIELDS`` a string as ``_money_counter`` requires.

    ``previous`` is a parsing shortcut only: a snapshot that passed these rules, as parsed JSON and as
    ``Counters``. A money counter written exactly as there passed the money rule there, and that rule
    depends on nothing but the string, so its value is taken from there instead of being parsed again;
    the verdict is the same as without the shortcut.
    """
    if type(data) is not dict:
        raise MalformedEntryError("counters are not an object")
    documents = data.get("documents")
    non_fiscal = data.get("non_fiscal")
    by_type = data.get("by_type")
    if type(documents) is not int or type(non_fiscal) is not int:
        raise MalformedEntryError("counters documents and non_fiscal are integers")
    if type(by_type) is not dict:
        raise MalformedEntryError("counters by_type is an object of integers")
    for key, count in by_type.items():
        if type(key) is not str or type(count) is not int:
            raise MalformedEntryError("counters by_type is an object of integers")
    get = data.get
    if previous is None:
        amounts = [_money_counter(name, get(name)) for name in MONEY_FIELDS]
    else:
        get_before = previous[0].get
        amounts = [
            before if type(value := get(name)) is str and value == get_before(name) else _money_counter(name, value)
            for name, before in zip(MONEY_FIELDS, previous[1].money(), strict=True)
        ]
    return Counters(documents, _frozen_map(by_type), non_fiscal, *amounts)


def check_counters(previous: Counters, current: Counters, number: int, doc_type: str, register_id: int) -> None:
    """The counters rules of entry ``number`` (of ``doc_type``), whose snapshot is ``current``, after the
    snapshot ``previous``: ``CountersShrinkError`` when a counter went down, else ``CountersMismatchError``
    when the counters do not follow from the previous ones (see the module rules)."""
    where = {"register_id": register_id, "number": number}
    money_before, money_after = previous.money(), current.money()
    for name, before, after in zip(MONEY_FIELDS, money_before, money_after, strict=True):
        if after < before:
            raise CountersShrinkError(f"entry #{number}: counter {name} went down from {before} to {after}", **where)
    if current.non_fiscal < previous.non_fiscal:
        raise CountersShrinkError(f"entry #{number}: counter non_fiscal went down", **where)
    types_before, types_after = previous.by_type, current.by_type
    for key, count in types_before.items():
        if types_after.get(key, 0) < count:
            raise CountersShrinkError(f"entry #{number}: documents of type {key!r} went down", **where)
    if current.documents != number:
        raise CountersMismatchError(
            f"entry #{number}: counters count {current.documents} documents, not {number}", **where
        )
    for key in types_before.keys() | types_after.keys():
        expected = types_before.get(key, 0) + (1 if key == doc_type else 0)
        if types_after.get(key, 0) != expected:
            raise CountersMismatchError(
                f"entry #{number}: documents of type {key!r} should be {expected}, not {types_after.get(key, 0)}",
                **where,
            )
    if current.non_fiscal not in (previous.non_fiscal, previous.non_fiscal + 1):
        raise CountersMismatchError(f"entry #{number}: non_fiscal jumped by more than one", **where)
    if current.non_fiscal == previous.non_fiscal + 1 and money_after != money_before:
        raise CountersMismatchError(f"entry #{number}: a training or pro-forma document moved money counters", **where)


def entry_content(
    *,
    register_id: int,
    number: int,
    doc_type: str,
    doc_ref: str,
    body: Mapping[str, Any],
    counters: Counters,
    prev_hash: str,
    time_ms: int,
    key_id: str,
) -> dict[str, Any]:
    """The signed content of an entry, as a mapping (see the module rules)."""
    return {
        "version": FORMAT_VERSION,
        "register": register_id,
        "number": number,
        "type": doc_type,
        "ref": doc_ref,
        "body": body,
        "counters": counters.to_json(),
        "prev_hash": prev_hash,
        "time": time_ms,
        "key_id": key_id,
    }


def content_bytes(content: Mapping[str, Any]) -> bytes:
    """The canonical bytes of an entry's content; ``MalformedEntryError`` when it has no canonical form."""
    try:
        return canonical_bytes(content)
    except CanonicalError as exc:
        raise MalformedEntryError(f"the entry has no canonical form: {exc}") from exc


def entry_hash(data: bytes) -> str:
    """The hex SHA-256 of an entry's content bytes."""
    return hashlib.sha256(data).hexdigest()


def check_doc_ref(doc_ref: str) -> None:
    if not isinstance(doc_ref, str) or not doc_ref or len(doc_ref) > MAX_REF_LENGTH:
        raise MalformedEntryError(f"a document reference is a non-empty string of ≤ {MAX_REF_LENGTH} characters")


@dataclass(frozen=True)
class JournalEntry:
    """One signed journal entry: the content bytes as signed, their hash and the signature."""

    register_id: int
    number: int
    doc_type: str
    doc_ref: str
    time_ms: int
    prev_hash: str
    hash: str
    key_id: str
    counters: Counters
    content: bytes
    signature: bytes

    @cached_property
    def body(self) -> Any:
        """The document as it was signed (amounts are decimal strings)."""
        return parse(self.content)["body"]


# --- verification -------------------------------------------------------------------------------------


class RawEntry(NamedTuple):
    """One entry as a verifier receives it: the parsed content, its canonical bytes, the recorded hash
    (``None`` when the source records none) and the signature."""

    content: Any
    data: bytes
    recorded_hash: str | None
    signature: bytes


@dataclass(frozen=True)
class VerifiedJournal:
    """What a successful verification of one register's journal established."""

    register_id: int
    entries: int
    last_hash: str
    counters: Counters


_SHAPE: tuple[tuple[str, type], ...] = (
    ("version", int),
    ("register", int),
    ("number", int),
    ("type", str),
    ("ref", str),
    ("prev_hash", str),
    ("time", int),
    ("key_id", str),
    ("counters", dict),
    ("body", dict),
)


def check_shape(content: Any) -> None:
    """Rule: an entry is an object with every field of ``_SHAPE``, of its type, and ``version`` 1;
    ``MalformedEntryError`` naming the first field that is not."""
    if type(content) is not dict:
        raise MalformedEntryError("an entry is a JSON object")
    get = content.get
    for name, kind in _SHAPE:
        if type(get(name)) is not kind:
            raise MalformedEntryError(f"entry field {name!r} is missing or not a {kind.__name__}")
    if content["version"] != FORMAT_VERSION:
        raise MalformedEntryError(f"unknown entry version {content['version']}")


SignatureCheck = tuple[int, bytes, bytes]
"""``(number, SHA-256 digest of the content, signature)`` of one entry."""


class _Batch:
    """Signature checks sent together, and where they are checked: by an executor (``future``) or here."""

    __slots__ = ("checks", "failed", "future", "settled")

    def __init__(self, checks: list[SignatureCheck], future: Future[int | None] | None) -> None:
        self.checks = checks
        self.future = future
        self.settled = False
        self.failed: int | None = None


class _SignatureBatches:
    """Signature checks in batches: in the caller's thread, or by an executor (threads or worker processes)
    with at most ``in_flight`` batches pending. Results are read back in the order the batches were made.

    A caller that would wait for the oldest batch first checks, itself, the newest one the executor has not
    started (cancelled there): no core idles while checks are pending, and the tail is shared.

    An executor that breaks (a worker process killed) or refuses work (shut down) is dropped: its batches
    are checked in the caller's thread instead, so the verdict does not depend on it."""

    def __init__(self, key: PublicKey, executor: Executor | None, batch_size: int, in_flight: int) -> None:
        self._pem = key.pem
        self._executor = executor
        self._batch_size = batch_size
        self._in_flight = in_flight
        self._batch: list[SignatureCheck] = []
        self._pending: deque[_Batch] = deque()

    def add(self, number: int, digest: bytes, signature: bytes) -> int | None:
        """Queue one check; returns the number of a failed entry found so far (the first), or None."""
        self._batch.append((number, digest, signature))
        if len(self._batch) < self._batch_size:
            return None
        return self._submit()

    def _submit(self) -> int | None:
        checks, self._batch = self._batch, []
        self._pending.append(_Batch(checks, self._start(checks)))
        limit = self._in_flight if self._executor is not None else 0
        while len(self._pending) > limit:
            failed = self._oldest()
            if failed is not None:
                return failed
        return None

    def _start(self, checks: list[SignatureCheck]) -> Future[int | None] | None:
        if self._executor is None:
            return None
        try:
            return self._executor.submit(first_invalid_signature, self._pem, checks)
        except (RuntimeError, OSError) as exc:  # a broken or shut down executor; a worker that cannot start
            self._drop_executor(exc)
            return None

    def _drop_executor(self, reason: BaseException) -> None:
        if self._executor is not None:
            log.warning("signatures are checked in this process from now on: the executor failed (%s)", reason)
            self._executor = None

    def _oldest(self) -> int | None:
        """Take the oldest pending batch off the queue, once checked; the first failed entry in it."""
        oldest = self._pending[0]
        while not oldest.settled and oldest.future is not None and not oldest.future.done() and self._help():
            pass
        self._pending.popleft()
        return self._settle(oldest)

    def _help(self) -> bool:
        """Check the newest batch the executor has not started, here; False when there is none."""
        for batch in reversed(self._pending):
            if not batch.settled and (batch.future is None or batch.future.cancel()):
                batch.future = None
                self._settle(batch)
                return True
        return False

    def _settle(self, batch: _Batch) -> int | None:
        if not batch.settled:
            if batch.future is not None:
                try:
                    batch.failed = batch.future.result()
                except BrokenExecutor as exc:
                    self._drop_executor(exc)
                    batch.failed = first_invalid_signature(self._pem, batch.checks)
            else:
                batch.failed = first_invalid_signature(self._pem, batch.checks)
            batch.settled = True
        return batch.failed

    def drain(self) -> int | None:
        """Finish every queued check; the number of the first failed entry, or None."""
        failed = self._submit() if self._batch else None
        while self._pending and failed is None:
            failed = self._oldest()
        for batch in self._pending:  # after a failure, later batches cannot change the verdict
            if batch.future is not None:
                batch.future.cancel()
        self._pending.clear()
        return failed


class JournalVerifier:
    """Verifies one register's journal, entry by entry, from the first (streaming; constant memory).

    ``feed`` every entry in order, then ``finish``. Both raise the ``JournalError`` of the first broken
    entry. ``expected_entries`` (e.g. from an export header) turns a shorter journal into a gap.

    Every entry goes through the same rules (``check_shape``, ``parse_counters``, ``check_counters`` …).
    ``fast`` (the default) only lets ``parse_counters`` reuse the values of the previous entry's money
    counters when their strings are unchanged; ``fast=False`` (the complete path) parses every counter of
    every entry. The verdict is the same.

    Signatures are checked ``batch_size`` at a time by ``executor`` (``None``: in the caller's thread), at
    most ``in_flight`` batches pending; the verdict does not depend on these either.

    ``shifts=False`` (for a journal whose last counters count no X or Z report, so that no entry needs its
    shift added up) skips the shift totals; a report entry met anyway is then a ``ShiftTotalsError``.
    """

    def __init__(
        self,
        register_id: int,
        public_key: PublicKey,
        *,
        executor: Executor | None = None,
        batch_size: int = 256,
        in_flight: int = 4,
        fast: bool = True,
        shifts: bool = True,
    ) -> None:
        self.register_id = register_id
        self.key = public_key
        self._key_id = public_key.key_id
        self.count = 0
        self.last_hash = GENESIS_HASH
        self.fast = fast
        self._counters = Counters()
        self._raw_counters: Mapping[str, Any] = self._counters.to_json()
        self._signatures = _SignatureBatches(public_key, executor, batch_size, in_flight)
        self._failure: JournalError | None = None
        self._shifts = ShiftChecker() if shifts else None

    def _fail(self, error: JournalError) -> JournalError:
        # A signature failure of an earlier entry wins over this entry's failure.
        failed = self._signatures.drain()
        if failed is not None and (error.number is None or failed < error.number):
            error = self._signature_error(failed)
        self._failure = error
        return error

    def _signature_error(self, number: int) -> SignatureInvalidError:
        return SignatureInvalidError(
            f"entry #{number}: the signature does not verify with the register's key",
            register_id=self.register_id,
            number=number,
        )

    def feed(self, entry: RawEntry, upcoming: Callable[[], Iterator[int]] | None = None) -> None:
        """Check one entry. ``upcoming`` (optional) yields the numbers of the entries after it, used only
        to tell a gap from a reordering once the journal is already known to be broken."""
        if self._failure is not None:
            raise self._failure
        register_id = self.register_id
        expected = self.count + 1
        content = entry.content
        try:
            check_shape(content)
        except MalformedEntryError as exc:
            raise self._fail(
                MalformedEntryError(f"entry #{expected}: {exc.message}", register_id=register_id, number=expected)
            ) from None
        number: int = content["number"]
        if content["register"] != register_id:
            raise self._fail(
                MalformedEntryError(
                    f"entry #{expected}: belongs to register {content['register']}, not {register_id}",
                    register_id=register_id,
                    number=expected,
                )
            )
        if number != expected:
            raise self._fail(self._number_error(expected, number, upcoming))
        if content["prev_hash"] != self.last_hash:
            raise self._fail(
                ChainBrokenError(
                    f"entry #{number}: prev_hash {content['prev_hash'][:16]}… is not the hash of "
                    f"entry #{number - 1} ({self.last_hash[:16]}…)",
                    register_id=register_id,
                    number=number,
                )
            )
        digest = _sha256(entry.data).digest()
        actual_hash = digest.hex()
        if entry.recorded_hash is not None and entry.recorded_hash != actual_hash:
            raise self._fail(
                ContentAlteredError(
                    f"entry #{number}: the content was altered (it hashes to {actual_hash[:16]}…, "
                    f"the entry records {entry.recorded_hash[:16]}…)",
                    register_id=register_id,
                    number=number,
                )
            )
        if content["key_id"] != self._key_id:
            raise self._fail(
                SignatureInvalidError(
                    f"entry #{number}: signed by another key ({content['key_id'][:16]}…)",
                    register_id=register_id,
                    number=number,
                )
            )
        raw_counters = content["counters"]
        try:
            counters = parse_counters(raw_counters, (self._raw_counters, self._counters) if self.fast else None)
        except MalformedEntryError as exc:
            raise self._fail(
                MalformedEntryError(f"entry #{number}: {exc.message}", register_id=register_id, number=number)
            ) from None
        try:
            check_counters(self._counters, counters, number, content["type"], register_id)
        except JournalError as exc:
            raise self._fail(exc) from None
        failed = self._signatures.add(number, digest, entry.signature)
        if failed is not None:
            raise self._fail(self._signature_error(failed))
        if self._shifts is not None:
            problem = self._shifts.feed(content["type"], number, content["time"], content["body"])
        elif content["type"] in REPORT_TYPES:
            problem = f"entry #{number}: a {content['type']} in a journal whose head counts no report"
        else:
            problem = None
        if problem is not None:
            raise self._fail(ShiftTotalsError(problem, register_id=register_id, number=number))
        self.count = number
        self.last_hash = actual_hash
        self._counters = counters
        self._raw_counters = raw_counters

    @property
    def counters(self) -> Counters:
        """The counters after the last verified entry."""
        return self._counters

    def _number_error(self, expected: int, number: int, upcoming: Callable[[], Iterator[int]] | None) -> JournalError:
        where = {"register_id": self.register_id, "number": expected}
        if number < expected:
            return EntryOrderError(
                f"entry #{expected}: found #{number} again after #{expected - 1} (repeated or out of order)",
                **where,
            )
        if upcoming is not None and expected in upcoming():
            return EntryOrderError(f"entry #{expected}: out of order: #{number} comes before #{expected}", **where)
        missing = f"#{expected}" if number == expected + 1 else f"#{expected}–#{number - 1}"
        return CounterGapError(f"entry #{expected}: missing ({missing}; the next entry is #{number})", **where)

    def finish(self, expected_entries: int | None = None) -> VerifiedJournal:
        """Complete the pending signature checks; the summary when every entry verified."""
        if self._failure is not None:
            raise self._failure
        failed = self._signatures.drain()
        if failed is not None:
            self._failure = self._signature_error(failed)
            raise self._failure
        if expected_entries is not None and self.count != expected_entries:
            if self.count < expected_entries:
                error: JournalError = CounterGapError(
                    f"entry #{self.count + 1}: missing (the journal ends at #{self.count}, "
                    f"{expected_entries} entries were recorded)",
                    register_id=self.register_id,
                    number=self.count + 1,
                )
            else:
                error = CounterGapError(
                    f"the journal has {self.count} entries, {expected_entries} were recorded",
                    register_id=self.register_id,
                    number=expected_entries + 1,
                )
            self._failure = error
            raise error
        return VerifiedJournal(self.register_id, self.count, self.last_hash, self.counters)


def verify_entries(
    register_id: int,
    public_key: PublicKey,
    entries: Iterable[RawEntry],
    *,
    threads: int = 2,
    fast: bool = True,
) -> VerifiedJournal:
    """Verify a whole journal given in order; raises the ``JournalError`` of the first broken entry."""
    executor = ThreadPoolExecutor(max_workers=threads) if threads > 0 else None
    try:
        verifier = JournalVerifier(register_id, public_key, executor=executor, fast=fast)
        items = list(entries)
        for index, entry in enumerate(items):

            def upcoming(start: int = index + 1) -> Iterator[int]:
                return _numbers(items[start:])

            verifier.feed(entry, upcoming)
        return verifier.finish()
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _numbers(entries: Iterable[RawEntry]) -> Iterator[int]:
    for entry in entries:
        if isinstance(entry.content, dict) and type(entry.content.get("number")) is int:
            yield entry.content["number"]
