"""The streaming verifier names the first broken entry and the rule it breaks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from openvcr.core.canonical import canonical_bytes, parse
from openvcr.core.errors import (
    ChainBrokenError,
    ContentAlteredError,
    CounterGapError,
    CountersMismatchError,
    CountersShrinkError,
    EntryOrderError,
    JournalError,
    MalformedEntryError,
    SignatureInvalidError,
)
from openvcr.core.journal import (
    GENESIS_HASH,
    Counters,
    CountersDelta,
    JournalVerifier,
    RawEntry,
    entry_content,
    entry_hash,
    verify_entries,
)
from openvcr.core.signing import EcdsaP256Signer, load_public_key

SIGNER = EcdsaP256Signer.generate()
KEY = load_public_key(SIGNER.public_key_pem())
Mutation = Callable[[int, dict[str, Any]], None]


def _body(number: int) -> dict[str, Any]:
    return {
        "saleId": number,
        "lines": [
            {"offer": "A-1", "quantity": Decimal("2.000"), "total": Decimal("44000.00")},
            {"offer": "B-7", "quantity": Decimal("1.500"), "total": Decimal("1500.00")},
        ],
        "total": Decimal("45500.00"),
    }


def make_journal(n: int, mutate: Mutation | None = None, signer: EcdsaP256Signer = SIGNER) -> list[RawEntry]:
    """A valid journal of ``n`` sales; ``mutate`` may change an entry's content before it is signed."""
    entries: list[RawEntry] = []
    counters = Counters()
    prev = GENESIS_HASH
    for number in range(1, n + 1):
        counters = counters.apply("sale", CountersDelta.sale(Decimal("45500.00"), Decimal("7583.33")))
        content = parse(
            canonical_bytes(
                entry_content(
                    register_id=1,
                    number=number,
                    doc_type="sale",
                    doc_ref=str(number),
                    body=_body(number),
                    counters=counters,
                    prev_hash=prev,
                    time_ms=1_700_000_000_000 + number,
                    key_id=signer.key_id,
                )
            )
        )
        if mutate is not None:
            mutate(number, content)
        data = canonical_bytes(content)
        entries.append(RawEntry(content, data, entry_hash(data), signer.sign(data)))
        prev = entry_hash(data)
    return entries


def tampered(entry: RawEntry, change: Callable[[dict[str, Any]], None]) -> RawEntry:
    """The entry with its content changed after signing (hash and signature kept)."""
    content = copy.deepcopy(entry.content)
    change(content)
    return RawEntry(content, canonical_bytes(content), entry.recorded_hash, entry.signature)


def first_failure(entries: list[RawEntry], threads: int = 2) -> JournalError:
    with pytest.raises(JournalError) as info:
        verify_entries(1, KEY, entries, threads=threads)
    return info.value


def test_a_valid_journal_verifies() -> None:
    entries = make_journal(20)
    result = verify_entries(1, KEY, entries)
    assert result.entries == 20
    assert result.last_hash == entries[-1].recorded_hash
    assert result.counters.sales_total == Decimal("910000.00")


def test_an_empty_journal_verifies() -> None:
    assert verify_entries(1, KEY, []).entries == 0


def test_an_altered_amount_is_altered_content() -> None:
    entries = make_journal(6)
    entries[3] = tampered(entries[3], lambda c: c["body"]["lines"][0].update(total="4400.00"))
    error = first_failure(entries)
    assert isinstance(error, ContentAlteredError)
    assert error.number == 4


def test_a_removed_document_line_is_altered_content() -> None:
    entries = make_journal(6)
    entries[2] = tampered(entries[2], lambda c: c["body"]["lines"].pop())
    error = first_failure(entries)
    assert isinstance(error, ContentAlteredError)
    assert error.number == 3


def test_an_altered_amount_with_a_recomputed_hash_is_a_bad_signature() -> None:
    entries = make_journal(6)
    changed = tampered(entries[3], lambda c: c["body"].update(total="1.00"))
    entries[3] = changed._replace(recorded_hash=entry_hash(changed.data))
    error = first_failure(entries)
    assert isinstance(error, SignatureInvalidError)
    assert error.number == 4


def test_a_damaged_signature_is_a_bad_signature() -> None:
    entries = make_journal(600)
    signature = bytearray(entries[450].signature)
    signature[10] ^= 0xFF
    entries[450] = entries[450]._replace(signature=bytes(signature))
    error = first_failure(entries)
    assert isinstance(error, SignatureInvalidError)
    assert error.number == 451


def test_the_first_broken_entry_is_named_even_when_its_signature_is_checked_in_a_thread() -> None:
    entries = make_journal(40)
    entries[4] = entries[4]._replace(signature=entries[5].signature)
    entries[30] = tampered(entries[30], lambda c: c["body"].update(total="0.00"))
    for threads in (0, 2):
        error = first_failure(entries, threads)
        assert isinstance(error, SignatureInvalidError)
        assert error.number == 5


def test_a_journal_signed_by_another_key_is_a_bad_signature() -> None:
    entries = make_journal(3, signer=EcdsaP256Signer.generate())
    error = first_failure(entries)
    assert isinstance(error, SignatureInvalidError)
    assert error.number == 1


def test_a_removed_entry_is_a_gap() -> None:
    entries = make_journal(6)
    del entries[2]
    error = first_failure(entries)
    assert isinstance(error, CounterGapError)
    assert error.number == 3


