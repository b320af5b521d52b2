"""Completing a localized text to hy / ru / en (rules in ``openvcr.core.i18n``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvcr.core.errors import ValidationFailed
from openvcr.core.i18n import localize


@pytest.mark.parametrize("strategy", ["translation", "transliteration"])
def test_missing_languages_are_filled_by_transliteration_under_both_strategies(strategy: str) -> None:
    assert localize({"hy": "Արամ"}, strategy) == {"hy": "Արամ", "ru": "Арам", "en": "Aram"}  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", ["translation", "transliteration"])
def test_given_translations_are_kept_trimmed(strategy: str) -> None:
    value = {"hy": " Սուրճ ", "ru": " Кофе ", "en": "Coffee  "}
    assert localize(value, strategy) == {"hy": "Սուրճ", "ru": "Кофе", "en": "Coffee"}  # type: ignore[arg-type]


def test_only_the_missing_or_blank_language_is_filled() -> None:
    assert localize({"hy": "Երևան", "en": "Erivan", "ru": "  "}, "translation") == {
        "hy": "Երևան",
        "ru": "Ереван",
        "en": "Erivan",
    }


@pytest.mark.parametrize("value", [{}, {"hy": ""}, {"hy": "   "}, {"ru": "Арам", "en": "Aram"}])
def test_missing_or_blank_armenian_is_rejected_at_value_hy(value: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        localize(value, "transliteration")
    assert [issue.path for issue in caught.value.issues] == [("value", "hy")]


def test_an_unknown_language_is_rejected_at_its_key() -> None:
    with pytest.raises(ValidationFailed) as caught:
        localize({"hy": "Արամ", "fr": "Aram"}, "translation")
    assert [issue.path for issue in caught.value.issues] == [("value", "fr")]


def test_an_unknown_strategy_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as caught:
        localize({"hy": "Արամ"}, "machine")  # type: ignore[arg-type]
    assert [issue.path for issue in caught.value.issues] == [("localizationStrategy",)]


def test_the_input_mapping_is_not_modified() -> None:
    value = {"hy": " Արամ "}
    localize(value, "transliteration")
    assert value == {"hy": " Արամ "}


@given(
    hy=st.text(min_size=1).filter(lambda s: s.strip()),
    ru=st.none() | st.text(),
    en=st.none() | st.text(),
    strategy=st.sampled_from(["translation", "transliteration"]),
)
def test_the_result_always_has_all_three_non_blank_languages(
    hy: str, ru: str | None, en: str | None, strategy: str
) -> None:
    value = {"hy": hy} | ({"ru": ru} if ru is not None else {}) | ({"en": en} if en is not None else {})
    result = localize(value, strategy)  # type: ignore[arg-type]
    assert set(result) == {"hy", "ru", "en"}
    assert all(text == text.strip() and text for text in result.values())
    if ru is not None and ru.strip():
        assert result["ru"] == ru.strip()
