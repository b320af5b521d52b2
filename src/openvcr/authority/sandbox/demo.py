"""The manual's demo taxpayer (``--seed-demo``).

TIN 00493113, «ՀԴՄ թեստ», the manual's address, CRN 52014201, SN 2FECD1F8, status Ընթացիկ (needs
``activate``), cashier 3, the manual's goods lists. Seven earlier receipts exist (a history of small sales on
2024-07-16, before departments were reconfigured), so the walk-through's first sale is receipt 8 as in the
manual, and a printCopy of any earlier number answers with a real receipt.
"""

from __future__ import annotations

from decimal import Decimal

from openvcr.authority.sandbox import arith
from openvcr.authority.sandbox.state import SandboxState, to_json

TIN = "00493113"
TAXPAYER = "«ՀԴՄ թեստ»"
ADDRESS = "ԿԵՆՏՐՈՆ ԹԱՂԱՄԱՍ ՔՐԻՍՏԱՓՈՐԻ Փ. 16/2 5"
CRN = "52014201"
SN = "2FECD1F8"
CASHIER = 3
FIRST_RECEIPT_ID = 8
HISTORY_TIME_MS = 1721120400000  # 2024-07-16 13:00 Asia/Yerevan

GOOD_LISTS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Երաժշտական փողային գործիքներ", (("երգեհոն", "9205-13", "25000.0"),)),
    ("Երաժշտական լարային գործիքներ", (("ջութակ", "9202-11", "60000.0"), ("կիթառ", "9202-12", "35000.0"))),
)


def seed_demo(state: SandboxState) -> bool:
    """Register the demo taxpayer unless it exists; True when it was created now."""
    if state.summary(CRN) is not None:
        return False
    state.register(
        tin=TIN,
        taxpayer=TAXPAYER,
        address=ADDRESS,
        crn=CRN,
        sn=SN,
        status="current",
        cashiers=[CASHIER],
        next_receipt_id=FIRST_RECEIPT_ID,
        created_at=HISTORY_TIME_MS,
    )
    state.set_goods(CRN, 1, GOOD_LISTS)
    _seed_history(state)
    return True


def _seed_history(state: SandboxState) -> None:
    price = Decimal("35000.00")
    vat = arith.VAT_RATE
    with state.transaction() as conn:
        for receipt_id in range(1, FIRST_RECEIPT_ID):
            when = HISTORY_TIME_MS + receipt_id * 60_000
            fiscal = f"{52517800 + receipt_id}"
            response = {
                "receiptId": str(receipt_id),
                "crn": CRN,
                "sn": SN,
                "tin": TIN,
                "taxpayer": TAXPAYER,
                "address": ADDRESS,
                "time": when,
                "fiscal": fiscal,
                "total": price,
                "change": Decimal("0.00"),
                "qr": arith.qr_text(
                    tin=TIN,
                    crn=CRN,
                    sn=SN,
                    receipt_id=receipt_id,
                    time_ms=when,
                    fiscal=fiscal,
                    cash=price,
                    noncash=Decimal(0),
                    prepayment=Decimal(0),
                    partial=Decimal(0),
                    total=price,
                ),
                "emarkCount": 0,
                "emarkVerificationCode": None,
            }
            line = {
                "receiptProductId": 0,
                "quantity": Decimal("1.000"),
                "dep": 1,
                "vat": vat,
                "taxRegime": 1,
                "goodCode": "9202-12",
                "goodName": "կիթառ",
                "adgCode": "9202",
                "unit": "հատ",
                "price": price,
                "totalWithoutTaxes": arith.without_taxes(price, vat),
                "totalWithTaxes": price,
            }
            info = {
                "cashierId": CASHIER,
                "cardAmount": Decimal(0),
                "cashAmount": price,
                "partnerTin": None,
                "partialAmount": Decimal(0),
                "prePayment": Decimal(0),
                "saleType": 2,
                "receiptType": 0,
                "receiptSubType": 1,
                "totalAmount": price,
                "change": Decimal(0),
                "time": when,
                "items": [line],
                "emarks": [],
            }
            returned = {"lines": {}, "card": "0", "cash": "0", "prepayment": "0", "partial": "0", "total": "0"}
            conn.execute(
                "INSERT INTO receipts (crn, receipt_id, kind, time_ms, fiscal, response, info, returned)"
                " VALUES (?, ?, 'sale', ?, ?, ?, ?, ?)",
                (CRN, receipt_id, when, fiscal, to_json(response), to_json(info), to_json(returned)),
            )
