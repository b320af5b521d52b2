"""Export of registers' journals to JSON Lines, and their verification offline or in the database.

Export format (UTF-8 JSON Lines, one JSON object per line). For each register, a header line, then its
entries in journal order::

    {"kind":"register","format":"openvcr-journal","version":1,"register":1,"crn":"…","algorithm":
     "ecdsa-p256-sha256","key_id":"<hex>","public_key_pem":"-----BEGIN PUBLIC KEY-----…","entries":N,
     "last_hash":"<hex>","exported_at":<ms>}
    {"kind":"entry","hash":"<hex sha256 of the canonical entry>","signature":"<base64 DER>","entry":{…}}

``entry`` is the signed content exactly as in ``openvcr.core.journal`` (register, number, type, ref, body
with every amount as a decimal string, counters, prev_hash, time, key_id); its canonical bytes are
``json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``, so the file is
verifiable with nothing but the header's public key: SHA-256 of those bytes is ``hash`` and the next entry's
``prev_hash``; the signature is ECDSA P-256 / SHA-256 over them.

Rules of verification (the first broken entry is reported, with its rule, see ``core.journal``):
- every entry line belongs to a register whose header came before it;
- a register's entries are 1 … ``entries`` of its header, none missing at the end.
- In the database: the journal head (last number, hash and counters) must match the last entry.
"""

from __future__ import annotations

import base64
import binascii
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson
from sqlalchemy import Connection, select

from openvcr.core.canonical import canonical_bytes_of_parsed
from openvcr.core.errors import ChainBrokenError, MalformedEntryError, NotFound
from openvcr.core.journal import GENESIS_HASH, Counters, JournalVerifier, RawEntry, VerifiedJournal
from openvcr.core.shift import REPORT_TYPES
from openvcr.core.signing import ALGORITHM, PublicKey, first_invalid_signature, load_public_key
from openvcr.registers import journal
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.journal import journal_heads

__all__ = [
    "EXPORT_FORMAT",
    "PARALLEL_FROM",
    "ExportSummary",
    "VerifyReport",
    "count_entries",
    "default_workers",
    "export_journal",
    "verify_database",
    "verify_file",
]

log = logging.getLogger("openvcr.verify")

EXPORT_FORMAT = "openvcr-journal"
EXPORT_VERSION = 1

Progress = Callable[[int], None]
"""Called with an amount of work done since the last call (entries, or bytes for a file)."""


@dataclass(frozen=True)
class ExportSummary:
    registers: tuple[int, ...]
    entries: int


@dataclass(frozen=True)
class VerifyReport:
    """A successful verification: one result per register."""

    journals: tuple[VerifiedJournal, ...]

    @property
    def entries(self) -> int:
        return sum(j.entries for j in self.journals)


def _registers_to_export(db: Database, register_id: int | None) -> list[Any]:
    query = select(registers.c.id, registers.c.crn, registers.c.public_key_pem).order_by(registers.c.id)
    if register_id is not None:
        query = query.where(registers.c.id == register_id)
    else:
        query = query.where(registers.c.public_key_pem.is_not(None))
    with db.read() as conn:
        rows = conn.execute(query).all()
    if register_id is not None and not rows:
        raise NotFound(f"no register with id {register_id}")
    for row in rows:
        if row.public_key_pem is None:
            raise NotFound(f"register {row.id} has no signing key, so it has no journal")
    return list(rows)


class _StoredHead(NamedTuple):
    """The journal head as stored, its counters unparsed: a head whose counters do not parse must not stop
    the export, nor hide the entry that carries them from verification."""

    number: int
    last_hash: str
    counters: str | None


def _stored_head(conn: Connection, register_id: int) -> _StoredHead:
    query = select(journal_heads.c.number, journal_heads.c.last_hash, journal_heads.c.counters).where(
        journal_heads.c.register_id == register_id
    )
    row = conn.execute(query).first()
    if row is None:
        return _StoredHead(0, GENESIS_HASH, None)
    return _StoredHead(int(row.number), row.last_hash, row.counters)


def _head_matches(head: _StoredHead, result: VerifiedJournal) -> bool:
    if head.last_hash != result.last_hash:
        return False
    if head.counters is None:
        return result.counters == Counters()
    try:
        return Counters.from_json(orjson.loads(head.counters)) == result.counters
    except (orjson.JSONDecodeError, MalformedEntryError):
        return False


