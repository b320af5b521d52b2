"""Classifier search: ranking, languages, codes, typos (rules in ``openvcr.catalog.classifier``)."""

from __future__ import annotations

import pytest

from openvcr.catalog.classifier import ClassifierHit, search
from openvcr.core.errors import ValidationFailed


def codes(query: str, kind: str, language: str = "en", limit: int = 20) -> list[str]:
    return [hit.code for hit in search(query, kind, language, limit)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "language"), [("coffee", "en"), ("սուրճ", "hy"), ("кофе", "ru")])
def test_coffee_in_any_language_ranks_heading_0901_first(query: str, language: str) -> None:
    assert codes(query, "product", language)[0] == "0901"


def test_the_title_comes_in_the_requested_language_whatever_the_query_language() -> None:
    assert search("coffee", "product", "hy")[0] == ClassifierHit("0901", search("սուրճ", "product", "hy")[0].title)
    assert search("coffee", "product", "hy")[0].title.startswith("Սուրճ")
    assert search("սուրճ", "product", "ru")[0].title.startswith("Кофе")
    assert search("кофе", "product", "en")[0].title.startswith("Coffee")


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_a_blank_query_finds_nothing(query: str) -> None:
    assert search(query, "product", "en") == []
    assert search(query, "service", "en") == []


def test_case_and_diacritics_are_ignored() -> None:
    assert codes("COFFEE", "product")[0] == "0901"
    assert codes("ՍՈՒՐՃ", "product", "hy")[0] == "0901"
    assert codes("MATÉ", "product")[0] == codes("mate", "product")[0] == "0903"
    assert codes("ёлка", "product", "ru")[0] == codes("елка", "product", "ru")[0] == "9505"


@pytest.mark.parametrize(
    ("typo", "code"), [("cofee", "0901"), ("coffe", "0901"), ("кофэ", "0901"), ("shampooo", "3305")]
)
def test_small_typos_still_find_the_entry(typo: str, code: str) -> None:
    assert code in codes(typo, "product")[:3]


def test_a_typo_in_a_long_word_is_found_by_trigram_similarity() -> None:
    assert "8415" in codes("conditoining", "product")[:3]


def test_a_prefix_finds_the_whole_word() -> None:
    assert codes("coff", "product")[0] == "0901"
    assert codes("ресторан", "service", "ru")[0] == "56.10"


def test_a_whole_word_ranks_above_a_word_that_merely_contains_it() -> None:
    found = codes("tea", "product")
    assert found[0] == "0902"
    assert found.index("0902") < found.index("2101")


def test_more_matched_words_rank_higher() -> None:
    assert codes("green tea", "product")[0] == "090210"
    assert codes("phone repair", "service")[0] == "95.12"


def test_keywords_find_everyday_words() -> None:
    assert codes("sneakers", "product")[0] == "6404"
    assert codes("кроссовки", "product", "ru")[0] == "6404"
    assert codes("pharmacy", "service")[0] == "47.73"
    assert codes("վարսավիր", "service", "hy")[0] == "96.02"


@pytest.mark.parametrize(("query", "first"), [("0901", "0901"), ("09", "09"), ("0901 21", "090121"), ("8517", "8517")])
def test_a_code_query_lists_codes_starting_with_it_exact_first(query: str, first: str) -> None:
    found = codes(query, "product")
    assert found[0] == first
    assert all(code.startswith(first[:2]) for code in found)


def test_a_heading_code_query_lists_its_subheadings_after_it() -> None:
    assert codes("0901", "product") == ["0901", "090111", "090112", "090121", "090122", "090190"]


def test_service_codes_match_with_or_without_dots() -> None:
    assert codes("56.10", "service")[0] == "56.10"
    assert codes("5610", "service")[0] == "56.10"
    assert codes("56.1", "service")[:2] == ["56.1", "56.10"]
    assert codes("56", "service")[0] == "56"


def test_a_section_letter_finds_the_section() -> None:
    assert codes("g", "service") == ["G"]


def test_service_classes_rank_above_their_group_with_the_same_title() -> None:
    assert codes("restaurants", "service")[:2] == ["56.10", "56.1"]


def test_the_limit_caps_the_number_of_hits() -> None:
    assert len(codes("wholesale", "service", limit=5)) == 5
    assert len(codes("wholesale", "service", limit=50)) > 20


def test_nothing_matching_gives_an_empty_list() -> None:
    assert search("zzzzqqqq", "product", "en") == []
    assert search("restaurant", "product", "en") == []


def test_an_unknown_type_language_or_limit_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as caught:
        search("coffee", "goods", "en")  # type: ignore[arg-type]
    assert caught.value.issues[0].path == ("type",)
    with pytest.raises(ValidationFailed) as caught:
        search("coffee", "product", "fr")  # type: ignore[arg-type]
    assert caught.value.issues[0].path == ("language",)
    with pytest.raises(ValidationFailed) as caught:
        search("coffee", "product", "en", limit=0)
    assert caught.value.issues[0].path == ("limit",)


def test_hits_are_immutable() -> None:
    hit = search("coffee", "product", "en")[0]
    with pytest.raises(AttributeError):
        hit.code = "0000"  # type: ignore[misc]
