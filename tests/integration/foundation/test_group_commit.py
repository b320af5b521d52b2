"""The group writer: many jobs per durable transaction, a failing job rolled back alone, results only after
the commit, and no nesting."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from openvcr.store.db import Database, NestedWriteError
from openvcr.store.group import GroupCommit
from tests.conftest import create_postgres_database, drop_postgres_database

probe_meta = MetaData()
probe = Table("group_probe", probe_meta, Column("id", Integer, primary_key=True), Column("v", String(40), unique=True))
counters = Table("group_counter", probe_meta, Column("id", Integer, primary_key=True), Column("n", Integer))


@pytest.fixture
def db(database: Database) -> Database:
    probe_meta.create_all(database.engine)
    return database


def _insert(value: str) -> Callable[[Connection], int]:
    def job(conn: Connection) -> int:
        return int(conn.execute(insert(probe).values(v=value).returning(probe.c.id)).scalar_one())

    return job


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(probe)).scalar_one())


def test_jobs_waiting_while_a_transaction_runs_share_the_next_one(db: Database) -> None:
    group = GroupCommit(db)
    started, release = threading.Event(), threading.Event()

    def blocker(conn: Connection) -> str:
        started.set()
        release.wait(10)
        return "first"

    first = group.submit(blocker)
    assert started.wait(10)
    waiting = [group.submit(_insert(f"v{n}")) for n in range(20)]
    release.set()
    ids = [future.result(10) for future in waiting]
    assert first.result(10) == "first"
    assert len(set(ids)) == 20 and _count(db) == 20
    stats = group.stats()
    assert (stats.transactions, stats.jobs, stats.largest) == (2, 21, 20)
    group.close()


def test_a_failing_job_is_rolled_back_alone_and_gets_its_own_error(db: Database) -> None:
    group = GroupCommit(db)
    started, release = threading.Event(), threading.Event()

    def blocker(conn: Connection) -> None:
        started.set()
        release.wait(10)

    group.submit(blocker)
    assert started.wait(10)

    def half_then_fail(conn: Connection) -> None:
        conn.execute(insert(probe).values(v="written-then-undone"))
        raise ValueError("bad input")

    good_before = group.submit(_insert("a"))
    bad = group.submit(half_then_fail)
    duplicate = group.submit(_insert("a"))
    good_after = group.submit(_insert("b"))
    release.set()
    assert isinstance(good_before.result(10), int) and isinstance(good_after.result(10), int)
    with pytest.raises(ValueError, match="bad input"):
        bad.result(10)
    with pytest.raises(IntegrityError):
        duplicate.result(10)
    with db.read() as conn:
        assert sorted(conn.execute(select(probe.c.v)).scalars()) == ["a", "b"]
    assert group.stats().transactions == 2  # the failures did not split the batch
    group.close()


def test_a_batch_pays_savepoints_only_when_one_of_its_jobs_fails(db: Database) -> None:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    group = GroupCommit(db)
    started, release = threading.Event(), threading.Event()

    def blocker(conn: Connection) -> None:
        started.set()
        release.wait(10)

    try:
        group.submit(blocker)
        assert started.wait(10)
        good = [group.submit(_insert(f"g{n}")) for n in range(3)]
        release.set()
        assert [future.result(10) for future in good] == [1, 2, 3]
        assert "SAVEPOINT" not in statements

        started.clear()
        release.clear()
        group.submit(blocker)
        assert started.wait(10)
        again = [group.submit(_insert("g0")), group.submit(_insert("h1"))]
        release.set()
        with pytest.raises(IntegrityError):
            again[0].result(10)
        assert isinstance(again[1].result(10), int)
        assert statements.count("SAVEPOINT") == 2  # the batch of two ran again guarded: one savepoint a job
        with db.read() as conn:
            assert sorted(conn.execute(select(probe.c.v)).scalars()) == ["g0", "g1", "g2", "h1"]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        group.close()


def test_a_result_is_given_only_once_its_transaction_is_committed(db: Database) -> None:
    seen_by_others: list[int] = []
    other = Database(db.url)

    def job(conn: Connection) -> int:
        new_id = int(conn.execute(insert(probe).values(v="x").returning(probe.c.id)).scalar_one())
        seen_by_others.append(_count(other))  # another connection, while the transaction is still open
        return new_id

    try:
        assert db.group.run(job) == 1
        assert seen_by_others == [0]
        assert _count(other) == 1  # committed when run() returned
    finally:
        other.dispose()


def test_many_threads_every_result_and_every_row(db: Database) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for k in range(10):
            value = db.group.run(_insert(f"t{n}-{k}"))
            with lock:
                results.append(int(value))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(set(results)) == 80 == _count(db)
    assert db.group.stats().jobs == 80


def test_no_nesting_on_sqlite(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    probe_meta.create_all(db.engine)
    try:
        with db.write(), pytest.raises(NestedWriteError):
            db.group.run(_insert("inside"))

        def opens_its_own(conn: Connection) -> None:
            with db.write():
                pass

        with pytest.raises(NestedWriteError):
            db.group.run(opens_its_own)
        assert _count(db) == 0
    finally:
        db.dispose()


def test_after_close_nothing_is_accepted(db: Database) -> None:
    group = GroupCommit(db)
    assert group.run(_insert("z")) == 1
    group.close()
    with pytest.raises(RuntimeError, match="closed"):
        group.submit(_insert("y"))


@pytest.mark.postgres
def test_a_job_that_loses_a_deadlock_runs_again_and_nothing_is_lost() -> None:
    """Two processes' writers (two databases here) whose batches lock two rows in opposite orders: PostgreSQL
    picks one statement to give way; that job's savepoint is rolled back and it runs again once its batch has
    committed. Both jobs succeed and each row is updated exactly once by each writer."""
    url = create_postgres_database()
    first, second = Database(url), Database(url)
    try:
        probe_meta.create_all(first.engine)
        with first.write() as conn:
            conn.execute(insert(counters), [{"id": 1, "n": 0}, {"id": 2, "n": 0}])
        locked = {1: threading.Event(), 2: threading.Event()}

        def bump(row: int) -> Callable[[Connection], int]:
            def job(conn: Connection) -> int:
                statement = counters.update().where(counters.c.id == row).values(n=counters.c.n + 1)
                return int(conn.execute(statement.returning(counters.c.id)).scalar_one())

            return job

        def hold(row: int, other: int) -> Callable[[Connection], int]:
            def job(conn: Connection) -> int:
                bump(row)(conn)
                locked[row].set()
                assert locked[other].wait(10)
                return row

            return job

        futures = []
        for db, row, other in ((first, 1, 2), (second, 2, 1)):
            group = db.group
            gate = threading.Event()
            group.submit(lambda _conn, gate=gate: gate.wait(10))
            futures.append(group.submit(hold(row, other)))
            futures.append(group.submit(bump(other)))  # waits for the other writer's row: a deadlock
            gate.set()
        assert sorted(future.result(30) for future in futures) == [1, 1, 2, 2]
        with first.read() as conn:
            assert {row.id: row.n for row in conn.execute(select(counters))} == {1: 2, 2: 2}
    finally:
        first.dispose()
        second.dispose()
        drop_postgres_database(url)
