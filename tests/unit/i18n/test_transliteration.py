"""Armenian → Latin / Cyrillic transliteration (rules in ``openvcr.core.i18n``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvcr.core.i18n import is_armenian_letter, transliterate

ARMENIAN_LETTERS = "".join(chr(c) for c in range(0x0531, 0x0557)) + "".join(chr(c) for c in range(0x0561, 0x0588))
ARMENIAN_BLOCK = "".join(chr(c) for c in range(0x0531, 0x0590)) + "".join(chr(c) for c in range(0xFB13, 0xFB18))


@pytest.mark.parametrize(
    ("armenian", "latin", "cyrillic"),
    [
        ("Արամ", "Aram", "Арам"),
        ("Երևան", "Yerevan", "Ереван"),
        ("Գյումրի", "Gyumri", "Гюмри"),
        ("Սևան", "Sevan", "Севан"),
        ("Թումանյան", "Tumanyan", "Туманян"),
        ("Հայաստան", "Hayastan", "Хаястан"),
        ("Ժիրայր", "Zhirayr", "Жирайр"),
        ("Ծաղկաձոր", "Tsaghkadzor", "Цагкадзор"),
        ("Ջերմուկ", "Jermuk", "Джермук"),
        ("Սուրճ", "Surch", "Сурч"),
    ],
)
def test_words_are_transliterated_by_the_documented_systems(armenian: str, latin: str, cyrillic: str) -> None:
    assert transliterate(armenian, "en") == latin
    assert transliterate(armenian, "ru") == cyrillic


def test_ye_is_iotated_at_the_start_of_a_word_and_after_a_vowel_only() -> None:
    assert transliterate("Երեք", "en") == "Yerek"
    assert transliterate("Գայանե", "en") == "Gayane"
    assert transliterate("Աերոֆլոտ", "en") == "Ayeroflot"
    assert transliterate("Գեղարդ", "en") == "Geghard"
    assert transliterate("Երեք", "ru") == "Ерек"


def test_vo_is_written_at_the_start_of_a_word_and_o_inside_it() -> None:
    assert transliterate("Ոսկան", "en") == "Voskan"
    assert transliterate("Ոսկան", "ru") == "Воскан"
    assert transliterate("Գոհար", "en") == "Gohar"
    assert transliterate("որդի", "ru") == "ворди"


def test_digraph_u_is_one_vowel_even_at_the_start_of_a_word() -> None:
    assert transliterate("Ուրախ", "en") == "Urakh"
    assert transliterate("Ուրախ", "ru") == "Урах"
    assert transliterate("Արթուր", "en") == "Artur"
    assert transliterate("Յուրա", "ru") == "Юра"


def test_yev_ligature_and_its_classical_spelling_read_the_same() -> None:
    assert transliterate("և", "en") == "yev"
    assert transliterate("Երևան", "en") == transliterate("Երեւան", "en") == "Yerevan"
    assert transliterate("Երևան", "ru") == transliterate("Երեւան", "ru") == "Ереван"


def test_e_is_e_in_latin_and_e_or_e_oborotnoye_in_cyrillic() -> None:
    assert transliterate("Էջմիածին", "en") == "Ejmiatsin"
    assert transliterate("Էջմիածին", "ru") == "Эджмиацин"


def test_words_in_capitals_stay_in_capitals() -> None:
    assert transliterate("ԵՐԵՎԱՆ", "en") == "YEREVAN"
    assert transliterate("ԺԱՆ", "en") == "ZHAN"
    assert transliterate("ՈՒՐԱԽ", "ru") == "УРАХ"
    assert transliterate("Ժան", "en") == "Zhan"


def test_armenian_punctuation_becomes_latin_punctuation() -> None:
    assert transliterate("Բարև, Արամ։", "en") == "Barev, Aram."
    assert transliterate("Ինչպե՞ս ես", "en") == "Inchpes? yes"
    assert transliterate("Ափսո՜ս", "en") == "Apsos!"
    assert transliterate("Երևան֊Գյումրի", "en") == "Yerevan-Gyumri"


def test_ligatures_are_expanded() -> None:
    assert transliterate("\ufb13", "en") == "mn"


def test_non_armenian_text_passes_through_unchanged() -> None:
    text = "Coca-Cola 0.5 л — 500 ֏ (Ünïcödé)"
    assert transliterate(text, "en") == text
    assert transliterate(text, "ru") == text
    assert transliterate("Սուրճ Jacobs 100 գ", "en") == "Surch Jacobs 100 g"


def test_an_unknown_target_is_refused() -> None:
    with pytest.raises(ValueError, match="target"):
        transliterate("Արամ", "fr")  # type: ignore[arg-type]


@given(st.text(alphabet=st.sampled_from(ARMENIAN_BLOCK) | st.characters(), max_size=60))
def test_output_contains_no_armenian_letter(text: str) -> None:
    for target in ("en", "ru"):
        out = transliterate(text, target)
        assert not any(is_armenian_letter(c) for c in out)


@given(st.text(alphabet=st.sampled_from(ARMENIAN_BLOCK) | st.characters(), max_size=60))
def test_transliterating_twice_changes_nothing(text: str) -> None:
    for target in ("en", "ru"):
        once = transliterate(text, target)
        assert transliterate(once, target) == once


@given(st.text(st.characters(exclude_categories=["Cs"]).filter(lambda c: not 0x0531 <= ord(c) <= 0x058A)))
def test_text_without_armenian_is_returned_unchanged(text: str) -> None:
    assert transliterate(text, "en") == text
    assert transliterate(text, "ru") == text


@given(st.text(alphabet=st.sampled_from(ARMENIAN_LETTERS), min_size=1, max_size=20))
def test_every_armenian_word_gives_a_non_empty_rendering(word: str) -> None:
    assert transliterate(word, "en")
    assert transliterate(word, "ru")


@given(st.lists(st.text(alphabet=st.sampled_from(ARMENIAN_LETTERS), min_size=1, max_size=8), min_size=1))
def test_words_are_transliterated_independently(words: list[str]) -> None:
    joined = transliterate(" ".join(words), "en")
    assert joined == " ".join(transliterate(w, "en") for w in words)
