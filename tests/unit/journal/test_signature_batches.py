"""Signature checks sent to an executor give the verdict of the caller's thread, whatever the executor does:
runs them, never starts them (the caller checks them itself instead of waiting), breaks (a killed worker
process) or refuses them (shut down). The first broken entry is named even when a later entry breaks
another rule before the earlier entry's batch is back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from typing import Any

import pytest

from openvcr.core.errors import JournalError
from openvcr.core.journal import JournalVerifier, RawEntry, VerifiedJournal
from tests.unit.journal.test_verifier import KEY, make_journal, tampered

Verdict = VerifiedJournal | tuple[str, int | None, str]


class IdleExecutor(Executor):
    """Accepts every batch and never starts one."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()


class BrokenPool(Executor):
    """Every batch fails as a process pool's do once a worker was killed."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(BrokenExecutor("a worker process died"))
        return future


class RefusingExecutor(Executor):
    """Refuses every batch, as a shut down executor does."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise RuntimeError("cannot schedule new futures after shutdown")


def verdict(entries: list[RawEntry], executor: Executor | None) -> Verdict:
    verifier = JournalVerifier(1, KEY, executor=executor, batch_size=4, in_flight=2)
    try:
        for entry in entries:
            verifier.feed(entry)
        return verifier.finish()
    except JournalError as exc:
        return exc.code, exc.number, exc.message


def bad_signature(entries: list[RawEntry], *numbers: int) -> list[RawEntry]:
    """The journal with each entry of ``numbers`` carrying the signature of the entry before it."""
    out = list(entries)
    for number in numbers:
        out[number - 1] = out[number - 1]._replace(signature=out[number - 2].signature)
    return out


JOURNAL = make_journal(40)
JOURNALS = {
    "valid": JOURNAL,
    "a_bad_signature_deep_inside": bad_signature(JOURNAL, 37),
    "two_bad_signatures": bad_signature(JOURNAL, 35, 22),
    "a_bad_signature_then_altered_content": [
        *bad_signature(JOURNAL, 22)[:34],
        tampered(JOURNAL[34], lambda c: c["body"].update(total="0.00")),
        *JOURNAL[35:],
    ],
}
EXPECTED: dict[str, tuple[str, int] | None] = {
    "valid": None,
    "a_bad_signature_deep_inside": ("signature_invalid", 37),
    "two_bad_signatures": ("signature_invalid", 22),
    "a_bad_signature_then_altered_content": ("signature_invalid", 22),
}


@pytest.mark.parametrize("name", JOURNALS)
@pytest.mark.parametrize("executor", [IdleExecutor, BrokenPool, RefusingExecutor, ThreadPoolExecutor])
def test_an_executor_does_not_change_the_verdict(
    name: str, executor: Callable[[], Executor], caplog: pytest.LogCaptureFixture
) -> None:
    pool = executor()
    try:
        with caplog.at_level(logging.WARNING, logger="openvcr.verify"):
            found = verdict(JOURNALS[name], pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert found == verdict(JOURNALS[name], None)
    dropped = [r for r in caplog.records if r.name == "openvcr.verify"]
    assert len(dropped) == (1 if executor in (BrokenPool, RefusingExecutor) else 0)  # said once, then in-process
    if isinstance(found, VerifiedJournal):
        assert EXPECTED[name] is None
        assert found.entries == 40
    else:
        assert found[:2] == EXPECTED[name]
