"""Texts of the public receipt page in Armenian (default), Russian and English."""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("hy", "ru", "en")
DEFAULT_LANGUAGE: Final = "hy"

STRINGS: Final[dict[str, dict[str, str]]] = {
    "hy": {
        "sale": "Վաճառքի կտրոն",
        "sale_refund": "Վերադարձի կտրոն",
        "prepayment": "Կանխավճարի կտրոն",
        "prepayment_refund": "Կանխավճարի վերադարձի կտրոն",
        "taxpayer": "Հարկ վճարող",
        "address": "Հասցե",
        "tin": "ՀՎՀՀ",
        "crn": "ՀԴՄ գրանցման համար",
        "sn": "ՀԴՄ սերիական համար",
        "receipt_id": "Կտրոն №",
        "fiscal": "Ֆիսկալ համար",
        "time": "Ամսաթիվ և ժամ",
        "refund_of": "Վերադարձ՝ կտրոն №",
        "item": "Ապրանք",
        "quantity": "Քանակ",
        "price": "Գին",
        "amount": "Գումար",
        "discount": "Զեղչ",
        "additional_discount": "Լրացուցիչ զեղչ",
        "per_unit": "միավորի համար",
        "total": "Ընդամենը",
        "prepayment_amount": "Կանխավճար",
        "payment": "Վճարում",
        "cash": "Կանխիկ",
        "non_cash": "Անկանխիկ",
        "prepayment_used": "Կանխավճարից",
        "compensation": "Փոխհատուցում",
        "change": "Մանր",
        "qr": "ՊԵԿ QR կոդ",
        "journal": "Ֆիսկալ մատյան",
        "journal_entry": "Գրառում №",
        "verified": "Ստուգված է․ ստորագրությունը և շղթան անխախտ են",
        "not_verified": "ՉԻ ՍՏՈՒԳՎԵԼ",
        "reason_missing": "փաստաթուղթը մատյանում չէ",
        "reason_content_altered": "գրառման բովանդակությունը փոփոխված է",
        "reason_signature_invalid": "ստորագրությունը անվավեր է",
        "reason_chain_broken": "մատյանի շղթան խզված է",
        "reason_document_mismatch": "գրառումը չի համապատասխանում կտրոնին",
        "reason_no_key": "դրամարկղի բանալին բացակայում է",
        "not_found_title": "Կտրոնը չի գտնվել",
        "not_found_text": "Այս հղումով կտրոն չկա։ Ստուգեք հղումը կամ դիմեք վաճառողին։",
        "awaiting_title": "Կտրոնը սպասում է ֆիսկալացման",
        "awaiting_text": "Փաստաթուղթը պահպանված է և կգրանցվի ՊԵԿ-ում, հենց որ այն հասանելի լինի։ "
        "Կտրոնը կհայտնվի այս հղումով։",
        "language": "Լեզու",
        "cashier": "Գանձապահ",
        "buyer_tin": "Գնորդի ՀՎՀՀ",
        "vat_included": "այդ թվում ԱԱՀ 20%",
        "without_vat": "Առանց ԱԱՀ",
        "regime_vat": "ԱԱՀ-ով հարկվող",
        "regime_vat_exempt": "ԱԱՀ-ից ազատված",
        "regime_turnover_tax": "շրջանառության հարկ",
        "regime_micro_enterprise": "միկրոձեռնարկատիրություն",
        "currency": "Արժույթ",
        "rate": "ՀՀ ԿԲ փոխարժեք",
        "watermark": "ԹԵՍՏ — ՖԻՍԿԱԼ ԿՏՐՈՆ ՉԷ",
        "refunds": "Վերադարձներ",
    },
    "ru": {
        "sale": "Кассовый чек",
        "sale_refund": "Чек возврата",
        "prepayment": "Чек предоплаты",
        "prepayment_refund": "Чек возврата предоплаты",
        "taxpayer": "Налогоплательщик",
        "address": "Адрес",
        "tin": "ИНН",
        "crn": "Регистрационный номер ККМ",
        "sn": "Заводской номер ККМ",
        "receipt_id": "Чек №",
        "fiscal": "Фискальный номер",
        "time": "Дата и время",
        "refund_of": "Возврат по чеку №",
        "item": "Товар",
        "quantity": "Кол-во",
        "price": "Цена",
        "amount": "Сумма",
        "discount": "Скидка",
        "additional_discount": "Дополнительная скидка",
        "per_unit": "за единицу",
        "total": "Итого",
        "prepayment_amount": "Предоплата",
        "payment": "Оплата",
        "cash": "Наличные",
        "non_cash": "Безналичные",
        "prepayment_used": "Из предоплаты",
        "compensation": "Компенсация",
        "change": "Сдача",
        "qr": "QR-код КГД",
        "journal": "Фискальный журнал",
        "journal_entry": "Запись №",
        "verified": "Проверено: подпись и цепочка целы",
        "not_verified": "НЕ ПРОВЕРЕНО",
        "reason_missing": "документа нет в журнале",
        "reason_content_altered": "содержимое записи изменено",
        "reason_signature_invalid": "подпись недействительна",
        "reason_chain_broken": "цепочка журнала нарушена",
        "reason_document_mismatch": "запись не соответствует чеку",
        "reason_no_key": "нет ключа кассы",
        "not_found_title": "Чек не найден",
        "not_found_text": "По этой ссылке чека нет. Проверьте ссылку или обратитесь к продавцу.",
        "awaiting_title": "Чек ожидает фискализации",
        "awaiting_text": "Документ сохранён и будет зарегистрирован в КГД, как только она станет доступна. "
        "Чек появится по этой ссылке.",
        "language": "Язык",
        "cashier": "Кассир",
        "buyer_tin": "ИНН покупателя",
        "vat_included": "в т. ч. НДС 20%",
        "without_vat": "Без НДС",
        "regime_vat": "облагается НДС",
        "regime_vat_exempt": "освобождено от НДС",
        "regime_turnover_tax": "налог с оборота",
        "regime_micro_enterprise": "микропредпринимательство",
        "currency": "Валюта",
        "rate": "Курс ЦБ РА",
        "watermark": "ТЕСТ — НЕ ФИСКАЛЬНЫЙ ЧЕК",
        "refunds": "Возвраты",
    },
    "en": {
        "sale": "Sales receipt",
        "sale_refund": "Refund receipt",
        "prepayment": "Prepayment receipt",
        "prepayment_refund": "Prepayment refund receipt",
        "taxpayer": "Taxpayer",
        "address": "Address",
        "tin": "TIN",
        "crn": "Register number (CRN)",
        "sn": "Register serial (SN)",
        "receipt_id": "Receipt No.",
        "fiscal": "Fiscal number",
        "time": "Date and time",
        "refund_of": "Refund of receipt No.",
        "item": "Item",
        "quantity": "Qty",
        "price": "Price",
        "amount": "Amount",
        "discount": "Discount",
        "additional_discount": "Additional discount",
        "per_unit": "per unit",
        "total": "Total",
        "prepayment_amount": "Prepayment",
        "payment": "Payment",
        "cash": "Cash",
        "non_cash": "Non-cash",
        "prepayment_used": "From prepayment",
        "compensation": "Compensation",
        "change": "Change",
        "qr": "SRC QR code",
        "journal": "Fiscal journal",
        "journal_entry": "Entry No.",
        "verified": "Verified: signature and chain intact",
        "not_verified": "NOT VERIFIED",
        "reason_missing": "the document is not in the journal",
        "reason_content_altered": "the entry's content was altered",
        "reason_signature_invalid": "the signature does not verify",
        "reason_chain_broken": "the journal chain is broken",
        "reason_document_mismatch": "the entry does not match the receipt",
        "reason_no_key": "the register has no signing key",
        "not_found_title": "Receipt not found",
        "not_found_text": "There is no receipt at this address. Check the link or ask the seller.",
        "awaiting_title": "Receipt awaiting fiscalization",
        "awaiting_text": "The document is saved and will be registered with the State Revenue Committee as soon as "
        "it can be reached. The receipt will appear at this address.",
        "language": "Language",
        "cashier": "Cashier",
        "buyer_tin": "Buyer's TIN",
        "vat_included": "incl. VAT 20%",
        "without_vat": "Without VAT",
        "regime_vat": "VAT taxable",
        "regime_vat_exempt": "VAT exempt",
        "regime_turnover_tax": "turnover tax",
        "regime_micro_enterprise": "micro-enterprise",
        "currency": "Currency",
        "rate": "CBA exchange rate",
        "watermark": "TEST — NOT A FISCAL RECEIPT",
        "refunds": "Refunds",
    },
}