def _has_reports(head: _StoredHead) -> bool:
    """Whether the head's counters count an X or Z report (a journal without any needs no shift totals; one
    whose head hides its reports fails at its first report, and at the head check)."""
    return head.counters is None or any(f'"{kind}"' in head.counters for kind in REPORT_TYPES)


def count_entries(db: Database, register_id: int | None = None) -> int:
    """How many entries the journals to export or verify hold (for progress bars)."""
    total = 0
    with db.read() as conn:
        for row in _registers_to_export(db, register_id):
            total += _stored_head(conn, row.id).number
    return total


def export_journal(
    db: Database, output: IO[bytes], *, register_id: int | None = None, progress: Progress | None = None
) -> ExportSummary:
    """Write the journal(s) as JSON Lines to ``output`` (every register with a key, or one)."""
    exported: list[int] = []
    total = 0
    for reg in _registers_to_export(db, register_id):
        with db.read() as conn:
            head = _stored_head(conn, reg.id)
            key = load_public_key(reg.public_key_pem)
            header = {
                "kind": "register",
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "register": reg.id,
                "crn": reg.crn,
                "algorithm": ALGORITHM,
                "key_id": key.key_id,
                "public_key_pem": reg.public_key_pem,
                "entries": head.number,
                "last_hash": head.last_hash,
                "exported_at": now_ms(),
            }
            output.write(orjson.dumps(header) + b"\n")
            done = 0
            for content, digest, signature in journal.signed_rows(conn, reg.id, upto=head.number):
                line = {
                    "kind": "entry",
                    "hash": digest,
                    "signature": base64.b64encode(signature).decode("ascii"),
                    "entry": orjson.Fragment(content),
                }
                output.write(orjson.dumps(line) + b"\n")
                done += 1
                if progress is not None and done % 1000 == 0:
                    progress(1000)
            if progress is not None:
                progress(done % 1000)
        exported.append(reg.id)
        total += done
    return ExportSummary(tuple(exported), total)


PARALLEL_FROM = 4096
"""A journal of at least this many entries has its signatures checked in worker processes; a shorter one in
the caller's thread, where starting the processes would cost more than it saves."""

PARALLEL_BATCH = 1024
"""Signatures checked per task sent to a worker process."""

_IN_FLIGHT_PER_WORKER = 8
"""Batches a worker may have pending: enough for the caller to run ahead while the workers start."""