def test_a_missing_first_entry_is_a_gap() -> None:
    error = first_failure(make_journal(3)[1:])
    assert isinstance(error, CounterGapError)
    assert error.number == 1


def test_swapped_entries_are_a_reordering() -> None:
    entries = make_journal(6)
    entries[2], entries[3] = entries[3], entries[2]
    error = first_failure(entries)
    assert isinstance(error, EntryOrderError)
    assert error.number == 3


def test_a_repeated_entry_is_a_repeat() -> None:
    entries = make_journal(4)
    entries.insert(2, entries[1])
    error = first_failure(entries)
    assert isinstance(error, EntryOrderError)
    assert error.number == 3
    assert "again" in error.message


def test_a_broken_link_is_a_broken_chain() -> None:
    def relink(number: int, content: dict[str, Any]) -> None:
        if number == 4:
            content["prev_hash"] = "ab" * 32

    error = first_failure(make_journal(6, relink))
    assert isinstance(error, ChainBrokenError)
    assert error.number == 4


def test_a_sales_counter_that_goes_down_is_counters_shrinking() -> None:
    def shrink(number: int, content: dict[str, Any]) -> None:
        if number == 3:
            content["counters"]["sales_total"] = "1.00"

    error = first_failure(make_journal(5, shrink))
    assert isinstance(error, CountersShrinkError)
    assert error.number == 3


def test_a_document_count_that_does_not_match_the_number_is_a_counters_mismatch() -> None:
    def recount(number: int, content: dict[str, Any]) -> None:
        if number == 2:
            content["counters"]["documents"] = 3
            content["counters"]["by_type"]["sale"] = 3

    error = first_failure(make_journal(3, recount))
    assert isinstance(error, CountersMismatchError)
    assert error.number == 2


def test_a_training_document_that_moves_money_is_a_counters_mismatch() -> None:
    def train(number: int, content: dict[str, Any]) -> None:
        if number == 2:
            content["counters"]["non_fiscal"] = 1

    error = first_failure(make_journal(3, train))
    assert isinstance(error, CountersMismatchError)
    assert error.number == 2


def test_an_entry_without_a_field_is_malformed() -> None:
    entries = make_journal(3)
    entries[1] = tampered(entries[1], lambda c: c.pop("prev_hash"))
    error = first_failure(entries)
    assert isinstance(error, MalformedEntryError)
    assert error.number == 2


def test_an_entry_of_another_register_is_malformed() -> None:
    entries = make_journal(3)
    entries[0] = tampered(entries[0], lambda c: c.update(register=2))
    assert isinstance(first_failure(entries), MalformedEntryError)


def test_a_journal_shorter_than_recorded_ends_in_a_gap() -> None:
    verifier = JournalVerifier(1, KEY)
    for entry in make_journal(3):
        verifier.feed(entry)
    with pytest.raises(CounterGapError) as info:
        verifier.finish(expected_entries=5)
    assert info.value.number == 4


def test_feeding_after_a_failure_repeats_the_failure() -> None:
    entries = make_journal(3)
    verifier = JournalVerifier(1, KEY)
    with pytest.raises(CounterGapError):
        verifier.feed(entries[1])
    with pytest.raises(CounterGapError):
        verifier.feed(entries[0])


def _sales_total(value: object, *numbers: int) -> Mutation:
    def mutate(number: int, content: dict[str, Any]) -> None:
        if number in numbers:
            content["counters"]["sales_total"] = value

    return mutate


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-Infinity", "sNaN", "inf"])
@pytest.mark.parametrize("fast", [True, False])
def test_a_non_finite_money_counter_is_malformed_and_blamed_on_its_own_entry(value: str, fast: bool) -> None:
    entries = make_journal(6, _sales_total(value, 3))  # validly signed: only the counters rules can catch it
    with pytest.raises(MalformedEntryError) as info:
        verify_entries(1, KEY, entries, fast=fast)
    assert info.value.number == 3
    assert info.value.message.startswith("entry #3: counter sales_total")


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-Infinity"])
@pytest.mark.parametrize("fast", [True, False])
def test_a_non_finite_money_counter_in_the_last_entry_is_blamed_on_the_last_entry(value: str, fast: bool) -> None:
    verifier = JournalVerifier(1, KEY, fast=fast)
    *good, last = make_journal(4, _sales_total(value, 4))
    for entry in good:
        verifier.feed(entry)
    with pytest.raises(MalformedEntryError) as info:
        verifier.feed(last)
    assert (info.value.register_id, info.value.number) == (1, 4)
    with pytest.raises(MalformedEntryError) as again:
        verifier.finish(expected_entries=4)
    assert again.value.number == 4


@pytest.mark.parametrize("fast", [True, False])
def test_a_non_finite_money_counter_repeated_by_the_later_entries_is_blamed_on_the_first(fast: bool) -> None:
    entries = make_journal(5, _sales_total("Infinity", 2, 3, 4, 5))
    with pytest.raises(MalformedEntryError) as info:
        verify_entries(1, KEY, entries, fast=fast)
    assert info.value.number == 2


@pytest.mark.parametrize(
    "value", ["1E+9", "91000.0", "91000.001", "091000.00", " 91000.00", "-1.00", "٩١٠٠٠.٠٠", 91000]
)
def test_a_money_counter_not_written_with_two_decimals_is_malformed(value: object) -> None:
    error = first_failure(make_journal(3, _sales_total(value, 2)))
    assert isinstance(error, MalformedEntryError)
    assert error.number == 2
