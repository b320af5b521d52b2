"""The receipt page's language: ``?lang=`` or the link's locale first, else ``Accept-Language``, else Armenian."""

from __future__ import annotations

import pytest

from openvcr.receipts.i18n import STRINGS, language_of, negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "hy"),
        ("", "hy"),
        ("ru", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, de;q=0.9, ru;q=0.5, en;q=0.4", "ru"),
        ("en;q=0.3, ru;q=0.8", "ru"),
        ("ru;q=0.5, en;q=0.5", "ru"),  # equal quality: the first listed
        ("en;q=0, hy;q=0.1", "hy"),  # q=0 refuses
        ("*", "hy"),
        ("EN", "en"),
        ("en;q=2", "hy"),  # out of range: ignored
        ("en;q=x", "hy"),
        ("en;q=nan, ru;q=0.1", "ru"),
        ("hy-AM", "hy"),
        ("x" * 2000, "hy"),
    ],
)
def test_negotiate_takes_the_preferred_known_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_a_requested_language_wins_and_an_unknown_one_is_armenian() -> None:
    assert language_of("ru", "en") == "ru"
    assert language_of(" EN ", None) == "en"
    assert language_of("de", "ru") == "hy"
    assert language_of(None, "ru") == "ru"
    assert language_of("", "en") == "en"


def test_every_language_has_every_text() -> None:
    keys = set(STRINGS["hy"])
    assert all(set(STRINGS[lang]) == keys for lang in ("ru", "en"))
    assert STRINGS["en"]["watermark"] == "TEST — NOT A FISCAL RECEIPT"
