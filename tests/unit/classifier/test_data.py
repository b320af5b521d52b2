"""The shipped classifier data: complete, consistent, in three languages."""

from __future__ import annotations

import re

import pytest

from openvcr.catalog.classifier import load_entries

ARMENIAN = re.compile("[\u0531-\u058f]")
CYRILLIC = re.compile("[\u0400-\u04ff]")


@pytest.mark.parametrize("kind", ["product", "service"])
def test_codes_are_unique_and_every_entry_has_three_titles_in_the_right_script(kind: str) -> None:
    entries = load_entries(kind)  # type: ignore[arg-type]
    found = [str(e["code"]) for e in entries]
    assert len(found) == len(set(found))
    for entry in entries:
        hy, ru, en = (str(entry[language]).strip() for language in ("hy", "ru", "en"))
        assert hy and ru and en, entry["code"]
        assert ARMENIAN.search(hy) and not CYRILLIC.search(hy), entry["code"]
        assert CYRILLIC.search(ru) and not ARMENIAN.search(ru), entry["code"]
        assert not ARMENIAN.search(en) and not CYRILLIC.search(en), entry["code"]
        assert all(len(title) <= 180 for title in (hy, ru, en)), entry["code"]
        keywords = entry.get("keywords", [])
        assert isinstance(keywords, list) and all(isinstance(k, str) and k.strip() for k in keywords)


def test_commodities_have_all_97_chapters_and_headings_in_every_chapter() -> None:
    entries = {str(e["code"]) for e in load_entries("product")}
    assert all(re.fullmatch(r"\d{2}|\d{4}|\d{6}", code) for code in entries)
    chapters = {f"{n:02d}" for n in range(1, 98)}
    assert {code for code in entries if len(code) == 2} == chapters
    headings = {code for code in entries if len(code) == 4}
    assert len(headings) >= 450
    assert {code[:2] for code in headings} == chapters - {"77"}  # chapter 77 is reserved in the HS
    assert all(code[:4] in headings for code in entries if len(code) == 6)


@pytest.mark.parametrize(
    ("code", "word"),
    [("0901", "Coffee"), ("0902", "Tea"), ("2203", "Beer"), ("3004", "Medicaments"), ("4901", "books"),
     ("6403", "Footwear"), ("8471", "Computers"), ("9403", "furniture"), ("9503", "Toys"), ("2710", "petrol")],
)  # fmt: skip
def test_what_shops_sell_is_there(code: str, word: str) -> None:
    titles = {str(e["code"]): str(e["en"]) for e in load_entries("product")}
    assert word in titles[code]


def test_activities_have_every_section_and_division_and_the_service_classes() -> None:
    entries = {str(e["code"]) for e in load_entries("service")}
    assert {code for code in entries if len(code) == 1} == set("ABCDEFGHIJKLMNOPQRSTU")
    divisions = {code for code in entries if len(code) == 2}
    assert len(divisions) == 88
    groups = {code for code in entries if len(code) == 4}
    classes = {code for code in entries if len(code) == 5}
    assert all(group[:2] in divisions for group in groups)
    assert all(cls[:4] in groups for cls in classes)
    service_divisions = {d for d in divisions if int(d) >= 45}  # sections G–U
    assert service_divisions <= {group[:2] for group in groups}
    assert {"47.11", "56.10", "62.01", "96.02", "47.73", "49.32"} <= classes
