"""What the load generator sends: realistic varied sales, prepayments, V-SDC invoices.

Sales (seeded, reproducible): 1–5 lines over a small catalogue (pieces and weighed goods, two tax regimes),
some lines with a percent base discount and/or an additional discount, and four ways to pay: cash with
change, cash + non-cash, ``autoSettle`` to non-cash, and a draw on the buyer's prepayment plus cash. Every
payment is valid by construction: discounts are at most 15 % of a line, so the gross sum bounds the total
from above and 85 % of it from below.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# (externalId, title, unit, classifier, price, quantities, department index: 0 = VAT, 1 = VAT-exempt)
CATALOGUE: list[tuple[str, str, str, str, str, tuple[str, ...], int]] = [
    ("BREAD", "Bread", "pc", "1905", "350", ("1", "2", "3"), 0),
    ("MILK", "Milk 1 l", "pc", "0401", "480", ("1", "2"), 0),
    ("APPLES", "Apples", "kg", "0808", "900", ("0.750", "1.200", "2.500"), 0),
    ("CHEESE", "Lori cheese", "kg", "0406", "3600", ("0.350", "0.500"), 0),
    ("COFFEE", "Coffee 250 g", "pc", "0901", "2900", ("1",), 0),
    ("WATER", "Jermuk 0.5 l", "bottle", "2201", "300", ("1", "2", "6"), 0),
    ("BOOK", "Notebook", "pc", "4820", "1200", ("1", "2"), 1),
    ("LAVASH", "Lavash", "pc", "1905", "250", ("1", "2", "4"), 0),
]
PREPAYMENT_DRAW = Decimal("100")
PREPAYMENT_BUYERS = 8
PREPAYMENT_AMOUNT = "100000000"


@dataclass(frozen=True)
class RegisterRefs:
    """What a sale needs to know about its register: key, cashier, departments (VAT, VAT-exempt)."""

    register_id: int
    api_key: str
    cashier_id: int
    departments: tuple[int, int]


def buyer_phone(register_id: int, n: int) -> str:
    return f"+37491{register_id % 100:02d}{n:04d}"


def new_offer(refs: RegisterRefs, item: tuple[str, str, str, str, str, tuple[str, ...], int]) -> dict[str, Any]:
    external, title, unit, code, _price, _qty, dep = item
    return {
        "externalId": external,
        "title": {"type": "universal", "content": title},
        "type": "product",
        "classifierCode": code,
        "defaultMeasureUnit": unit,
        "defaultDepartment": {"id": refs.departments[dep]},
    }


def catalogue_sale(refs: RegisterRefs) -> dict[str, Any]:
    """One sale of every catalogue item as a new offer: creates the offers (run once per register)."""
    items = [
        {
            "offer": new_offer(refs, item),
            "department": {"id": refs.departments[item[6]]},
            "quantity": item[5][0],
            "price": item[4],
            "unit": item[2],
        }
        for item in CATALOGUE
    ]
    return {"cashier": {"id": refs.cashier_id}, "items": items, "autoSettle": {"tender": "cash"}}


def sale(refs: RegisterRefs, rng: random.Random, with_prepayments: bool = True) -> dict[str, Any]:
    lines = []
    gross = Decimal(0)
    for item in rng.sample(CATALOGUE, rng.randint(1, 5)):
        external, _title, unit, _code, price, quantities, dep = item
        quantity = rng.choice(quantities)
        line: dict[str, Any] = {
            "offer": {"externalId": external},
            "department": {"id": refs.departments[dep]},
            "quantity": quantity,
            "price": price,
            "unit": unit,
        }
        roll = rng.random()
        if roll < 0.25:
            line["discounts"] = {"base": {"type": "percent", "value": str(rng.choice((5, 10)))}}
        elif roll < 0.35:
            line["discounts"] = {
                "base": {"type": "percent", "value": "10"},
                "additional": {"type": "percent", "value": "5"},
            }
        lines.append(line)
        gross += Decimal(quantity) * Decimal(price)
    gross = gross.quantize(Decimal("1"))
    body: dict[str, Any] = {"cashier": {"id": refs.cashier_id}, "items": lines}
    kind = rng.random()
    if kind < 0.45 or gross < 400:
        body["amount"] = {"cash": str(gross + 1000 - gross % 1000)}  # a round banknote sum: change
    elif kind < 0.70:
        non_cash = (gross * Decimal("0.5")).quantize(Decimal("1"))
        body["amount"] = {"nonCash": str(non_cash), "cash": str(gross)}
    elif kind < 0.85 or not with_prepayments:
        body["autoSettle"] = {"tender": "nonCash"}
    else:
        buyer = rng.randrange(PREPAYMENT_BUYERS)
        body["buyer"] = {"type": "individual", "phone": buyer_phone(refs.register_id, buyer)}
        body["amount"] = {"prepayment": str(PREPAYMENT_DRAW), "cash": str(gross)}
    return body


def prepayment(refs: RegisterRefs, n: int) -> dict[str, Any]:
    return {
        "cashier": {"id": refs.cashier_id},
        "amount": {"nonCash": PREPAYMENT_AMOUNT},
        "buyer": {"type": "individual", "phone": buyer_phone(refs.register_id, n)},
    }


def sale_requests(refs: RegisterRefs, count: int, seed: int, with_prepayments: bool = True) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    headers = {"X-API-KEY": refs.api_key, "Content-Type": "application/json"}
    return [
        {
            "method": "POST",
            "path": "/api/v1/sales",
            "headers": headers,
            "body": json.dumps(sale(refs, rng, with_prepayments), separators=(",", ":")),
        }
        for _ in range(count)
    ]


def whoami_request(api_key: str) -> dict[str, Any]:
    return {"method": "GET", "path": "/api/v1/whoami", "headers": {"X-API-KEY": api_key}}


# ---- V-SDC ---------------------------------------------------------------------------------------------

VSDC_TIN = "123456789"
VSDC_MCR = "777777777"
_VSDC_JOURNAL = "V-SDC $$date$$ $$nev$$ $$numberRecu$$\nidata $idata$$ $$idata$$\nsig $signature$$ $$signature$$"


def vsdc_invoice(rng: random.Random) -> dict[str, Any]:
    """An invoice over slots A (0 %) and B (18 %), 1–4 lines; ``ino`` is the generator's run-unique number."""
    lines = []
    base = {"A": Decimal(0), "B": Decimal(0)}
    for _ in range(rng.randint(1, 4)):
        code = rng.choice("AB")
        amount = Decimal(rng.choice((250, 480, 1000, 2900)))
        quantity = rng.choice((1, 2))
        net = amount * quantity
        rate = Decimal(18) if code == "B" else Decimal(0)
        tax = (net * rate / 100).quantize(Decimal("0.01"))
        base[code] += net
        lines.append(
            {
                "ean": "1234567890180",
                "name": "Item",
                "quantity": quantity,
                "base": float(amount),
                "discount": 0.0,
                "code": code,
                "total": float(net + tax),
            }
        )
    b_tax = (base["B"] * 18 / 100).quantize(Decimal("0.01"))
    return {
        "tin": VSDC_TIN,
        "date": "2026-11-20 12:00:00 +0400",
        "place": "Shop 1",
        "bid": "000000000000001",
        "ccid": "000000000000001",
        "itype": "Normal",
        "ttype": "Sale",
        "mcr": VSDC_MCR,
        "ino": "@@N@@",
        "hr": 0,
        "hb": float(base["A"]),
        "ht": 0,
        "mr": 18,
        "mb": float(base["B"]),
        "mt": float(b_tax),
        "lr": 16,
        "lb": 0,
        "lt": 0,
        "zr": 32,
        "zb": 0,
        "zt": 0,
        "lines": lines,
        "journal": _VSDC_JOURNAL,
    }


def vsdc_requests(path: str, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "method": "POST",
            "path": path,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(vsdc_invoice(rng), separators=(",", ":")),
        }
        for _ in range(count)
    ]
