"""Pipelined registers: a register's documents reach SRC in ``seq`` order without making anything else wait.

Rules:
- Each register with documents in flight has one sender thread in the process. It takes the documents waiting
  for the register (at most ``MAX_BATCH``; one at a time under the ``strict`` seq policy, where a seq given
  back must be the last one reserved), and, holding the register's SRC lock (``RegisterLocks``: within the
  process and across processes):
  1. drafts them through the group writer (``Database.group``): each document's rows and its reserved seq(s)
     in a savepoint of its own, all in durable transactions shared with other registers' documents and with
     completions — the seqs follow the order the documents were taken in;
  2. sends them to SRC one by one, in that order; a document's answer (or failure) goes straight back to the
     request that waits for it, which records the outcome through the group writer in its own thread.
  So a register's SRC calls stay in seq order and each is persisted before it is sent, but no database
  write waits behind an SRC call, and registers never wait for each other.
- A document whose draft fails (validation, a race on its Idempotency-Key) gets its exception and reserves
  nothing: its savepoint was rolled back.
- A sender thread ends after ``IDLE_SECONDS`` without work; the next document starts one again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from openvcr.authority.gateway import Receipt, ReturnedReceiptInfo
from openvcr.authority.service import Reservation, SrcService
from openvcr.core.errors import AuthorityInDoubt, AuthorityRefused, AuthorityUnavailable
from openvcr.documents.models import Document
from openvcr.store.db import Database

log = logging.getLogger("openvcr.documents")

MAX_BATCH = 32
IDLE_SECONDS = 30.0


@dataclass(frozen=True)
class Drafted:
    """A document's committed draft: the document, its detail row, its reserved SRC call(s)."""

    document: Document
    detail_id: int
    reservations: list[Reservation]


@dataclass(frozen=True)
class Sent:
    """What SRC made of a drafted document: its answers, or the failure to act on."""

    drafted: Drafted
    results: list[Receipt | ReturnedReceiptInfo] | None
    failure: AuthorityRefused | AuthorityUnavailable | AuthorityInDoubt | None


@dataclass
class _Job:
    draft: Callable[[Connection], Drafted]
    future: Future[Sent]


class RegisterPipelines:
    """``submit(register_id, draft)``: draft and send one document in its register's order."""

    def __init__(self, db: Database, src: SrcService) -> None:
        self.db = db
        self.src = src
        self.batch = 1 if src.strict else MAX_BATCH
        self._guard = threading.Lock()
        self._queues: dict[int, queue.SimpleQueue[_Job]] = {}

    def submit(self, register_id: int, draft: Callable[[Connection], Drafted]) -> Future[Sent]:
        self.db.check_not_writing()
        job = _Job(draft, Future())
        with self._guard:
            waiting = self._queues.get(register_id)
            if waiting is None:
                waiting = self._queues[register_id] = queue.SimpleQueue()
                name = f"openvcr-register-{register_id}"
                threading.Thread(target=self._sender, args=(register_id, waiting), name=name, daemon=True).start()
            waiting.put(job)
        return job.future

    def run(self, register_id: int, draft: Callable[[Connection], Drafted]) -> Sent:
        return self.submit(register_id, draft).result()

    def _take(self, register_id: int, waiting: queue.SimpleQueue[_Job]) -> list[_Job]:
        """The next jobs of the register, or [] once it has been idle long enough (the thread then ends)."""
        try:
            first = waiting.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            with self._guard:
                if waiting.empty():
                    del self._queues[register_id]
                    return []
            first = waiting.get()
        jobs = [first]
        while len(jobs) < self.batch:
            try:
                jobs.append(waiting.get_nowait())
            except queue.Empty:
                break
        return jobs

    def _sender(self, register_id: int, waiting: queue.SimpleQueue[_Job]) -> None:
        while True:
            jobs = self._take(register_id, waiting)
            if not jobs:
                return
            try:
                self._turn(register_id, jobs)
            except BaseException as exc:  # never leave a request waiting forever
                log.exception("the sender of register %s failed", register_id)
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise

    def _turn(self, register_id: int, jobs: list[_Job]) -> None:
        with self.src.locks.hold(register_id):
            drafts: list[tuple[_Job, Future[Drafted]]] = [(job, self.db.group.submit(job.draft)) for job in jobs]
            ready: list[tuple[_Job, Drafted]] = []
            for job, pending in drafts:
                try:
                    ready.append((job, pending.result()))
                except Exception as exc:
                    job.future.set_exception(exc)
            for job, drafted in ready:
                try:
                    results: Any = self.src.send(drafted.reservations)
                except (AuthorityRefused, AuthorityUnavailable, AuthorityInDoubt) as exc:
                    job.future.set_result(Sent(drafted, None, exc))
                except Exception as exc:
                    job.future.set_exception(exc)
                else:
                    job.future.set_result(Sent(drafted, results, None))