UNIT_NAMES: Final[dict[str, dict[str, str]]] = {
    "ru": {
        "pc": "шт",
        "unit": "ед",
        "set": "компл",
        "box": "кор",
        "pack": "уп",
        "hr": "ч",
        "kg": "кг",
        "l": "л",
        "m": "м",
        "g": "г",
        "ml": "мл",
        "cm": "см",
        "m2": "м²",
        "mm": "мм",
        "km": "км",
        "ton": "т",
        "m3": "м³",
        "pair": "пара",
        "bottle": "бут",
    },
}


def language_of(requested: str | None, accept_language: str | None = None) -> str:
    """The page language: ``requested`` (``?lang=`` or the link's locale) when it is hy, ru or en; any other
    requested value → Armenian; nothing requested → the browser's ``Accept-Language`` (``negotiate``)."""
    value = (requested or "").strip().lower()
    if value:
        return value if value in LANGUAGES else DEFAULT_LANGUAGE
    return negotiate(accept_language)


def negotiate(accept_language: str | None) -> str:
    """The first of hy, ru, en in the browser's order of preference (``Accept-Language``, RFC 9110: quality
    values, ``ru-RU`` counts as ``ru``, ``q=0`` refuses), else Armenian. A malformed header is ignored."""
    if not accept_language or len(accept_language) > 1000:
        return DEFAULT_LANGUAGE
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = _quality(params)
        if quality is None or quality <= 0:
            continue
        candidate = (-quality, position, primary)
        if best is None or candidate < best:
            best = candidate
    return DEFAULT_LANGUAGE if best is None else best[2]


def _quality(params: str) -> float | None:
    """The ``q`` of one ``Accept-Language`` entry (1 when absent), None when malformed."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return None
            return quality if 0 <= quality <= 1 else None
    return 1.0
