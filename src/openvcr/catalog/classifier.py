"""Classifier search: commodity codes for goods, economic-activity codes for services.

The data ships inside the package (``openvcr/catalog/data/*.json``); nothing is downloaded at run time.

- ``product``: ``commodities.json``, the Harmonized System (HS 2022) on which Armenia's commodity
  nomenclature (ԱՏԳ ԱԱ, the EAEU CN FEA) is built: every chapter (2 digits), the headings (4 digits) and
  selected subheadings (6 digits).
- ``service``: ``activities.json``, NACE Rev. 2 on which Armenia's classifier of economic activities (ՏԳՏԴ)
  is built: every section (A–U) and division (2 digits), and the groups (``NN.N``) and classes (``NN.NN``)
  of the service sections G–U.

Every entry has a title in ``hy``, ``ru`` and ``en`` and may carry search keywords (everyday words and
synonyms in any of the three languages, e.g. ``sneakers`` for heading 6404).

Search rules (:func:`search`):

- A blank query finds nothing. Matching ignores case and diacritics (``ё`` = ``е``, ``և`` = ``եւ``).
- A query that is a code (digits, optionally with dots or spaces; or a section letter for services) lists
  the codes that start with it: the exact code first, then shorter (broader) codes before longer ones.
- Otherwise the query's words are matched against the titles and keywords in all three languages, so a
  query in any language finds the entry; the title is returned in the requested language. Per query word,
  a whole-word match ranks above a word-prefix match (``coff`` → coffee), which ranks above a small typo
  (one edit: ``cofee``, ``кофэ``; or close trigram similarity for longer words) and above a substring
  match. A word that is the first word of a title weighs a little more than one further on; keywords
  weigh a little less than titles. Words like "and", "of", "и", "և" are ignored when the query has others.
- Ranking: more query words matched first, then the higher score, then the more useful level (products:
  heading, subheading, chapter; services: class, group, division, section), then the code.
- The index is built once per classifier, lazily, and cached for the life of the process.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final, Literal

from openvcr.core.errors import ValidationFailed

ClassifierType = Literal["product", "service"]
Language = Literal["hy", "ru", "en"]

_FILES: Final[dict[str, str]] = {"product": "commodities.json", "service": "activities.json"}
_LANGUAGES: Final[tuple[str, ...]] = ("hy", "ru", "en")
MAX_LIMIT: Final[int] = 500

# Match qualities per query word (before the title-position and keyword weights).
_EXACT: Final[float] = 1.0
_PREFIX: Final[float] = 0.8  # the query word starts a title word
_STEM: Final[float] = 0.72  # a title word starts the query word (inflections: սուրճի, coffees)
_TYPO: Final[float] = 0.65  # one edit away
_TRIGRAM: Final[float] = 0.6  # multiplied by the similarity
_SUBSTRING: Final[float] = 0.5
_FIRST_WORD_BONUS: Final[float] = 1.15
_KEYWORD_WEIGHT: Final[float] = 0.9
_WHOLE_TITLE_BONUS: Final[float] = 0.5
_TRIGRAM_THRESHOLD: Final[float] = 0.5

_STOP_WORDS: Final[frozenset[str]] = frozenset(
    {
        # en
        "a", "an", "and", "or", "of", "the", "for", "with", "in", "on", "to", "by", "not", "other",
        # ru (folded: й → и)
        "и", "или", "в", "во", "на", "с", "со", "из", "для", "по", "не", "прочие", "прочая", "прочии",
        # hy (folded: և → եւ)
        "եւ", "կամ", "ու", "այլ", "համար", "բացի",
    }
)  # fmt: skip
_TOKEN = re.compile(r"\w+")
_CODE_QUERY = re.compile(r"[0-9][0-9.\s]*")


@dataclass(frozen=True)
class ClassifierHit:
    """One search result: the code and its title in the requested language."""

    code: str
    title: str


@dataclass(frozen=True)
class _Entry:
    code: str
    code_key: str  # the code without dots, upper case: "5610", "0901", "G"
    rank: int  # level preference, lower is more useful
    titles: dict[str, str]


class _Index:
    """The search structures of one classifier, built once."""

    def __init__(self, entries: list[_Entry], documents: list[list[tuple[str, float]]]) -> None:
        self.entries = entries
        postings: dict[str, dict[int, float]] = {}
        for number, tokens in enumerate(documents):
            for token, weight in tokens:
                slot = postings.setdefault(token, {})
                if slot.get(number, 0.0) < weight:
                    slot[number] = weight
        self.postings: dict[str, tuple[tuple[int, float], ...]] = {
            token: tuple(slot.items()) for token, slot in postings.items()
        }
        self.vocabulary: tuple[str, ...] = tuple(self.postings)
        self.sorted_vocabulary: list[str] = sorted(self.vocabulary)
        # every token in one string, for substring search at C speed; offsets[i] is where token i starts
        self.blob = "\n".join(self.vocabulary)
        self.offsets: list[int] = []
        start = 0
        for token in self.vocabulary:
            self.offsets.append(start)
            start += len(token) + 1
        self.deletes: dict[str, list[str]] = {}
        self.trigrams: dict[str, list[int]] = {}
        for position, token in enumerate(self.vocabulary):
            if len(token) >= 4:
                for variant in _deletions(token):
                    self.deletes.setdefault(variant, []).append(token)
            if len(token) >= 5:
                for gram in _trigrams(token):
                    self.trigrams.setdefault(gram, []).append(position)
        self.whole_titles: dict[str, list[int]] = {}
        for number, entry in enumerate(entries):
            for title in {" ".join(_tokens(t)) for t in entry.titles.values()}:
                self.whole_titles.setdefault(title, []).append(number)


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics (compatibility forms decomposed: և → եւ, ё → е)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def _deletions(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


def _trigrams(token: str) -> set[str]:
    padded = f" {token} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _rank(kind: str, code: str) -> int:
    if kind == "product":
        return {4: 0, 6: 1, 2: 2}.get(len(code), 3)
    if len(code) == 1:
        return 3
    return {5: 0, 4: 1, 2: 2}.get(len(code), 3)


def load_entries(kind: ClassifierType) -> list[dict[str, object]]:
    """The raw entries of a classifier's data file (``code``, ``hy``, ``ru``, ``en``, ``keywords``?)."""
    if kind not in _FILES:
        raise ValidationFailed.at(["type"], "type must be 'product' or 'service'", "invalid_choice")
    text = resources.files("openvcr.catalog").joinpath("data", _FILES[kind]).read_text(encoding="utf-8")
    entries: list[dict[str, object]] = json.loads(text)["entries"]
    return entries