def _pool_context() -> BaseContext:
    """Workers start from a fork server (or are spawned), never forked from the caller: it may run threads
    (a server, a progress bar) and hold database connections, which a forked child would inherit. The fork
    server (one per process, started on first use) preloads the module the workers run, so each worker
    starts as a fork of it, without importing anything."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([first_invalid_signature.__module__])
    return context


def default_workers() -> int:
    """Worker processes for signature checks: one per CPU but the caller's, which checks the other rules
    and, whenever it would wait for the workers, signatures too (none on a single CPU)."""
    return max(0, (os.cpu_count() or 1) - 1)


class _SignatureWorkers:
    """Where a verification checks signatures. A journal of at least ``parallel_from`` entries: in ``workers``
    processes (default: ``default_workers()``), and in the caller's thread whenever it would otherwise wait
    for them; the processes start on first need, serve every register of the run and stop with it
    (``close``). A shorter journal: in ``threads`` threads, which start at once (the cryptography library
    releases the GIL while it verifies, but the caller holds it while it checks the other rules, so threads
    only verify in parallel while the caller waits)."""

    def __init__(self, threads: int, workers: int | None, parallel_from: int, batch_size: int) -> None:
        self._threads = threads
        self._workers = default_workers() if workers is None else workers
        self._parallel_from = parallel_from
        self._batch_size = batch_size
        self._pool: ProcessPoolExecutor | None = None
        self._thread_pool: ThreadPoolExecutor | None = None
        self._failed = False

    def verifier(
        self, register_id: int, key: PublicKey, entries: int, *, fast: bool, shifts: bool = True
    ) -> JournalVerifier:
        """A verifier for a journal of ``entries`` entries (``shifts``: see ``JournalVerifier``)."""
        pool = self._processes() if entries >= self._parallel_from else None
        if pool is None:
            return JournalVerifier(register_id, key, executor=self._thread_executor(), fast=fast, shifts=shifts)
        in_flight = _IN_FLIGHT_PER_WORKER * self._workers
        return JournalVerifier(
            register_id,
            key,
            executor=pool,
            batch_size=self._batch_size,
            in_flight=in_flight,
            fast=fast,
            shifts=shifts,
        )

    def _thread_executor(self) -> ThreadPoolExecutor | None:
        if self._thread_pool is None and self._threads > 0:
            self._thread_pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="verify")
        return self._thread_pool

    def _processes(self) -> ProcessPoolExecutor | None:
        if self._pool is None and self._workers > 0 and not self._failed:
            try:
                self._pool = ProcessPoolExecutor(
                    self._workers,
                    mp_context=_pool_context(),
                    initializer=signal.signal,
                    initargs=(signal.SIGINT, signal.SIG_IGN),  # Ctrl-C stops the caller, which stops them
                )
            except (OSError, ImportError, NotImplementedError) as exc:  # no process support here
                log.warning("signatures are checked in this process: worker processes cannot start (%s)", exc)
                self._failed = True
        return self._pool

    def close(self) -> None:
        for executor in (self._pool, self._thread_pool):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        self._pool = self._thread_pool = None


# --- verification of a file ---------------------------------------------------------------------------


class _FileState:
    __slots__ = ("expected", "verifier")

    def __init__(self, verifier: JournalVerifier, expected: int) -> None:
        self.verifier = verifier
        self.expected = expected


def _parse_line(raw: bytes, line_no: int) -> dict[str, Any]:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedEntryError(f"line {line_no}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise MalformedEntryError(f"line {line_no}: not a JSON object")
    return obj


def _raw_entry(obj: dict[str, Any], line_no: int) -> RawEntry:
    content = obj.get("entry")
    digest = obj.get("hash")
    signature = obj.get("signature")
    if not isinstance(content, dict) or not isinstance(digest, str) or not isinstance(signature, str):
        raise MalformedEntryError(f"line {line_no}: an entry line has 'entry', 'hash' and 'signature'")
    try:
        signature_bytes = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEntryError(f"line {line_no}: the signature is not base64") from None
    return RawEntry(content, canonical_bytes_of_parsed(content), digest, signature_bytes)


def _header(obj: dict[str, Any], line_no: int) -> tuple[int, PublicKey, int]:
    register_id = obj.get("register")
    entries = obj.get("entries")
    pem = obj.get("public_key_pem")
    if obj.get("format") != EXPORT_FORMAT or obj.get("version") != EXPORT_VERSION:
        raise MalformedEntryError(f"line {line_no}: not an {EXPORT_FORMAT} v{EXPORT_VERSION} header")
    if type(register_id) is not int or type(entries) is not int or not isinstance(pem, str):
        raise MalformedEntryError(f"line {line_no}: a header has 'register', 'entries' and 'public_key_pem'")
    if obj.get("algorithm") != ALGORITHM:
        raise MalformedEntryError(f"line {line_no}: unsupported algorithm {obj.get('algorithm')!r}")
    try:
        key = load_public_key(pem)
    except ValueError:
        raise MalformedEntryError(f"line {line_no}: the public key is not an ECDSA P-256 PEM key") from None
    return register_id, key, entries


def _numbers_after(lines: Iterator[bytes], register_id: int) -> Iterator[int]:
    """Numbers of the register's entries in the rest of the file (only to classify a broken order)."""
    for raw in lines:
        try:
            obj = orjson.loads(raw)
            content = obj["entry"]
            if content["register"] == register_id and type(content["number"]) is int:
                yield content["number"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue


def verify_file(
    path: Path | str,
    *,
    progress: Progress | None = None,
    threads: int = 3,
    fast: bool = True,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    batch_size: int = PARALLEL_BATCH,
) -> VerifyReport:
    """Verify an export offline; raises the ``JournalError`` of the first broken entry. ``fast=False``
    takes the verifier's complete path (same rules, same verdict; see ``JournalVerifier``).

    A register whose header announces at least ``parallel_from`` entries has its signatures checked
    ``batch_size`` at a time in ``workers`` processes (default: ``default_workers()``) as well as in the
    caller's thread, a shorter one in ``threads`` threads; the verdict is the same."""
    states: dict[int, _FileState] = {}
    order: list[int] = []
    signatures = _SignatureWorkers(threads, workers, parallel_from, batch_size)
    try:
        with open(path, "rb") as handle:
            lines: Iterator[bytes] = iter(handle)
            pending_bytes = 0
            for line_no, raw in enumerate(lines, start=1):
                pending_bytes += len(raw)
                if progress is not None and pending_bytes >= 1 << 20:
                    progress(pending_bytes)
                    pending_bytes = 0
                if not raw.strip():
                    continue
                obj = _parse_line(raw, line_no)
                kind = obj.get("kind")
                if kind == "entry":
                    entry = _raw_entry(obj, line_no)
                    register_id = entry.content.get("register")
                    state = states.get(register_id) if type(register_id) is int else None
                    if state is None:
                        raise MalformedEntryError(
                            f"line {line_no}: an entry of register {register_id!r} without its header"
                        )

                    def upcoming(rid: int = register_id) -> Iterator[int]:
                        return _numbers_after(lines, rid)

                    state.verifier.feed(entry, upcoming)
                elif kind == "register":
                    register_id, key, expected = _header(obj, line_no)
                    if register_id in states:
                        raise MalformedEntryError(f"line {line_no}: register {register_id} appears twice")
                    verifier = signatures.verifier(register_id, key, expected, fast=fast)
                    states[register_id] = _FileState(verifier, expected)
                    order.append(register_id)
                else:
                    raise MalformedEntryError(f"line {line_no}: unknown line kind {kind!r}")
            if progress is not None and pending_bytes:
                progress(pending_bytes)
        if not states:
            raise MalformedEntryError("the file holds no journal")
        return VerifyReport(tuple(states[rid].verifier.finish(states[rid].expected) for rid in order))
    finally:
        signatures.close()


# --- verification in the database ---------------------------------------------------------------------


def verify_database(
    db: Database,
    *,
    register_id: int | None = None,
    progress: Progress | None = None,
    threads: int = 3,
    fast: bool = True,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    batch_size: int = PARALLEL_BATCH,
) -> VerifyReport:
    """Verify the journal(s) stored in the database; raises the ``JournalError`` of the first broken entry.
    ``fast=False`` takes the verifier's complete path (same rules, same verdict; see ``JournalVerifier``).

    A journal of at least ``parallel_from`` entries has its signatures checked ``batch_size`` at a time in
    ``workers`` processes (default: ``default_workers()``) as well as in the caller's thread, a shorter one in
    ``threads`` threads; the verdict is the same."""
    results: list[VerifiedJournal] = []
    signatures = _SignatureWorkers(threads, workers, parallel_from, batch_size)
    try:
        for reg in _registers_to_export(db, register_id):
            key = load_public_key(reg.public_key_pem)
            with db.read() as conn:
                head = _stored_head(conn, reg.id)
                verifier = signatures.verifier(reg.id, key, head.number, fast=fast, shifts=_has_reports(head))
                rows = journal.signed_rows(conn, reg.id, upto=head.number)

                def upcoming(rows: Iterator[tuple[bytes, str, bytes]] = rows) -> Iterator[int]:
                    return (orjson.loads(content)["number"] for content, _, _ in rows)

                done = 0
                for content, digest, signature in rows:
                    try:
                        parsed = orjson.loads(content)
                    except orjson.JSONDecodeError:
                        raise MalformedEntryError(
                            f"entry #{verifier.count + 1}: the stored content is not JSON",
                            register_id=reg.id,
                            number=verifier.count + 1,
                        ) from None
                    verifier.feed(RawEntry(parsed, content, digest, signature), upcoming)
                    done += 1
                    if progress is not None and done % 1000 == 0:
                        progress(1000)
                if progress is not None:
                    progress(done % 1000)
            result = verifier.finish(head.number)
            if not _head_matches(head, result):
                raise ChainBrokenError(
                    f"register {reg.id}: the journal head does not match entry #{result.entries}",
                    register_id=reg.id,
                    number=result.entries,
                )
            results.append(result)
        return VerifyReport(tuple(results))
    finally:
        signatures.close()
