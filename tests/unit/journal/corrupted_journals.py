"""A corpus of journals, each with the verdict a verifier must give: the first broken entry and its rule.

Every journal is a register's 8 documents (sales, a refund, a prepayment and its refund, a training sale).
``COUNTERS_CASES`` break the counters of a validly signed entry (the register's key signed the broken
snapshot, so only the counters rules can catch it); ``ORDER_CASES`` break the journal after signing
(altered content, replaced signature, removed, swapped or repeated entries), which a database cannot hold.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openvcr.core.canonical import canonical_bytes, parse
from openvcr.core.journal import GENESIS_HASH, Counters, CountersDelta, RawEntry, entry_content, entry_hash
from openvcr.core.signing import Signer

Snapshot = Any
Build = Callable[[Signer, int], list[RawEntry]]

DOCUMENTS: tuple[tuple[str, CountersDelta], ...] = (
    ("sale", CountersDelta.sale(Decimal("45500.00"), Decimal("7583.33"))),
    ("sale", CountersDelta.sale(Decimal("1200.00"), Decimal("200.00"))),
    ("sale_refund", CountersDelta.sale_refund(Decimal("22000.00"), Decimal("3666.67"))),
    ("prepayment", CountersDelta.prepayment(Decimal("5000.00"))),
    ("sale", CountersDelta.non_fiscal()),
    ("prepayment_refund", CountersDelta.prepayment_refund(Decimal("1000.00"))),
    ("sale", CountersDelta.sale(Decimal("300.00"))),
    ("sale", CountersDelta.sale(Decimal("100.50"))),
)
TRAINING = 5
"""The number of the training (non-fiscal) sale."""


def snapshots() -> list[Snapshot]:
    """The counters after each document, as the journal writes them."""
    counters = Counters()
    out = []
    for doc_type, delta in DOCUMENTS:
        counters = counters.apply(doc_type, delta)
        out.append(counters.to_json())
    return out


def signed_journal(snapshots: list[Snapshot], signer: Signer, register_id: int) -> list[RawEntry]:
    """The journal of ``DOCUMENTS`` carrying ``snapshots`` as its counters, every entry validly signed."""
    entries: list[RawEntry] = []
    prev = GENESIS_HASH
    for number, ((doc_type, _), snapshot) in enumerate(zip(DOCUMENTS, snapshots, strict=True), start=1):
        content = entry_content(
            register_id=register_id,
            number=number,
            doc_type=doc_type,
            doc_ref=f"{register_id}-{number}",
            body={"total": Decimal("100.00"), "lines": [{"offer": "A-1", "quantity": Decimal("1.000")}]},
            counters=Counters(),
            prev_hash=prev,
            time_ms=1_700_000_000_000 + number,
            key_id=signer.key_id,
        )
        content["counters"] = snapshot
        data = canonical_bytes(content)
        prev = entry_hash(data)
        entries.append(RawEntry(parse(data), data, prev, signer.sign(data)))
    return entries


def counters_edited(edit: Callable[[list[Snapshot]], None]) -> Build:
    def build(signer: Signer, register_id: int) -> list[RawEntry]:
        edited = copy.deepcopy(snapshots())
        edit(edited)
        return signed_journal(edited, signer, register_id)

    return build


def money(number: int, value: object, name: str = "sales_total", *, to_the_end: bool = False) -> Build:
    """Entry ``number`` (and, with ``to_the_end``, every later one) signed with ``name`` set to ``value``."""

    def edit(snaps: list[Snapshot]) -> None:
        for snap in snaps[number - 1 : None if to_the_end else number]:
            snap[name] = value

    return counters_edited(edit)


def field(number: int, name: str, value: object) -> Build:
    return counters_edited(lambda snaps: snaps[number - 1].__setitem__(name, value))


def without(number: int, name: str) -> Build:
    return counters_edited(lambda snaps: snaps[number - 1].pop(name))


def by_type(number: int, doc_type: str, value: object) -> Build:
    return counters_edited(lambda snaps: snaps[number - 1]["by_type"].__setitem__(doc_type, value))


def after_signing(edit: Callable[[list[RawEntry]], object]) -> Build:
    def build(signer: Signer, register_id: int) -> list[RawEntry]:
        entries = signed_journal(snapshots(), signer, register_id)
        edit(entries)
        return entries

    return build


def _alter_body(entries: list[RawEntry]) -> None:
    content = copy.deepcopy(entries[3].content)
    content["body"]["total"] = "1.00"
    entries[3] = entries[3]._replace(content=content, data=canonical_bytes(content))


def _swap(entries: list[RawEntry]) -> None:
    entries[2], entries[3] = entries[3], entries[2]


@dataclass(frozen=True)
class Case:
    name: str
    build: Build
    verdict: tuple[str, int] | None
    """The rule (error code) and the number of the first broken entry; None for a valid journal."""


COUNTERS_CASES: tuple[Case, ...] = (
    Case("valid", counters_edited(lambda snaps: None), None),
    Case("infinity", money(3, "Infinity"), ("malformed_entry", 3)),
    Case("nan", money(3, "NaN"), ("malformed_entry", 3)),
    Case("minus_infinity", money(3, "-Infinity"), ("malformed_entry", 3)),
    Case("signaling_nan", money(3, "sNaN"), ("malformed_entry", 3)),
    Case("infinity_in_the_last_entry", money(8, "Infinity"), ("malformed_entry", 8)),
    Case("infinity_kept_to_the_end", money(3, "Infinity", to_the_end=True), ("malformed_entry", 3)),
    Case("infinity_in_a_vat_counter", money(2, "Infinity", "vat_total"), ("malformed_entry", 2)),
    Case("infinity_in_the_training_entry", money(TRAINING, "Infinity", "vat_total"), ("malformed_entry", 5)),
    Case("exponent", money(3, "1E+6"), ("malformed_entry", 3)),
    Case("three_decimals", money(3, "46700.001"), ("malformed_entry", 3)),
    Case("one_decimal", money(3, "46700.0"), ("malformed_entry", 3)),
    Case("leading_zero", money(3, "046700.00"), ("malformed_entry", 3)),
    Case("negative", money(1, "-1.00"), ("malformed_entry", 1)),
    Case("a_number_not_a_string", money(3, 46700), ("malformed_entry", 3)),
    Case("a_missing_money_counter", without(3, "vat_total"), ("malformed_entry", 3)),
    Case("a_missing_document_count", without(3, "documents"), ("malformed_entry", 3)),
    Case("a_boolean_type_count", by_type(3, "sale_refund", True), ("malformed_entry", 3)),
    Case("counters_not_an_object", counters_edited(lambda snaps: snaps.__setitem__(2, [3])), ("malformed_entry", 3)),
    Case("a_counter_that_goes_down", money(3, "1.00"), ("counters_shrink", 3)),
    Case("a_type_count_that_goes_down", by_type(3, "sale", 1), ("counters_shrink", 3)),
    Case("a_document_count_off_by_one", field(3, "documents", 4), ("counters_mismatch", 3)),
    Case("another_type_counted", by_type(3, "prepayment", 1), ("counters_mismatch", 3)),
    Case("a_training_entry_that_moves_money", money(TRAINING, "99999999.00"), ("counters_mismatch", 5)),
    Case("non_fiscal_jumps_by_two", field(TRAINING, "non_fiscal", 2), ("counters_mismatch", 5)),
)

ORDER_CASES: tuple[Case, ...] = (
    Case("altered_content", after_signing(_alter_body), ("content_altered", 4)),
    Case(
        "replaced_signature",
        after_signing(lambda e: e.__setitem__(1, e[1]._replace(signature=e[2].signature))),
        ("signature_invalid", 2),
    ),
    Case("removed_entry", after_signing(lambda e: e.pop(2)), ("counter_gap", 3)),
    Case("swapped_entries", after_signing(_swap), ("entry_order", 3)),
    Case("repeated_entry", after_signing(lambda e: e.insert(2, e[1])), ("entry_order", 3)),
    Case(
        "counters_broken_after_an_altered_entry",
        lambda signer, rid: after_signing(_alter_body)(signer, rid)[:4] + money(5, "Infinity")(signer, rid)[4:],
        ("content_altered", 4),
    ),
)
