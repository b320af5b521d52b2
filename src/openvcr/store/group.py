"""Group commit: one writer thread per ``Database`` that runs the write jobs of many concurrent requests in one
durable transaction.

Rules:
- A job is a function of a ``Connection``. ``run(job)`` hands it to the writer and returns its result (or
  raises its exception) only once the transaction that ran it is committed, i.e. on disk: a caller never
  acknowledges anything that a crash could still take back.
- The writer takes every job waiting when it starts a transaction (up to ``max_batch``), in the order they
  were handed in, and runs them one after another. A job that raises is rolled back alone and gets its
  exception; the others commit. So that a batch whose jobs all succeed pays no savepoints (through SQLAlchemy a
  savepoint and its release cost more than a job's typical statement), a batch first runs without them; if
  one of its jobs raises, the whole transaction is rolled back and the batch runs again with a savepoint per
  job. A job may therefore run twice: it must do nothing outside its connection that a rollback would not
  undo. If the commit itself fails, every job of the batch gets that error and nothing of the batch is
  written. A job that lost a lock conflict (PostgreSQL deadlock or serialization
  failure) runs again after its batch committed (at most ``MAX_ATTEMPTS`` times): its savepoint left nothing.
- Batches form by themselves: while one transaction commits (its fsync), the next jobs queue up. No job ever
  waits for a timer.
- On SQLite the writer takes the database's write queue like any writer (``Database.write``), so the order
  across processes is SQLite's single write lock, taken in ``flock`` order. On PostgreSQL it saves a commit
  (a WAL flush) per document all the same.
- A job must not wait for another job nor open a write transaction of its own (``NestedWriteError``), and
  ``run`` must not be called by a thread that has a write transaction open on the same database.
- An in-memory SQLite database (one connection only) runs each job at once on the caller's thread, in a
  transaction of its own.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection

if TYPE_CHECKING:
    from openvcr.store.db import Database

T = TypeVar("T")
log = logging.getLogger("openvcr.store")

MAX_BATCH = 128


@dataclass
class _Job:
    work: Callable[[Connection], Any]
    future: Future[Any]


class _JobRaised(Exception):
    """A job of a batch run without savepoints raised: nothing of the batch was written."""


@dataclass(frozen=True)
class GroupStats:
    transactions: int
    jobs: int
    largest: int


class GroupCommit:
    """The writer of one ``Database`` (see the module rules)."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH, threaded: bool = True) -> None:
        self.db = db
        self.max_batch = max_batch
        self.threaded = threaded
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._closed = False
        self._transactions = 0
        self._jobs = 0
        self._largest = 0

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in the next group transaction; its result once that transaction is committed."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Connection], T]) -> Future[T]:
        """Hand ``work`` to the writer; the future resolves once its transaction is committed."""
        self.db.check_not_writing()
        future: Future[T] = Future()
        if not self.threaded:
            self._run_batch([_Job(work, future)])
            return future
        with self._guard:
            if self._closed:
                raise RuntimeError("the database's group writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="openvcr-group-commit", daemon=True)
                self._thread.start()
            self._queue.put(_Job(work, future))
        return future

    def stats(self) -> GroupStats:
        with self._guard:
            return GroupStats(self._transactions, self._jobs, self._largest)

    def close(self) -> None:
        """Finish the jobs handed in so far, then stop the writer."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[_Job], attempt: int = 1) -> None:
        try:
            outcomes = self._run_plain(batch, attempt)
        except _JobRaised:
            outcomes = self._run_guarded(batch, attempt)
        if outcomes is None:
            return
        with self._guard:
            self._transactions += 1
            self._jobs += sum(outcome is not None for outcome in outcomes)
            self._largest = max(self._largest, len(batch))
        again: list[_Job] = []
        for job, outcome in zip(batch, outcomes, strict=True):
            if outcome is None:
                again.append(job)
            elif outcome[0]:
                job.future.set_result(outcome[1])
            else:
                job.future.set_exception(outcome[1])
        if again:
            log.info("%d job(s) lost a lock conflict (deadlock or serialization); running them again", len(again))
            self._run_batch(again, attempt + 1)

    def _run_plain(self, batch: list[_Job], attempt: int) -> list[tuple[bool, Any] | None] | None:
        """Run the batch without savepoints; None if the transaction as a whole failed. A job that raises rolls
        the transaction back: alone in its batch it gets its exception (or runs again, if it lost a lock
        conflict), else ``_JobRaised`` tells the caller to run the batch guarded."""
        raised: Exception | None = None
        outcomes: list[tuple[bool, Any] | None] = []
        try:
            with self.db.write() as conn:
                for job in batch:
                    try:
                        outcomes.append((True, job.work(conn)))
                    except Exception as exc:
                        raised = exc
                        raise
        except Exception as exc:
            if raised is None:
                self._fail(batch, exc)
                return None
            if len(batch) > 1:
                raise _JobRaised from raised
            return [None if attempt < MAX_ATTEMPTS and transient(raised) else (False, raised)]
        return outcomes

    def _run_guarded(self, batch: list[_Job], attempt: int) -> list[tuple[bool, Any] | None] | None:
        """Run the batch with a savepoint per job; None if the transaction as a whole failed."""
        outcomes: list[tuple[bool, Any] | None] = []
        try:
            with self.db.write() as conn:
                for job in batch:
                    savepoint = conn.begin_nested()
                    try:
                        result = job.work(conn)
                    except Exception as exc:
                        savepoint.rollback()
                        outcomes.append(None if attempt < MAX_ATTEMPTS and transient(exc) else (False, exc))
                    else:
                        savepoint.commit()
                        outcomes.append((True, result))
        except Exception as exc:
            self._fail(batch, exc)
            return None
        return outcomes

    @staticmethod
    def _fail(batch: list[_Job], exc: Exception) -> None:
        """The transaction as a whole failed: nothing of the batch is written."""
        log.warning("a group transaction of %d job(s) failed: %s", len(batch), exc)
        for job in batch:
            job.future.set_exception(exc)


# PostgreSQL's deadlock_detected and serialization_failure: a job's statement was chosen to give way to another
# transaction (e.g. two processes' batches each creating the offer the other one waits on). Its savepoint is
# rolled back and it runs again, after its batch committed, in a transaction of its own.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
MAX_ATTEMPTS = 3


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a lock conflict that running the job again resolves."""
    origin = getattr(exc, "orig", None)
    return getattr(origin, "sqlstate", None) in TRANSIENT_SQLSTATES
