"""The receipt as a PDF, /r/{urlId}.pdf: A4 and 80 mm roll, three languages, extractable text with the Armenian
business name, the SRC QR code drawn from SRC's text, every kind of document, clear errors."""

from __future__ import annotations

import re
import zlib
from typing import Any

import pytest
import segno
from sqlalchemy import select

from openvcr.receipts.pdf import FONT_DIR
from openvcr.store.schema.documents import documents
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import prepay, refund
from tests.integration.receipts.pdftext import pdf_pages, pdf_text
from tests.integration.receipts.test_receipt_page import TITLES, discounted_sale


def get_pdf(api: Api, url_id: str, **params: str) -> Any:
    return api.client.get(f"/r/{url_id}.pdf", params=params)


def stored_receipt(api: Api, url_id: str) -> dict[str, Any]:
    with api.db.read() as conn:
        return dict(conn.execute(select(documents.c.receipt).where(documents.c.url_id == url_id)).scalar_one())


def flat(text: str) -> str:
    """Words separated by one space (the thin space between thousands is whitespace too)."""
    return " ".join(text.split())


@pytest.mark.parametrize(("lang", "page"), [("hy", "a4"), ("hy", "80mm"), ("ru", "80mm"), ("en", "a4")])
def test_a_sale_pdf_has_the_page_content_as_extractable_text(api: Api, lang: str, page: str) -> None:
    created = discounted_sale(api)
    response = get_pdf(api, created["urlId"], format=page, lang=lang)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    receipt = stored_receipt(api, created["urlId"])
    text = flat(pdf_text(response.content))
    assert "«Ավազարկղ» ՍՊԸ" in text and receipt["taxpayer"] == "«Ավազարկղ» ՍՊԸ"
    assert TITLES[lang] in text
    assert created["fiscal"] and created["fiscal"] in text
    assert str(created["srcReceiptId"]) in text and api.init.crn in text and api.init.tin in text
    assert "Սուրճ" in text and "10%" in text and "1 000.00" in text  # both discounts
    assert "44 000.00" in text and "40 000.00" in text and "6 000.00" in text
    assert "2 000.00" in text  # change
    assert f"/r/{created['urlId']}" in text
    [(width, height)] = pdf_pages(response.content)
    if page == "a4":
        assert (round(width), round(height)) == (210, 297)
    else:
        assert round(width) == 80 and 80 < height < 297  # one piece of roll, as long as the receipt


def test_the_pdf_is_in_the_requested_language_and_falls_back_to_armenian(api: Api) -> None:
    created = discounted_sale(api)
    english = flat(pdf_text(get_pdf(api, created["urlId"], lang="en").content))
    assert "Sales receipt" in english and "Fiscal number" in english and "Verified" in english
    for params in ({}, {"lang": "de"}):
        text = flat(pdf_text(get_pdf(api, created["urlId"], **params).content))
        assert TITLES["hy"] in text and "Sales receipt" not in text


def _streams(pdf: bytes) -> list[bytes]:
    found = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found.append(zlib.decompress(match.group(1)))
        except zlib.error:
            found.append(match.group(1))
    return found


def _dark_runs(text: str) -> int:
    runs = 0
    for row in segno.make(text, error="m", micro=False).matrix_iter(border=0):
        cells = [bool(cell) for cell in row]
        runs += sum(1 for i, dark in enumerate(cells) if dark and (i == 0 or not cells[i - 1]))
    return runs


def test_the_qr_code_is_drawn_from_the_src_qr_text(api: Api) -> None:
    created = discounted_sale(api)
    qr_text = stored_receipt(api, created["urlId"])["qr"]
    assert qr_text.startswith(f"TIN: {api.init.tin}")
    content = b"".join(_streams(get_pdf(api, created["urlId"], format="80mm").content))
    squares = len(re.findall(rb" re f\b", content))
    assert squares == _dark_runs(qr_text) != _dark_runs(qr_text + "x")


def test_refund_prepayment_and_prepayment_refund_pdfs(api: Api) -> None:
    sale = discounted_sale(api)
    sale_refund = api.client.post(
        "/api/v1/sales/refund",
        json={"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": 0, "quantity": "1"}]},
        headers=api.headers,
    )
    assert sale_refund.status_code == 200, sale_refund.text
    text = flat(pdf_text(get_pdf(api, sale_refund.json()["urlId"], lang="en").content))
    assert "Refund receipt" in text and f"Refund of receipt No. {sale['srcReceiptId']}" in text
    assert "22 000.00" in text and "Սուրճ" in text

    created = prepay(api, cash="10000", non_cash="5000")
    text = flat(pdf_text(get_pdf(api, created["urlId"], lang="ru", format="80mm").content))
    assert "Чек предоплаты" in text and "15 000.00" in text and "Безналичные" in text
    refunded = refund(api, created["prepaymentId"]).json()
    text = flat(pdf_text(get_pdf(api, refunded["urlId"]).content))
    assert "Կանխավճարի վերադարձի կտրոն" in text and str(created["receiptId"]) in text


def test_unknown_receipt_is_a_404_and_a_bad_format_a_400(api: Api) -> None:
    missing = get_pdf(api, "no-such-receipt", lang="en")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html") and "Receipt not found" in missing.text
    created = discounted_sale(api)
    for bad in ("letter", "A5", "80"):
        response = get_pdf(api, created["urlId"], format=bad)
        assert response.status_code == 400, bad
        assert response.json()["issues"][0]["path"] == ["query", "format"]
    assert get_pdf(api, created["urlId"], format="80MM").status_code == 200
    assert get_pdf(api, "x" * 200).status_code == 404


def test_the_page_route_still_serves_the_html_page(api: Api) -> None:
    created = discounted_sale(api)
    page = api.client.get(f"/r/{created['urlId']}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_the_font_and_its_licence_ship_inside_the_package() -> None:
    from fontTools.ttLib import TTFont

    assert (FONT_DIR / "LICENSE-DejaVu.txt").read_text(encoding="utf-8").count("Permission is hereby granted") == 2
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        cmap = TTFont(FONT_DIR / name).getBestCmap()
        armenian = [*range(0x0531, 0x0557), *range(0x0561, 0x0588)]
        assert all(code in cmap for code in armenian), name
        assert all(code in cmap for code in range(0x0410, 0x0450)), name  # Cyrillic


def test_a_long_receipt_continues_on_a_second_a4_page_and_makes_a_longer_roll(api: Api) -> None:
    from tests.integration.prepayments.helpers import post_sale, sale_body

    body = sale_body("100")
    body["items"] = [dict(body["items"][0], price=str(100 + i)) for i in range(70)]
    body["amount"] = {"cash": str(sum(100 + i for i in range(70)))}
    response = post_sale(api, body)
    assert response.status_code == 200, response.text
    url_id = response.json()["urlId"]
    a4 = get_pdf(api, url_id, format="a4").content
    assert len(pdf_pages(a4)) >= 2
    text = flat(pdf_text(a4))
    assert all(f"{100 + i}.00" in text for i in range(70)) and response.json()["fiscal"] in text
    [(width, height)] = pdf_pages(get_pdf(api, url_id, format="80mm").content)
    assert round(width) == 80 and height > 400