@lru_cache(maxsize=2)
def _index(kind: ClassifierType) -> _Index:
    entries: list[_Entry] = []
    documents: list[list[tuple[str, float]]] = []
    for raw in load_entries(kind):
        code = str(raw["code"])
        titles = {language: str(raw[language]) for language in _LANGUAGES}
        entries.append(_Entry(code, code.replace(".", "").upper(), _rank(kind, code), titles))
        document: list[tuple[str, float]] = []
        for title in titles.values():
            for position, token in enumerate(_tokens(title)):
                document.append((token, _FIRST_WORD_BONUS if position == 0 else 1.0))
        keywords = raw.get("keywords", [])
        if isinstance(keywords, list):
            for keyword in keywords:
                document.extend((token, _KEYWORD_WEIGHT) for token in _tokens(str(keyword)))
        documents.append(document)
    return _Index(entries, documents)


def warm_up() -> None:
    """Build both indexes now (e.g. at start-up) instead of on the first query."""
    _index("product")
    _index("service")


def search(
    query: str,
    type: ClassifierType,  # the wire name of the parameter
    language: Language,
    limit: int = 20,
) -> list[ClassifierHit]:
    """Find classifier entries for ``query``, best first, titles in ``language`` (rules in the docstring)."""
    if language not in _LANGUAGES:
        raise ValidationFailed.at(["language"], "language must be 'hy', 'ru' or 'en'", "invalid_choice")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.at(["limit"], f"limit must be between 1 and {MAX_LIMIT}", "out_of_range")
    index = _index(type)
    text = query.strip()
    if not text:
        return []
    ranked = _by_code(index, text, type) or _by_words(index, text)
    return [ClassifierHit(index.entries[n].code, index.entries[n].titles[language]) for n in ranked[:limit]]


