"""What the receipt page shows beyond SRC's receipt: VAT per tax regime, the cashier, the buyer's TIN, a
converted sale's currency and CBA rate, the sandbox watermark, the links between sales, prepayments and their
refunds, the language (``lang``, ``Accept-Language``) and the ``/{locale}/r/{crn}/{urlId|receipt number}``
address."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update

from openvcr.sales.rates import RateRow, store_rates, yerevan_today
from openvcr.store.db import now_ms
from openvcr.store.schema.foundation import registers
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import post_sale, prepay, refund, sale_body
from tests.integration.receipts.test_receipt_page import page, text_of

NNBSP = "\u202f"
WATERMARK = {"hy": "ԹԵՍՏ — ՖԻՍԿԱԼ ԿՏՐՈՆ ՉԷ", "ru": "ТЕСТ — НЕ ФИСКАЛЬНЫЙ ЧЕК", "en": "TEST — NOT A FISCAL RECEIPT"}
CASHIER = {"hy": "Գանձապահ 1", "ru": "Кассир 1", "en": "Cashier 1"}
TITLES = {"hy": "Վաճառքի կտրոն", "ru": "Кассовый чек", "en": "Sales receipt"}


def item(external_id: str, department: int, price: str, quantity: str = "1") -> dict[str, Any]:
    return {
        "offer": {
            "title": {"type": "localized", "content": {"hy": f"Ապրանք {external_id}", "en": f"Goods {external_id}"}},
            "type": "product",
            "classifierCode": "0901",
            "defaultMeasureUnit": "pc",
            "defaultDepartment": {"id": department},
            "externalId": external_id,
        },
        "department": {"id": department},
        "quantity": quantity,
        "price": price,
        "unit": "pc",
    }


def multi_regime_sale(api: Api, **buyer: Any) -> dict[str, Any]:
    """12000 under VAT (incl. 2000.40), 3000 VAT exempt, 5000 under turnover tax; 20000 in all."""
    body = {
        "cashier": {"id": 1},
        "items": [item("VAT", 1, "6000", "2"), item("EXEMPT", 2, "3000"), item("TURNOVER", 3, "5000")],
        "amount": {"cash": "20000"},
        "buyer": buyer or {"type": "individual"},
    }
    response = post_sale(api, body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def dd(html: str, selector: str) -> list[str]:
    """The texts of the elements whose opening tag contains ``selector`` (e.g. ``class="tax"``)."""
    return [m.strip() for m in re.findall(rf"<[^>]*{selector}[^>]*>(.*?)</", html, re.S)]


def test_vat_per_tax_regime_and_without_vat_lines(api: Api) -> None:
    created = multi_regime_sale(api)
    html = page(api, created["urlId"], "en").text
    assert text_of(html, "total") == f"20{NNBSP}000.00"
    assert text_of(html, "vat") == f"2{NNBSP}000.40"
    taxes = re.findall(r'<dt class="tax">(.*?)</dt><dd class="tax" data-regime="(\w+)"[^>]*>(.*?)</dd>', html)
    assert taxes == [
        ("incl. VAT 20%", "vat", f"2{NNBSP}000.40"),
        ("Without VAT (VAT exempt)", "vat_exempt", f"3{NNBSP}000.00"),
        ("Without VAT (turnover tax)", "turnover_tax", f"5{NNBSP}000.00"),
    ]
    assert "micro_enterprise" not in html  # no line of that regime, no line for it
    html = page(api, created["urlId"], "hy").text
    assert "այդ թվում ԱԱՀ 20%" in html and "Առանց ԱԱՀ (շրջանառության հարկ)" in html


def test_a_sale_without_vat_lines_shows_no_vat(api: Api) -> None:
    body = {"cashier": {"id": 1}, "items": [item("T", 3, "500")], "amount": {"cash": "500"}}
    created = post_sale(api, body).json()
    html = page(api, created["urlId"], "ru").text
    assert 'id="vat"' not in html and "НДС 20%" not in html and "Без НДС (налог с оборота)" in html


def test_cashier_in_the_page_language_and_buyer_tin_only_when_given(api: Api) -> None:
    with_tin = multi_regime_sale(api, type="business_entity", tin="01234567")
    without = multi_regime_sale(api)
    for lang in ("hy", "ru", "en"):
        html = page(api, with_tin["urlId"], lang).text
        assert text_of(html, "cashier") == f"{CASHIER[lang]} (№ 1)"
        assert text_of(html, "buyer-tin") == "01234567"
        assert 'id="buyer-tin"' not in page(api, without["urlId"], lang).text
    prepaid = prepay(api, cash="1000", buyer={"type": "business_entity", "tin": "07654321"})
    html = page(api, prepaid["urlId"], "en").text
    assert text_of(html, "buyer-tin") == "07654321" and text_of(html, "cashier") == "Cashier 1 (№ 1)"
    assert 'id="vat"' not in html and 'class="tax"' not in html  # a prepayment has no lines, no VAT


def test_discounts_are_shown_per_line_on_the_sale_and_its_refund(api: Api) -> None:
    body = sale_body("25000", quantity="2")
    body["items"][0]["discounts"] = {"base": {"type": "price", "value": "500"}}
    body["amount"] = {"cash": "49000"}
    sale = post_sale(api, body).json()
    html = page(api, sale["urlId"], "en").text
    assert dd(html, 'class="note discount"') == ["Discount: 500.00 per unit"]
    assert 'class="note additional-discount"' not in html
    refunded = api.client.post(
        "/api/v1/sales/refund", json={"cashier": {"id": 1}, "saleId": sale["saleId"]}, headers=api.headers
    ).json()
    assert dd(page(api, refunded["urlId"], "en").text, 'class="note discount"') == ["Discount: 500.00 per unit"]


def test_a_converted_sale_shows_its_currency_rate_and_foreign_prices(api: Api) -> None:
    with api.db.write() as conn:
        store_rates(conn, [RateRow("USD", yerevan_today() - timedelta(days=1), 1, Decimal("387.5"))])
    body = sale_body("10", quantity="2")
    body["items"][0]["currency"] = "USD"
    body["amount"] = {"nonCash": "7750"}
    sale = post_sale(api, body)
    assert sale.status_code == 200, sale.text
    for lang, label in (("hy", "ՀՀ ԿԲ փոխարժեք"), ("ru", "Курс ЦБ РА"), ("en", "CBA exchange rate")):
        html = page(api, sale.json()["urlId"], lang).text
        assert text_of(html, "currency") == "USD" and text_of(html, "rate") == "1 USD = 387.50 AMD"
        assert label in html and dd(html, 'class="note foreign-price"') == ["10.00 USD"]
        assert text_of(html, "total") == f"7{NNBSP}750.00"
    refunded = api.client.post(
        "/api/v1/sales/refund", json={"cashier": {"id": 1}, "saleId": sale.json()["saleId"]}, headers=api.headers
    ).json()
    html = page(api, refunded["urlId"], "en").text
    assert text_of(html, "rate") == "1 USD = 387.50 AMD"
    amd = multi_regime_sale(api)
    html = page(api, amd["urlId"], "en").text
    assert 'id="currency"' not in html and 'id="rate"' not in html and "foreign-price" not in html


def test_every_sandbox_receipt_has_the_watermark_in_the_page_language_and_production_none(api: Api) -> None:
    sale = multi_regime_sale(api)
    prepaid = prepay(api, cash="500")
    for lang in ("hy", "ru", "en"):
        for url_id in (sale["urlId"], prepaid["urlId"]):
            html = page(api, url_id, lang).text
            assert text_of(html, "watermark") == WATERMARK[lang]
            assert f'data-watermark="{WATERMARK[lang]}"' in html and "<title>" + WATERMARK[lang] in html
            assert [w for other, w in WATERMARK.items() if other != lang and w in html] == []
    with api.db.write() as conn:
        conn.execute(update(registers).values(mode="production"))
    html = page(api, sale["urlId"], "en").text
    assert TITLES["en"] in html and 'id="watermark"' not in html and 'data-watermark="' not in html
    assert all(w not in html for w in WATERMARK.values())


def test_refunds_link_to_their_sale_and_the_sale_lists_its_refunds(api: Api) -> None:
    sale = multi_regime_sale(api)
    assert 'id="refunds"' not in page(api, sale["urlId"], "en").text
    refunds = []
    for src_id in (0, 2):
        response = api.client.post(
            "/api/v1/sales/refund",
            json={"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": src_id, "quantity": "1"}]},
            headers=api.headers,
        )
        assert response.status_code == 200, response.text
        refunds.append(response.json())
    html = page(api, sale["urlId"], "ru").text
    links = re.findall(r'<a class="refund" href="([^"]+)">Чек № (\d+)</a> — ([^<]+)</li>', html)
    assert links == [
        (f"{refunds[0]['urlId']}?lang=ru", str(refunds[0]["receiptId"]), f"6{NNBSP}000.00"),
        (f"{refunds[1]['urlId']}?lang=ru", str(refunds[1]["receiptId"]), f"5{NNBSP}000.00"),
    ]
    html = page(api, refunds[1]["urlId"], "en").text
    assert re.search(rf'<a id="refund-of" href="{sale["urlId"]}\?lang=en">{sale["srcReceiptId"]}</a>', html)
    assert dd(html, 'dd class="tax"') == [f"5{NNBSP}000.00"]  # the refund's own regimes only

    prepaid = prepay(api, cash="700")
    assert 'id="refunds"' not in page(api, prepaid["urlId"]).text
    back = refund(api, prepaid["prepaymentId"]).json()
    html = page(api, prepaid["urlId"], "en").text
    assert re.findall(r'<a class="refund" href="([^"]+)">', html) == [f"{back['urlId']}?lang=en"]
    html = page(api, back["urlId"], "en").text
    assert re.search(rf'<a id="refund-of" href="{prepaid["urlId"]}\?lang=en">{prepaid["receiptId"]}</a>', html)


def lang_of(html: str) -> str:
    found = re.search(r'<html lang="(\w+)">', html)
    assert found is not None
    return found.group(1)


def test_accept_language_is_the_default_and_lang_wins(api: Api) -> None:
    url_id = multi_regime_sale(api)["urlId"]

    def get(lang: str | None, accept: str | None) -> Any:
        headers = {} if accept is None else {"Accept-Language": accept}
        return api.client.get(f"/r/{url_id}", params={} if lang is None else {"lang": lang}, headers=headers)

    assert lang_of(get(None, "ru-RU,ru;q=0.9,en;q=0.8").text) == "ru"
    assert lang_of(get(None, "de-DE, en;q=0.5, ru;q=0.4").text) == "en"
    assert lang_of(get(None, "en;q=0, ru;q=0.1").text) == "ru"
    assert lang_of(get(None, "de, fr").text) == "hy"
    assert lang_of(get(None, "en;q=garbage").text) == "hy"
    assert lang_of(get("en", "ru").text) == "en"
    response = get(None, "ru")
    assert response.headers["vary"] == "Accept-Language" and TITLES["ru"] in response.text
    assert "vary" not in get("ru", None).headers


def test_an_unknown_lang_is_armenian_with_the_language_switcher(api: Api) -> None:
    url_id = multi_regime_sale(api)["urlId"]
    response = api.client.get(f"/r/{url_id}", params={"lang": "de"}, headers={"Accept-Language": "ru"})
    assert response.status_code == 200 and lang_of(response.text) == "hy" and TITLES["hy"] in response.text
    switcher = re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', response.text)
    assert switcher == [("?lang=hy", "hy"), ("?lang=ru", "ru"), ("?lang=en", "en")]
    missing = api.client.get("/r/nothing-here", params={"lang": "xx"})
    assert missing.status_code == 404 and lang_of(missing.text) == "hy" and 'id="languages"' in missing.text


def test_the_localized_link_by_url_id_and_by_receipt_number_serves_the_page(api: Api) -> None:
    crn = api.init.crn
    sale = multi_regime_sale(api)
    refunded = api.client.post(
        "/api/v1/sales/refund", json={"cashier": {"id": 1}, "saleId": sale["saleId"]}, headers=api.headers
    ).json()
    prepaid = prepay(api, cash="900")
    back = refund(api, prepaid["prepaymentId"]).json()
    documents = [
        (sale["urlId"], sale["srcReceiptId"], "Sales receipt"),
        (refunded["urlId"], refunded["receiptId"], "Refund receipt"),
        (prepaid["urlId"], prepaid["receiptId"], "Prepayment receipt"),
        (back["urlId"], back["receiptId"], "Prepayment refund receipt"),
    ]
    for url_id, receipt_id, title in documents:
        for segment in (url_id, str(receipt_id)):
            response = api.client.get(f"/en/r/{crn}/{segment}", headers={"Accept-Language": "ru"})
            assert response.status_code == 200, (segment, response.text)
            html = response.text
            assert lang_of(html) == "en" and f"<h1>{title}</h1>" in html
            assert text_of(html, "receipt-id") == str(receipt_id) and text_of(html, "crn") == crn
            switcher = re.findall(r'<a href="([^"]+)" hreflang="(\w+)"', html)
            assert switcher == [(f"../../../{code}/r/{crn}/{segment}", code) for code in ("hy", "ru", "en")]
    html = api.client.get(f"/ru/r/{crn}/{sale['urlId']}").text
    assert lang_of(html) == "ru" and f'<a class="refund" href="{refunded["urlId"]}">' in html
    html = api.client.get(f"/de/r/{crn}/{sale['urlId']}", headers={"Accept-Language": "en"}).text
    assert lang_of(html) == "hy" and TITLES["hy"] in html and 'id="languages"' in html


def test_an_unknown_or_foreign_receipt_on_the_localized_link_is_a_404_page(api: Api) -> None:
    crn = api.init.crn
    sale = multi_regime_sale(api)
    with api.db.write() as conn:
        entity = conn.execute(registers.select()).first()
        assert entity is not None
        conn.execute(
            insert(registers).values(
                entity_id=entity.entity_id,
                kind="ehdm",
                crn="99999999",
                sn="SN-OTHER",
                mode="sandbox",
                trading_platform_name="Other",
                authority_status="current",
                created_at=now_ms(),
            )
        )
    for path in (
        f"/en/r/99999999/{sale['urlId']}",  # another register's CRN: the sale is not its
        f"/en/r/99999999/{sale['srcReceiptId']}",
        f"/en/r/00000000/{sale['urlId']}",  # no register has this CRN
        f"/en/r/{crn}/no-such-receipt",
        f"/en/r/{crn}/{sale['srcReceiptId'] + 1000}",  # no such receipt number
        f"/en/r/{crn}/{'9' * 40}",
        f"/en/r/{crn}/%3Cscript%3E",
    ):
        response = api.client.get(path)
        assert response.status_code == 404, path
        assert "Receipt not found" in response.text and "<script>" not in response.text
        assert response.headers["content-type"].startswith("text/html")
    assert api.client.get(f"/hy/r/{crn}/{sale['urlId']}").status_code == 200
