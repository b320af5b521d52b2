"""One rule set: the verifier's fast path and its complete path give the same verdict on every journal."""

from __future__ import annotations

import pytest

from openvcr.core.errors import JournalError
from openvcr.core.journal import RawEntry, verify_entries
from openvcr.core.signing import EcdsaP256Signer, load_public_key
from tests.unit.journal.corrupted_journals import COUNTERS_CASES, ORDER_CASES, Case

SIGNER = EcdsaP256Signer.generate()
KEY = load_public_key(SIGNER.public_key_pem())

Verdict = tuple[str, int | None, str] | None


def verdict(entries: list[RawEntry], *, fast: bool, threads: int) -> Verdict:
    """The rule, the number and the message of the first broken entry; None when the journal verifies."""
    try:
        verify_entries(1, KEY, entries, threads=threads, fast=fast)
    except JournalError as exc:
        return exc.code, exc.number, exc.message
    return None


@pytest.mark.parametrize("case", COUNTERS_CASES + ORDER_CASES, ids=lambda case: case.name)
def test_the_fast_and_the_complete_path_name_the_same_first_broken_entry_and_rule(case: Case) -> None:
    entries = case.build(SIGNER, 1)
    verdicts = {
        (fast, threads): verdict(entries, fast=fast, threads=threads) for fast in (True, False) for threads in (0, 2)
    }
    assert len(set(verdicts.values())) == 1, verdicts
    found = verdicts[True, 2]
    assert (found[:2] if found else None) == case.verdict
