"""Localized texts: Armenian → Latin / Cyrillic transliteration and filling of missing languages.

Languages are ``hy`` (Armenian, required), ``ru`` and ``en``.

Rules of :func:`localize`:

- ``hy`` is required: missing or blank → :class:`~openvcr.core.errors.ValidationFailed` at ``["value", "hy"]``.
- A given ``ru`` / ``en`` is kept as given (trimmed). A missing or blank one is filled from ``hy``.
- Both strategies fill by transliteration: ``transliteration`` by definition, and ``translation`` because
  OpenVCR ships no machine translation (nothing leaves the process), so a translation that was not supplied
  falls back to transliterating the Armenian text.
- Languages other than ``hy``, ``ru``, ``en`` are refused (``["value", <key>]``).

Transliteration systems of :func:`transliterate` (Eastern Armenian, reformed orthography):

- **Latin** (``en``): BGN/PCGN 1981 without the apostrophes that mark aspirated consonants
  (թ → t, չ → ch, փ → p, ք → k, ց → ts), as used on road signs and in passports:
  ե → ``ye`` at the start of a word or after a vowel, ``e`` elsewhere; ո → ``vo`` at the start of a word,
  ``o`` elsewhere; ու → ``u``; և → ``yev`` at the start of a word or after a vowel, ``ev`` elsewhere;
  ը → ``y``; յ → ``y``; ժ → ``zh``; խ → ``kh``; ծ → ``ts``; ձ → ``dz``; ղ → ``gh``; ճ → ``ch``; շ → ``sh``;
  ջ → ``j``; հ → ``h``.  Examples: Արամ → Aram, Երևան → Yerevan, Ոսկան → Voskan.
- **Cyrillic** (``ru``): the customary Russian rendering of Armenian names: ե → ``е``; է → ``э`` at the
  start of a word or after a vowel, ``е`` elsewhere; ո → ``во`` at the start of a word, ``о`` elsewhere;
  ու → ``у``; և → ``ев``; ը → ``ы``; յա → ``я``, յու → ``ю``, յ → ``й`` elsewhere; ժ → ``ж``; խ → ``х``;
  հ → ``х``; ծ, ց → ``ц``; ձ → ``дз``; ղ → ``г``; ճ, չ → ``ч``; ջ → ``дж``; շ → ``ш``.
  Examples: Արամ → Арам, Երևան → Ереван, Թումանյան → Туманян.

Common to both:

- Capitalisation follows the source: a capital letter gives a capitalised rendering (Ժ → Zh), a word in
  capitals stays in capitals (ԺԱՆ → ZHAN).
- Armenian punctuation becomes its Latin counterpart (։ → ``.``, ՝ → ``,``, ֊ → ``-``, ՚ → ``'``,
  ՟ → ``.``); the emphasis mark ՛ is dropped; the question and exclamation marks ՞ ՜, written over a vowel
  inside the word, are moved to the end of the word (Ինչպե՞ս → Inchpes?).
- The Armenian ligatures ﬓ ﬔ ﬕ ﬖ ﬗ are expanded, the classical spelling եւ reads as և.
- Every other character (digits, Latin, Cyrillic, ֏, spaces …) is passed through unchanged, so the result
  contains no Armenian letter and transliterating it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from openvcr.core.errors import Issue, ValidationFailed, excerpt

Language = Literal["hy", "ru", "en"]
Strategy = Literal["translation", "transliteration"]
LANGUAGES: Final[tuple[Language, ...]] = ("hy", "ru", "en")
STRATEGIES: Final[tuple[Strategy, ...]] = ("translation", "transliteration")

# Plain one-letter mappings (lower case); context-dependent letters are handled in _render.
_LATIN: Final[dict[str, str]] = {
    "ա": "a", "բ": "b", "գ": "g", "դ": "d", "ե": "e", "զ": "z", "է": "e", "ը": "y", "թ": "t",
    "ժ": "zh", "ի": "i", "լ": "l", "խ": "kh", "ծ": "ts", "կ": "k", "հ": "h", "ձ": "dz", "ղ": "gh",
    "ճ": "ch", "մ": "m", "յ": "y", "ն": "n", "շ": "sh", "ո": "o", "չ": "ch", "պ": "p", "ջ": "j",
    "ռ": "r", "ս": "s", "վ": "v", "տ": "t", "ր": "r", "ց": "ts", "ւ": "v", "փ": "p", "ք": "k",
    "օ": "o", "ֆ": "f", "և": "ev", "ՠ": "a", "ֈ": "y",
}  # fmt: skip
_CYRILLIC: Final[dict[str, str]] = {
    "ա": "а", "բ": "б", "գ": "г", "դ": "д", "ե": "е", "զ": "з", "է": "е", "ը": "ы", "թ": "т",
    "ժ": "ж", "ի": "и", "լ": "л", "խ": "х", "ծ": "ц", "կ": "к", "հ": "х", "ձ": "дз", "ղ": "г",
    "ճ": "ч", "մ": "м", "յ": "й", "ն": "н", "շ": "ш", "ո": "о", "չ": "ч", "պ": "п", "ջ": "дж",
    "ռ": "р", "ս": "с", "վ": "в", "տ": "т", "ր": "р", "ց": "ц", "ւ": "в", "փ": "п", "ք": "к",
    "օ": "о", "ֆ": "ф", "և": "ев", "ՠ": "а", "ֈ": "й",
}  # fmt: skip
_VOWELS: Final[frozenset[str]] = frozenset("աեէըիոօևւ")
_LIGATURES: Final[dict[int, str]] = {
    0xFB13: "մն",
    0xFB14: "մե",
    0xFB15: "մի",
    0xFB16: "վն",
    0xFB17: "մխ",
}
_PUNCTUATION: Final[dict[str, str]] = {
    "։": ".",
    "՝": ",",
    "֊": "-",
    "՚": "'",
    "՟": ".",
    "՛": "",
    "ՙ": "",
}
_WORD_END_MARKS: Final[dict[str, str]] = {"՞": "?", "՜": "!"}


def is_armenian_letter(char: str) -> bool:
    """True for the letters (and modifier letters) of the Armenian script, including its ligatures."""
    code = ord(char)
    return 0x0531 <= code <= 0x0556 or code == 0x0559 or 0x0560 <= code <= 0x0588 or 0xFB13 <= code <= 0xFB17


def _is_letter(char: str) -> bool:
    return char.isalpha() or char in _WORD_END_MARKS or char == "՛"


def transliterate(text: str, target: Literal["ru", "en"]) -> str:
    """Transliterate the Armenian letters of ``text`` into Cyrillic (``ru``) or Latin (``en``).

    See the module docstring for the systems. Non-Armenian characters pass through unchanged.
    """
    if target not in ("ru", "en"):
        raise ValueError(f"unknown transliteration target {target!r}")
    if not any(0x0531 <= ord(c) <= 0x058A or 0xFB13 <= ord(c) <= 0xFB17 for c in text):
        return text
    text = text.translate(_LIGATURES)
    latin = target == "en"
    table = _LATIN if latin else _CYRILLIC
    out: list[str] = []
    pending = ""  # ՞ / ՜ seen inside the current word, emitted where the word ends
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        low = char.lower()
        if low not in table:
            if char in _WORD_END_MARKS:
                pending += _WORD_END_MARKS[char]
                if i + 1 >= n or not _is_letter(text[i + 1]):
                    out.append(pending)
                    pending = ""
            else:
                out.append(_PUNCTUATION.get(char, char))
            i += 1
            continue

        previous = _previous_letter(text, i)
        initial = previous is None
        after_vowel = previous is not None and previous.lower() in _VOWELS
        following = text[i + 1].lower() if i + 1 < n else ""
        width = 1
        if low == "ո" and following == "ւ":
            rendering, width = ("u" if latin else "у"), 2
        elif low == "ո":
            rendering = ("vo" if latin else "во") if initial else table[low]
        elif low == "ե" and following == "ւ":
            # the classical spelling եւ of և
            rendering, width = _render_yev(latin, initial or after_vowel), 2
        elif low == "և":
            rendering = _render_yev(latin, initial or after_vowel)
        elif low == "ե":
            rendering = "ye" if latin and (initial or after_vowel) else table[low]
        elif low == "է" and not latin:
            rendering = "э" if initial or after_vowel else "е"
        elif low == "յ" and not latin and following == "ա":
            rendering, width = "я", 2
        elif low == "յ" and not latin and following == "ո" and text[i + 2 : i + 3].lower() == "ւ":
            rendering, width = "ю", 3
        else:
            rendering = table[low]

        if char != low and rendering:
            rendering = _capitalised(rendering, _all_caps_context(text, i, width))
        out.append(rendering)
        i += width
        if pending and (i >= n or not _is_letter(text[i])):
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return "".join(out)


def _render_yev(latin: bool, iotated: bool) -> str:
    if latin:
        return "yev" if iotated else "ev"
    return "ев"


def _previous_letter(text: str, index: int) -> str | None:
    """The letter before ``index`` within the same word (skipping in-word marks), or None at a word start."""
    j = index - 1
    while j >= 0 and text[j] in ("՞", "՜", "՛"):
        j -= 1
    if j >= 0 and text[j].isalpha():
        return text[j]
    return None


def _all_caps_context(text: str, index: int, width: int) -> bool:
    """True when the capital at ``index`` belongs to a word written in capitals."""
    after = index + width
    if after < len(text) and text[after].isalpha():
        return text[after].isupper()
    if index > 0 and text[index - 1].isalpha():
        return text[index - 1].isupper()
    return False


def _capitalised(rendering: str, all_caps: bool) -> str:
    return rendering.upper() if all_caps else rendering[0].upper() + rendering[1:]


def localize(value: Mapping[str, str], strategy: Strategy) -> dict[str, str]:
    """Complete a localized text to all of ``hy``, ``ru`` and ``en`` (rules in the module docstring)."""
    if strategy not in STRATEGIES:
        raise ValidationFailed.at(
            ["localizationStrategy"],
            "localizationStrategy must be 'translation' or 'transliteration'",
            "invalid_choice",
        )
    issues = [
        Issue(("value", key), f"unknown language {excerpt(key)}; expected hy, ru or en", "unknown_language")
        for key in value
        if key not in LANGUAGES
    ]
    if issues:
        raise ValidationFailed("the localized text has unknown languages", issues)
    hy = (value.get("hy") or "").strip()
    if not hy:
        raise ValidationFailed.at(["value", "hy"], "the Armenian text (hy) is required", "required")
    result: dict[str, str] = {"hy": hy}
    for language in ("ru", "en"):
        given = (value.get(language) or "").strip()
        result[language] = given or transliterate(hy, language)
    return result
