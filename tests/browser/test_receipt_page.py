"""The receipt page in headless Chromium: a sale, a refund, a prepayment, a foreign-currency sale and the
sandbox watermark, in Armenian, Russian and English; the language switcher, ``Accept-Language``, the links
between a sale and its refund, the print view, and long numbers on a narrow screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import update

from openvcr.store.db import Database
from openvcr.store.schema.foundation import registers
from tests.browser.conftest import Shop, item
from tests.e2e.server import openvcr_env, run_cli

LANGS = ("hy", "ru", "en")
NNBSP = "\u202f"
WATERMARK = {"hy": "ԹԵՍՏ — ՖԻՍԿԱԼ ԿՏՐՈՆ ՉԷ", "ru": "ТЕСТ — НЕ ФИСКАЛЬНЫЙ ЧЕК", "en": "TEST — NOT A FISCAL RECEIPT"}
CASHIER = {"hy": "Գանձապահ 1 (№ 1)", "ru": "Кассир 1 (№ 1)", "en": "Cashier 1 (№ 1)"}
TITLE = {
    "sale": {"hy": "Վաճառքի կտրոն", "ru": "Кассовый чек", "en": "Sales receipt"},
    "refund": {"hy": "Վերադարձի կտրոն", "ru": "Чек возврата", "en": "Refund receipt"},
    "prepayment": {"hy": "Կանխավճարի կտրոն", "ru": "Чек предоплаты", "en": "Prepayment receipt"},
}
VAT_LABEL = {"hy": "այդ թվում ԱԱՀ 20%", "ru": "в т. ч. НДС 20%", "en": "incl. VAT 20%"}
WITHOUT_VAT = {
    "hy": "Առանց ԱԱՀ (շրջանառության հարկ)",
    "ru": "Без НДС (налог с оборота)",
    "en": "Without VAT (turnover tax)",
}
RATE_LABEL = {"hy": "ՀՀ ԿԲ փոխարժեք", "ru": "Курс ЦБ РА", "en": "CBA exchange rate"}


@pytest.fixture(scope="module")
def docs(shop: Shop) -> dict[str, dict[str, Any]]:
    discounted = item("VAT", 1, "6000", "2", discounts={"base": {"type": "percent", "value": "10"}})
    sale = shop.post(
        "/sales",
        {
            "cashier": {"id": 1},
            "items": [discounted, item("TURNOVER", 3, "5000")],
            "amount": {"cash": "15800"},
            "buyer": {"type": "business_entity", "tin": "01234567"},
        },
    )
    refund = shop.post(
        "/sales/refund", {"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": 1, "quantity": "1"}]}
    )
    prepayment = shop.post(
        "/prepayments",
        {
            "cashier": {"id": 1},
            "amount": {"cash": "3000", "nonCash": "2000"},
            "buyer": {"type": "individual", "phone": "+37491000001"},
        },
    )
    foreign = shop.post(
        "/sales",
        {
            "cashier": {"id": 1},
            "items": [item("USD", 1, "12.5", "2", currency="USD")],
            "autoSettle": {"tender": "nonCash"},
        },
    )
    return {"sale": sale, "refund": refund, "prepayment": prepayment, "foreign": foreign}


def open_page(browser: Browser, url: str, **context: Any) -> Page:
    page = browser.new_context(**context).new_page()
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return page


def shot(page: Page, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def text(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def assert_watermark(page: Page, lang: str) -> None:
    banner = page.locator("#watermark")
    assert banner.is_visible() and banner.inner_text().strip() == WATERMARK[lang]
    overlay = page.evaluate("getComputedStyle(document.querySelector('main'), '::after').content")
    assert overlay == f'"{WATERMARK[lang]}"'


@pytest.mark.parametrize("lang", LANGS)
def test_sale_page_shows_vat_cashier_tin_discount_and_watermark(
    browser: Browser, shop: Shop, docs: dict[str, dict[str, Any]], artifacts: Path, lang: str
) -> None:
    sale = docs["sale"]
    page = open_page(browser, f"{shop.base}/{lang}/r/{shop.crn}/{sale['urlId']}")
    assert page.locator("html").get_attribute("lang") == lang
    assert text(page, "h1") == TITLE["sale"][lang]
    assert text(page, "#receipt-id") == str(sale["srcReceiptId"]) and text(page, "#crn") == shop.crn
    assert text(page, "#cashier") == CASHIER[lang] and text(page, "#buyer-tin") == "01234567"
    assert text(page, "#total") == f"15{NNBSP}800.00"
    vat = page.locator("dt.tax").all_inner_texts()
    assert [label.strip() for label in vat] == [VAT_LABEL[lang], WITHOUT_VAT[lang]]
    assert text(page, "#vat") == f"1{NNBSP}800.36"  # 10800 × 16.67 %
    assert page.locator(".note.discount").all_inner_texts()[0].strip().endswith("10%")
    assert page.locator("#verification").get_attribute("data-verified") == "true"
    assert page.locator("#currency").count() == 0
    assert_watermark(page, lang)
    assert page.locator("a.refund").count() == 1
    shot(page, artifacts, f"sale-{lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_refund_page_links_to_its_sale_and_back(
    browser: Browser, shop: Shop, docs: dict[str, dict[str, Any]], artifacts: Path, lang: str
) -> None:
    sale, refund = docs["sale"], docs["refund"]
    page = open_page(browser, f"{shop.base}/{lang}/r/{shop.crn}/{refund['receiptId']}")
    assert text(page, "h1") == TITLE["refund"][lang] and text(page, "#cashier") == CASHIER[lang]
    assert text(page, "#total") == f"5{NNBSP}000.00" and text(page, "#buyer-tin") == "01234567"
    assert [t.strip() for t in page.locator("dt.tax").all_inner_texts()] == [WITHOUT_VAT[lang]]
    assert page.locator("#vat").count() == 0
    assert_watermark(page, lang)
    shot(page, artifacts, f"refund-{lang}")
    page.locator("#refund-of").click()
    page.wait_for_url(f"{shop.base}/{lang}/r/{shop.crn}/{sale['urlId']}")
    assert text(page, "h1") == TITLE["sale"][lang]
    page.locator("a.refund").click()
    page.wait_for_url(f"{shop.base}/{lang}/r/{shop.crn}/{refund['urlId']}")
    assert text(page, "h1") == TITLE["refund"][lang]


@pytest.mark.parametrize("lang", LANGS)
def test_prepayment_page(
    browser: Browser, shop: Shop, docs: dict[str, dict[str, Any]], artifacts: Path, lang: str
) -> None:
    prepayment = docs["prepayment"]
    page = open_page(browser, f"{shop.base}/r/{prepayment['urlId']}?lang={lang}")
    assert text(page, "h1") == TITLE["prepayment"][lang] and text(page, "#cashier") == CASHIER[lang]
    assert text(page, "#total") == f"5{NNBSP}000.00" and page.locator("#lines").count() == 0
    assert page.locator("#buyer-tin").count() == 0 and page.locator("dt.tax").count() == 0
    assert_watermark(page, lang)
    shot(page, artifacts, f"prepayment-{lang}")


@pytest.mark.parametrize("lang", LANGS)
def test_foreign_currency_sale_shows_currency_and_cba_rate(
    browser: Browser, shop: Shop, docs: dict[str, dict[str, Any]], artifacts: Path, lang: str
) -> None:
    foreign = docs["foreign"]
    page = open_page(browser, f"{shop.base}/{lang}/r/{shop.crn}/{foreign['urlId']}")
    assert text(page, "#currency") == "USD" and text(page, "#rate") == "1 USD = 387.50 AMD"
    assert RATE_LABEL[lang] in page.locator("main").inner_text()
    assert page.locator(".note.foreign-price").inner_text().strip() == "12.50 USD"
    assert text(page, "#total") == f"9{NNBSP}687.50"  # 2 × 12.50 × 387.50
    assert text(page, "#vat") == f"1{NNBSP}614.91"
    assert_watermark(page, lang)
    shot(page, artifacts, f"foreign-{lang}")


def test_language_switcher_and_accept_language(browser: Browser, shop: Shop, docs: dict[str, dict[str, Any]]) -> None:
    sale = docs["sale"]
    page = open_page(browser, f"{shop.base}/r/{sale['urlId']}", locale="ru-RU")
    assert page.locator("html").get_attribute("lang") == "ru" and text(page, "h1") == TITLE["sale"]["ru"]
    page = open_page(browser, f"{shop.base}/en/r/{shop.crn}/{sale['urlId']}", locale="ru-RU")
    assert text(page, "h1") == TITLE["sale"]["en"]  # the link's locale wins over the browser's
    page.locator("#languages a[hreflang=hy]").click()
    page.wait_for_url(f"{shop.base}/hy/r/{shop.crn}/{sale['urlId']}")
    assert text(page, "h1") == TITLE["sale"]["hy"]
    page = open_page(browser, f"{shop.base}/r/{sale['urlId']}?lang=xx", locale="en-US")
    assert text(page, "h1") == TITLE["sale"]["hy"] and page.locator("#languages a").count() == 3
    assert page.locator("#languages").is_visible()


def test_print_view_hides_the_switcher_and_keeps_the_watermark(
    browser: Browser, shop: Shop, docs: dict[str, dict[str, Any]], artifacts: Path
) -> None:
    page = open_page(browser, f"{shop.base}/en/r/{shop.crn}/{docs['sale']['urlId']}")
    assert page.locator("#languages").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("#languages").is_visible()
    assert_watermark(page, "en")
    assert page.evaluate("getComputedStyle(document.querySelector('main')).boxShadow") == "none"
    shot(page, artifacts, "sale-print-en")
    pdf = artifacts / "sale-print-en.pdf"
    page.pdf(path=str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")


def test_long_numbers_wrap_on_a_narrow_screen(browser: Browser, shop: Shop, artifacts: Path, tmp_path: Path) -> None:
    raised = run_cli(
        ["registers", "update", str(shop.init["vcrId"]), "--max-unit-price", "9999999999999.99",
         "--max-sale-total", "9999999999999.99", "--database", shop.database],
        openvcr_env(tmp_path / "sandbox"),
    )  # fmt: skip
    assert raised.returncode == 0, raised.stderr  # this register sells dearer goods than the defaults allow
    big = shop.post(
        "/sales",
        {
            "cashier": {"id": 1},
            "items": [item("BIG", 3, "99999999999.99", "99.999")],
            "autoSettle": {"tender": "cash"},
            "buyer": {"type": "business_entity", "tin": "76543210"},
        },
    )
    page = open_page(browser, f"{shop.base}/ru/r/{shop.crn}/{big['urlId']}", viewport={"width": 320, "height": 640})
    assert text(page, "#total") == f"9{NNBSP}999{NNBSP}899{NNBSP}999{NNBSP}999.00"
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    shot(page, artifacts, "long-numbers-ru")


def test_a_production_register_has_no_watermark(browser: Browser, shop: Shop, docs: dict[str, dict[str, Any]]) -> None:
    db = Database(shop.database)
    try:
        with db.write() as conn:
            conn.execute(update(registers).values(mode="production"))
        page = open_page(browser, f"{shop.base}/en/r/{shop.crn}/{docs['sale']['urlId']}")
        assert text(page, "h1") == TITLE["sale"]["en"] and page.locator("#watermark").count() == 0
        assert page.evaluate("getComputedStyle(document.querySelector('main'), '::after').content") == "none"
    finally:
        with db.write() as conn:
            conn.execute(update(registers).values(mode="sandbox"))
        db.dispose()


def test_the_receipt_url_of_a_sale_is_the_page(shop: Shop) -> None:
    sale = shop.post("/sales", {"cashier": {"id": 1}, "items": [item("URL", 1, "100")], "amount": {"cash": "100"}})
    assert sale["receiptUrl"] == f"{shop.base}/hy/r/{shop.crn}/{sale['urlId']}"
    response = httpx.get(f"{shop.base}/en/r/{shop.crn}/{sale['urlId']}", timeout=30)
    assert response.status_code == 200 and "<h1>Sales receipt</h1>" in response.text
    assert f'id="receipt-id">{sale["srcReceiptId"]}<' in response.text
    assert httpx.get(sale["receiptUrl"], timeout=30).status_code == 200
    assert httpx.get(f"{shop.base}/en/r/00000000/{sale['urlId']}", timeout=30).status_code == 404