def _by_code(index: _Index, text: str, kind: str) -> list[int]:
    if _CODE_QUERY.fullmatch(text):
        key = re.sub(r"[.\s]", "", text)
    elif kind == "service" and len(text) == 1 and "A" <= text.upper() <= "U":
        key = text.upper()
    else:
        return []
    found = [n for n, entry in enumerate(index.entries) if entry.code_key.startswith(key)]
    found.sort(key=lambda n: (index.entries[n].code_key != key, len(index.entries[n].code_key), n))
    return found


def _by_words(index: _Index, text: str) -> list[int]:
    words = list(dict.fromkeys(_tokens(text)))
    meaningful = [w for w in words if w not in _STOP_WORDS]
    words = meaningful or words
    if not words:
        return []
    matched: dict[int, int] = {}
    scores: dict[int, float] = {}
    for word in words:
        best: dict[int, float] = {}
        for token, quality in _token_matches(index, word):
            for number, weight in index.postings[token]:
                value = quality * weight
                if best.get(number, 0.0) < value:
                    best[number] = value
        for number, value in best.items():
            matched[number] = matched.get(number, 0) + 1
            scores[number] = scores.get(number, 0.0) + value
    for number in index.whole_titles.get(" ".join(_tokens(text)), ()):
        if number in scores:
            scores[number] += _WHOLE_TITLE_BONUS
    entries = index.entries
    return sorted(scores, key=lambda n: (-matched[n], -scores[n], entries[n].rank, entries[n].code_key))


def _token_matches(index: _Index, word: str) -> Iterable[tuple[str, float]]:
    """The vocabulary tokens that match one query word, each with its best match quality.

    Typo tolerance is a fallback: it applies only to a word that matches no title word exactly or as a
    prefix, and trigram similarity only when a single edit finds nothing either.
    """
    qualities: dict[str, float] = {}

    def offer(token: str, quality: float) -> None:
        if qualities.get(token, 0.0) < quality:
            qualities[token] = quality

    if word in index.postings:
        offer(word, _EXACT)
    if len(word) >= 2:
        vocabulary = index.sorted_vocabulary
        position = bisect.bisect_left(vocabulary, word)
        while position < len(vocabulary) and vocabulary[position].startswith(word):
            offer(vocabulary[position], _PREFIX)
            position += 1
    for length in range(max(4, len(word) - 3), len(word)):
        if word[:length] in index.postings:
            offer(word[:length], _STEM)
    if len(word) >= 3:
        blob, offsets = index.blob, index.offsets
        found = blob.find(word)
        while found >= 0:
            token = index.vocabulary[bisect.bisect_right(offsets, found) - 1]
            offer(token, _SUBSTRING)
            found = blob.find(word, found + 1)
    if len(word) >= 4 and not any(q >= _PREFIX for q in qualities.values()):
        typos = 0
        for variant in _deletions(word) | {word}:
            for token in index.deletes.get(variant, ()):
                offer(token, _TYPO)
                typos += 1
            if variant != word and variant in index.postings:
                offer(variant, _TYPO)
                typos += 1
        if not typos and len(word) >= 5:
            _offer_trigram_matches(index, word, offer)
    return qualities.items()


def _offer_trigram_matches(index: _Index, word: str, offer: Callable[[str, float], None]) -> None:
    grams = _trigrams(word)
    shared: dict[int, int] = {}
    for gram in grams:
        for position in index.trigrams.get(gram, ()):
            shared[position] = shared.get(position, 0) + 1
    for position, common in shared.items():
        token = index.vocabulary[position]
        similarity = common / (len(grams) + len(token) - common)
        if similarity >= _TRIGRAM_THRESHOLD:
            offer(token, _TRIGRAM * similarity)
