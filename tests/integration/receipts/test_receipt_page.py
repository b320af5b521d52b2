"""The public receipt page /r/{urlId}: every kind of document, three languages, the SRC QR code, and the
journal verification status (including tampered entries)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import segno
from sqlalchemy import select, update

from openvcr.store.schema.documents import documents
from openvcr.store.schema.journal import journal_entries
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import post_sale, prepay, refund, sale_body

TITLES = {"hy": "Վաճառքի կտրոն", "ru": "Кассовый чек", "en": "Sales receipt"}
VERIFIED = {"hy": "Ստուգված է", "ru": "Проверено", "en": "Verified"}


def discounted_sale(api: Api) -> dict[str, Any]:
    body = sale_body("25000", quantity="2")
    body["items"][0]["discounts"] = {
        "base": {"type": "percent", "value": "10"},
        "additional": {"type": "total", "value": "1000"},
    }
    body["amount"] = {"nonCash": "40000", "cash": "6000"}
    response = post_sale(api, body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def page(api: Api, url_id: str, lang: str | None = None) -> Any:
    return api.client.get(f"/r/{url_id}", params={} if lang is None else {"lang": lang})


def stored_receipt(api: Api, url_id: str) -> dict[str, Any]:
    with api.db.read() as conn:
        return dict(conn.execute(select(documents.c.receipt).where(documents.c.url_id == url_id)).scalar_one())


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found is not None, element_id
    return found.group(1).strip()


def verification(html: str) -> str:
    found = re.search(r'data-verified="(true|false)"', html)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("lang", ["hy", "ru", "en"])
def test_sale_receipt_page_shows_everything_in_each_language(api: Api, lang: str) -> None:
    created = discounted_sale(api)
    response = page(api, created["urlId"], lang)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    receipt = stored_receipt(api, created["urlId"])
    assert f'<html lang="{lang}">' in html and TITLES[lang] in html
    assert text_of(html, "taxpayer") == receipt["taxpayer"] == "«Ավազարկղ» ՍՊԸ"
    assert text_of(html, "address") == receipt["address"]
    assert text_of(html, "tin") == api.init.tin and text_of(html, "crn") == api.init.crn
    assert text_of(html, "sn") == api.init.sn
    assert text_of(html, "receipt-id") == str(created["srcReceiptId"])
    assert text_of(html, "fiscal") == created["fiscal"]
    yerevan = datetime.fromtimestamp(int(receipt["time"]) / 1000, tz=ZoneInfo("Asia/Yerevan"))
    assert text_of(html, "time") == yerevan.strftime("%Y-%m-%d %H:%M:%S")
    assert "Սուրճ" in html and "10%" in html and "1\u202f000.00" in html  # both discounts
    assert text_of(html, "total") == "44\u202f000.00"
    assert "40\u202f000.00" in html and "6\u202f000.00" in html and text_of(html, "change") == "2\u202f000.00"
    assert verification(html) == "true" and VERIFIED[lang] in html
    assert "<script" not in html and "http" not in html.split("</head>")[0].replace("http-equiv", "")


def test_default_language_is_armenian_and_unknown_falls_back(api: Api) -> None:
    created = discounted_sale(api)
    for lang in (None, "de"):
        html = page(api, created["urlId"], lang).text
        assert '<html lang="hy">' in html and TITLES["hy"] in html


def test_the_qr_code_is_the_src_qr_text_as_inline_svg(api: Api) -> None:
    created = discounted_sale(api)
    html = page(api, created["urlId"]).text
    qr_text = stored_receipt(api, created["urlId"])["qr"]
    assert qr_text.startswith(f"TIN: {api.init.tin}, CRN: {api.init.crn}")
    svg = re.search(r'<div class="qr"[^>]*>(<svg.*?</svg>)', html, re.S)
    assert svg is not None
    expected = segno.make(qr_text, error="m", micro=False).svg_inline(scale=4, border=2, lineclass=None)
    expected_path = re.search(r' d="([^"]+)"', expected)
    assert expected_path is not None and f'd="{expected_path.group(1)}"' in svg.group(1)


def test_refund_prepayment_and_prepayment_refund_pages(api: Api) -> None:
    sale = discounted_sale(api)
    sale_refund = api.client.post(
        "/api/v1/sales/refund",
        json={"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": 0, "quantity": "1"}]},
        headers=api.headers,
    )
    assert sale_refund.status_code == 200, sale_refund.text
    html = page(api, sale_refund.json()["urlId"], "en").text
    assert "Refund receipt" in html and text_of(html, "refund-of") == str(sale["srcReceiptId"])
    assert text_of(html, "total") == "22\u202f000.00" and "Սուրճ" in html
    assert verification(html) == "true"

    created = prepay(api, cash="10000", non_cash="5000")
    html = page(api, created["urlId"], "ru").text
    assert "Чек предоплаты" in html and text_of(html, "total") == "15\u202f000.00"
    assert "Наличные" in html and "Безналичные" in html and 'id="lines"' not in html
    assert text_of(html, "receipt-id") == str(created["receiptId"]) and verification(html) == "true"

    refunded = refund(api, created["prepaymentId"]).json()
    html = page(api, refunded["urlId"], "hy").text
    assert "Կանխավճարի վերադարձի կտրոն" in html and text_of(html, "total") == "15\u202f000.00"
    assert text_of(html, "refund-of") == str(created["receiptId"]) and verification(html) == "true"


def test_unknown_url_is_a_404_html_page_without_a_key(api: Api) -> None:
    response = api.client.get("/r/no-such-receipt?lang=en")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html") and "Receipt not found" in response.text


def _tamper(api: Api, doc_type: str, **values: Any) -> None:
    with api.db.write() as conn:
        conn.execute(update(journal_entries).where(journal_entries.c.doc_type == doc_type).values(**values))


def _entry(api: Api, doc_type: str) -> Any:
    with api.db.read() as conn:
        return conn.execute(select(journal_entries).where(journal_entries.c.doc_type == doc_type)).one()


def test_an_altered_journal_entry_shows_not_verified(api: Api) -> None:
    created = discounted_sale(api)
    entry = _entry(api, "sale")
    altered = bytes(entry.content).replace(b'"total":"44000.00"', b'"total":"4400.00"', 1)
    assert altered != bytes(entry.content)
    _tamper(api, "sale", content=altered)
    html = page(api, created["urlId"], "en").text
    assert verification(html) == "false" and "NOT VERIFIED" in html and "content was altered" in html


def test_an_entry_rehashed_after_tampering_fails_on_its_signature(api: Api) -> None:
    import hashlib

    created = discounted_sale(api)
    entry = _entry(api, "sale")
    altered = bytes(entry.content).replace(b'"total":"44000.00"', b'"total":"4400.00"', 1)
    _tamper(api, "sale", content=altered, hash=hashlib.sha256(altered).hexdigest())
    html = page(api, created["urlId"], "en").text
    assert verification(html) == "false" and "signature does not verify" in html


def test_a_broken_link_to_the_previous_entry_shows_not_verified(api: Api) -> None:
    prepay(api, cash="100")
    created = discounted_sale(api)
    assert verification(page(api, created["urlId"]).text) == "true"
    _tamper(api, "prepayment", hash="f" * 64)  # the sale's prev_hash no longer names its predecessor
    html = page(api, created["urlId"], "ru").text
    assert verification(html) == "false" and "цепочка журнала нарушена" in html


def test_a_document_missing_from_the_journal_shows_not_verified(api: Api) -> None:
    created = prepay(api, cash="100")
    with api.db.write() as conn:
        conn.execute(update(journal_entries).where(journal_entries.c.doc_type == "prepayment").values(doc_ref="0"))
    html = page(api, created["urlId"], "en").text
    assert verification(html) == "false" and "not in the journal" in html
    with api.db.read() as conn:
        assert conn.execute(select(documents.c.state)).scalar_one() == "completed"
