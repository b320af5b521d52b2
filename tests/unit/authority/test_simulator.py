"""The sandbox simulator against the manual: the walk-through, every error code, seq rules, tolerance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from openvcr.authority.sandbox import arith, demo
from openvcr.authority.sandbox import messages as m
from openvcr.authority.sandbox.simulator import SandboxConfig, Simulator
from openvcr.authority.sandbox.state import SandboxState, from_json, to_json

CRN = demo.CRN


class Sim:
    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.state = simulator.state

    def raw(self, method: str, body: bytes, language: str | None = None, **kw: Any) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if language:
            headers["language"] = language
        answer = self.simulator.handle("POST", f"/taxsystem-rs-vcr/api/v1.0/{method}", headers, body, **kw)
        return answer.status, json.loads(answer.body)

    def call(self, method: str, body: dict[str, Any], language: str | None = None, **kw: Any) -> Any:
        return self.raw(method, json.dumps(body, ensure_ascii=False).encode(), language, **kw)[1]

    def ok(self, method: str, body: dict[str, Any]) -> Any:
        answer = self.call(method, body)
        assert answer["code"] == 0, answer
        return answer["result"]


def make(tmp_path: Path, **config: Any) -> Sim:
    state = SandboxState(tmp_path / "state")
    demo.seed_demo(state)
    return Sim(Simulator(state, SandboxConfig(**config)))


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    s = make(tmp_path)
    yield s
    s.state.close()


@pytest.fixture
def ready(sim: Sim) -> Sim:
    sim.ok("activate", {"crn": CRN})
    sim.ok(
        "configureDepartments", {"crn": CRN, "departments": [{"dep": 1, "taxRegime": 1}, {"dep": 2, "taxRegime": 2}]}
    )
    return sim


MANUAL_PRINT = {
    "crn": CRN, "seq": 2, "cardAmount": 40000, "cashAmount": 0, "partialAmount": 0, "prePaymentAmount": 4000,
    "cashierId": 3, "mode": 2, "partnerTin": None,
    "items": [{"adgCode": "9205", "dep": 1, "goodCode": "9205-13", "goodName": "երգեհոն", "quantity": 2,
               "unit": "հատ", "price": 25000, "additionalDiscount": 1000, "additionalDiscountType": 16,
               "discount": 10, "discountType": 1}],
}  # fmt: skip


def line(**over: Any) -> dict[str, Any]:
    base = {"adgCode": "9205", "dep": 1, "goodCode": "9205-13", "goodName": "երգեհոն", "quantity": 1,
            "unit": "հատ", "price": 1000}  # fmt: skip
    return base | over


def sale(**over: Any) -> dict[str, Any]:
    base = {"crn": CRN, "cardAmount": 0, "cashAmount": 1000, "cashierId": 3, "mode": 2, "items": [line()]}
    return base | over


def test_the_manual_walk_through_gives_the_manual_results(sim: Sim) -> None:
    assert sim.call("checkConnection", {"crn": CRN}) == {
        "code": 0, "message": "OK", "result": "Գործողությունը հաջողությամբ ավարտվեց"
    }  # fmt: skip
    sim.ok("activate", {"crn": CRN})
    sim.ok(
        "configureDepartments",
        {"crn": CRN, "seq": 1, "departments": [{"dep": 1, "taxRegime": 1}, {"dep": 2, "taxRegime": 2}]},
    )
    goods = sim.ok("getGoodList", {"crn": CRN, "taxRegime": 1, "tin": demo.TIN})
    assert goods["goodLists"][1] == {
        "listname": "Երաժշտական լարային գործիքներ", "taxRegimeName": "ԱԱՀ-ով հարկվող",
        "goods": [{"goodName": "ջութակ", "goodCode": "9202-11", "price": 60000.0},
                  {"goodName": "կիթառ", "goodCode": "9202-12", "price": 35000.0}],
    }  # fmt: skip
    receipt = sim.ok("print", MANUAL_PRINT)
    assert receipt["receiptId"] == "8" and receipt["total"] == 44000.0 and receipt["change"] == 0.0
    assert (receipt["crn"], receipt["sn"], receipt["tin"], receipt["taxpayer"], receipt["address"]) == (
        CRN, "2FECD1F8", "00493113", "«ՀԴՄ թեստ»", "ԿԵՆՏՐՈՆ ԹԱՂԱՄԱՍ ՔՐԻՍՏԱՓՈՐԻ Փ. 16/2 5"
    )  # fmt: skip
    assert len(receipt["fiscal"]) == 8 and "emarkVerificationCode" in receipt
    when = arith.format_qr_time(receipt["time"])
    assert receipt["qr"] == (
        f"TIN: 00493113, CRN: 52014201, SERIAL: 2FECD1F8, Receipt_ID: 8, Receipt_Time: {when}, "
        f"FISCAL: {receipt['fiscal']}, TOTAL_CASH: 0, TOTAL_NONCASH: 40,000, PREP_USAGE: 4,000, PARTIAL: 0, "
        "TOTAL: 44,000"
    )
    prepayment = sim.ok(
        "print",
        {
            "crn": CRN,
            "seq": 3,
            "cardAmount": 2000,
            "cashAmount": 0,
            "partialAmount": 0,
            "prePaymentAmount": 0,
            "cashierId": 3,
            "mode": 3,
            "partnerTin": None,
            "items": None,
        },
    )
    assert prepayment["total"] == 2000.0
    assert sim.ok("printCopy", {"crn": CRN, "seq": 4, "receiptId": 8}) == receipt
    info = sim.ok("getReturnedReceiptInfo", {"crn": CRN, "seq": 5, "receiptId": 8})
    assert {k: info[k] for k in ("cashierId", "cardAmount", "prePayment", "saleType", "receiptType",
                                 "receiptSubType", "totalAmount")} == {
        "cashierId": 3, "cardAmount": 40000.0, "prePayment": 4000.0, "saleType": 2, "receiptType": 0,
        "receiptSubType": 3, "totalAmount": 44000.0,
    }  # fmt: skip
    assert info["items"] == [
        {"receiptProductId": 0, "quantity": 2.0, "additionalDiscount": 1000.0, "additionalDiscountType": 16,
         "dep": 1, "discount": 10.0, "discountType": 1, "vat": 16.67, "taxRegime": 1, "goodCode": "9205-13",
         "goodName": "երգեհոն", "adgCode": "9205", "unit": "հատ", "price": 25000.0, "totalWithoutTaxes": 36665.2,
         "totalWithTaxes": 44000.0}
    ]  # fmt: skip
    refund = sim.ok(
        "printReturnReceipt",
        {
            "crn": CRN,
            "seq": 6,
            "receiptId": 8,
            "cardAmountForReturn": 22000,
            "cashAmountForReturn": 0,
            "returnItemList": [{"receiptProductId": 0, "quantity": 1}],
        },
    )
    assert refund["receiptId"] == "10" and refund["total"] == 22000.0 and "fiscal" not in refund
    assert refund["qr"].endswith(
        "FISCAL: null, TOTAL_CASH: 0, TOTAL_NONCASH: 22,000, PREP_USAGE: 0, PARTIAL: 0, TOTAL: 22,000"
    )


def test_qr_time_is_yerevan_local_in_the_manual_format() -> None:
    assert arith.format_qr_time(1721140445000) == "7/16/24 6:34 PM"
    assert arith.format_qr_time(1721302859000) == "7/18/24 3:40 PM"
    assert arith.format_amount(Decimal("1234.50")) == "1,234.5"
    assert arith.format_amount(Decimal("40000.00")) == "40,000"


@pytest.mark.parametrize(
    ("price", "qty", "discount", "dtype", "add", "atype", "expected"),
    [
        ("25000", "2", "10", 1, "1000", 16, "44000.00"),
        ("100", "3", "5", 2, None, None, "285.00"),
        ("100", "3", "50", 4, None, None, "250.00"),
        ("100", "3", None, None, "10", 8, "270.00"),
        ("0.99", "0.505", None, None, None, None, "0.50"),
    ],
)
def test_discounts_apply_primary_then_additional_rounded_half_up(
    price: str, qty: str, discount: str | None, dtype: int | None, add: str | None, atype: int | None, expected: str
) -> None:
    total = arith.line_total(Decimal(price), Decimal(qty), discount and Decimal(discount), dtype,
                             add and Decimal(add), atype)  # fmt: skip
    assert total == Decimal(expected)


def test_tolerates_numbers_as_strings_unknown_keys_and_omitted_optional_fields(ready: Sim) -> None:
    body = {"crn": CRN, "cardAmount": "0.00", "cashAmount": "1500.00", "cashierId": 3, "mode": 2,
            "tpin": demo.TIN, "whatever": {"x": 1}, "items": [line(quantity="1.000", price="1000.00")]}  # fmt: skip
    result = ready.ok("print", body)
    assert result["change"] == 500.0 and result["emarkVerificationCode"] is None and result["emarkCount"] == 0
    ready.ok("print", {"crn": CRN, "cardAmount": "100.00", "cashAmount": "0.00", "cashierId": 3, "mode": 3})


def _error(sim: Sim, method: str, body: dict[str, Any], **kw: Any) -> tuple[int, str, str]:
    answer = sim.call(method, body, **kw)
    return answer["code"], answer["message"], answer["errorMessage"]


def test_every_business_error_code_of_the_table(ready: Sim, tmp_path: Path) -> None:
    s = ready
    codes: dict[int, tuple[int, str, str]] = {}
    s.state.add_fault(CRN, "checkConnection", "timeout")
    codes[101] = _error(s, "checkConnection", {"crn": CRN})
    s.state.add_fault(CRN, "print", "internal")
    codes[500] = _error(s, "print", sale())
    codes[103] = _error(s, "checkConnection", {"crn": "99999999"})
    s.ok("print", sale(seq=50))
    codes[104] = _error(s, "print", sale(seq=50))
    _, raw = s.raw("print", b"{not json")
    codes[105] = (raw["code"], raw["message"], raw["errorMessage"])
    codes[152] = _error(s, "print", sale(cashAmount=10))
    codes[159] = _error(s, "print", sale(items=[line(quantity=0)]))
    codes[160] = _error(s, "print", sale(items=[line(discount=100, discountType=1)]))
    codes[161] = _error(s, "print", sale(items=[line(goodCode="")]))
    codes[162] = _error(s, "print", sale(items=[line(goodName="x" * 51)]))
    codes[164] = _error(s, "print", sale(items=[line(unit="")]))
    codes[165] = _error(s, "print", sale(items=[line(discount=1000, discountType=2)]))
    codes[167] = _error(s, "print", sale(cardAmount=2000, cashAmount=0))
    codes[168] = _error(s, "print", sale(cardAmount=1000, cashAmount=5))
    codes[176] = _error(s, "printCopy", {"crn": CRN, "receiptId": 999})
    codes[180] = _error(s, "print", sale(items=[]))
    codes[183] = _error(s, "print", sale(items=[line(adgCode="ab")]))
    codes[186] = _error(s, "print", sale(prePaymentAmount=2000, cashAmount=0))
    codes[187] = _error(s, "print", sale(mode=3))
    codes[188] = _error(s, "print", sale(cashAmount=-1))
    codes[189] = _error(s, "print", sale(items=[line(price="1000.005")]))
    codes[192] = _error(s, "print", sale(items=[line(adgCode=None)]))
    codes[193] = _error(s, "print", sale(items=[line(discount=1, discountType=3)]))
    codes[195] = _error(s, "activate", {"crn": CRN})
    codes[197] = _error(s, "print", {k: v for k, v in sale().items() if k != "cashierId"})
    codes[198] = _error(s, "print", sale(mode=5))
    codes[200] = _error(s, "configureDepartments", {"crn": CRN, "departments": [{"dep": 9, "taxRegime": 4}]})
    codes[201] = _error(s, "configureDepartments", {"crn": CRN, "departments": []})
    codes[202] = _error(s, "configureDepartments", {"crn": CRN, "departments": [{"dep": 1, "taxRegime": 1}]})
    codes[403] = _error(s, "getGoodList", {"crn": CRN, "taxRegime": 1, "tin": "11111111"})
    # returns
    card_sale = s.ok("print", sale(cardAmount=2000, cashAmount=0, items=[line(quantity=2)]))
    rid = int(card_sale["receiptId"])
    ret = {"crn": CRN, "receiptId": rid, "cardAmountForReturn": 1000, "cashAmountForReturn": 0}
    codes[163] = _error(s, "printReturnReceipt", ret | {"returnItemList": [{"receiptProductId": 5, "quantity": 1}]})
    codes[181] = _error(s, "printReturnReceipt", ret | {"returnItemList": [{"receiptProductId": 0, "quantity": 3}]})
    codes[178] = _error(
        s,
        "printReturnReceipt",
        ret | {"cardAmountForReturn": 900, "returnItemList": [{"receiptProductId": 0, "quantity": 1}]},
    )
    full = s.ok("printReturnReceipt", ret | {"cardAmountForReturn": 2000})
    codes[158] = _error(s, "printReturnReceipt", ret)
    codes[182] = _error(s, "printReturnReceipt", ret | {"receiptId": int(full["receiptId"])})
    prepaid = s.ok("print", {"crn": CRN, "cardAmount": 500, "cashAmount": 0, "cashierId": 3, "mode": 3})
    codes[177] = _error(
        s,
        "printReturnReceipt",
        {
            "crn": CRN,
            "receiptId": int(prepaid["receiptId"]),
            "cardAmountForReturn": 500,
            "returnItemList": [{"receiptProductId": 0, "quantity": 1}],
        },
    )
    partial = s.ok("print", sale(partialAmount=500, cashAmount=1500, items=[line(quantity=2)]))
    codes[179] = _error(
        s,
        "printReturnReceipt",
        {
            "crn": CRN,
            "receiptId": int(partial["receiptId"]),
            "cashAmountForReturn": 500,
            "returnItemList": [{"receiptProductId": 0, "quantity": 1}],
        },
    )
    s.state.set_status(CRN, "current")
    codes[196] = _error(s, "print", sale())
    s.state.set_status(CRN, "blocked", blocked_on="01.02.2026", protocol="17")
    codes[199] = _error(s, "print", sale())
    expected = {kind.code for kind in m.ALL_KINDS}
    assert set(codes) == expected
    by_code = {kind.code: kind.message for kind in m.ALL_KINDS}
    for code, (got_code, message, text) in codes.items():
        assert (got_code, message) == (code, by_code[code]), code
        assert text and "{0}" not in text, code
    assert codes[104][2] == "Սխալ արժեք seq դաշտի համար. 50"
    assert codes[196][2] == "Էլեկտրոնային ՀԴՄ ակտիվ չէ։ Ընթացիկ կարգավիճակ՝ Ընթացիկ"
    assert (
        codes[199][2] == "ՀԴՄ-ի աշխատանքը արգելափակված է ՊԵԿ-ի կողմից 01.02.2026 թ․-ի թիվ 17 արձանագրության հիման վրա"
    )


def test_business_errors_write_nothing(ready: Sim) -> None:
    before = ready.state.summary(CRN)
    assert before is not None
    ready.call("print", sale(cashAmount=10))
    after = ready.state.summary(CRN)
    assert after is not None and after["receipts"] == before["receipts"]
    assert after["nextReceiptId"] == before["nextReceiptId"]


def test_ip_and_certificate_mismatches_are_403(sim: Sim) -> None:
    crn, _ = sim.state.register(tin="01234567", taxpayer="T", address="A", ip="10.0.0.7")
    assert _error(sim, "checkConnection", {"crn": crn}, client_ip="127.0.0.1", language="en") == (
        403, "UNAUTHORIZED_CONNECTION", "Authentication and authorization failed"
    )  # fmt: skip
    assert _error(sim, "checkConnection", {"crn": CRN}, client_cert=b"junk", language="ru")[2] == (
        "Неправильный серийный номер сертификата"
    )


@pytest.mark.parametrize(
    ("language", "text"),
    [(None, "Կտրոնը գոյություն չունի"), ("hy", "Կտրոնը գոյություն չունի"), ("en", "Receipt does not exist"),
     ("ru", "Чек не существует")],
)  # fmt: skip
def test_error_messages_follow_the_language_header(ready: Sim, language: str | None, text: str) -> None:
    assert _error(ready, "printCopy", {"crn": CRN, "receiptId": 999}, language=language)[2] == text


def test_error_status_is_configurable(tmp_path: Path) -> None:
    s = make(tmp_path, error_status=400)
    status, body = s.raw("printCopy", json.dumps({"crn": CRN, "receiptId": 1}).encode())
    assert status == 400 and body["code"] == 196
    s.state.close()


def test_increasing_policy_accepts_gaps_and_refuses_repeats(ready: Sim) -> None:
    ready.ok("printCopy", {"crn": CRN, "seq": 10, "receiptId": 1})
    ready.ok("printCopy", {"crn": CRN, "seq": 15, "receiptId": 1})
    assert _error(ready, "printCopy", {"crn": CRN, "seq": 15, "receiptId": 1})[0] == 104


def test_strict_policy_wants_previous_plus_one(tmp_path: Path) -> None:
    s = make(tmp_path, seq_policy="strict")
    s.ok("activate", {"crn": CRN})
    s.ok("configureDepartments", {"crn": CRN, "seq": 7, "departments": [{"dep": 1, "taxRegime": 1}]})
    assert _error(s, "printCopy", {"crn": CRN, "seq": 9, "receiptId": 1})[0] == 104
    s.ok("printCopy", {"crn": CRN, "seq": 8, "receiptId": 1})
    s.state.close()


def test_seq_is_consumed_only_by_requests_that_pass_the_seq_check(ready: Sim) -> None:
    ready.ok("printCopy", {"crn": CRN, "seq": 1, "receiptId": 1})
    assert _error(ready, "print", sale(seq=2, mode=7))[0] == 198  # before the seq check
    assert (ready.state.summary(CRN) or {})["lastSeq"] == 1
    assert _error(ready, "print", sale(seq=2, cashAmount=1))[0] == 152  # after it
    assert (ready.state.summary(CRN) or {})["lastSeq"] == 2


def test_seq_can_be_required(tmp_path: Path) -> None:
    s = make(tmp_path, require_seq=True)
    s.ok("activate", {"crn": CRN})
    assert _error(s, "configureDepartments", {"crn": CRN, "departments": [{"dep": 1, "taxRegime": 1}]})[0] == 197
    s.state.close()


def test_state_survives_a_restart(tmp_path: Path) -> None:
    s = make(tmp_path)
    s.ok("activate", {"crn": CRN})
    s.ok("configureDepartments", {"crn": CRN, "seq": 1, "departments": [{"dep": 1, "taxRegime": 1}]})
    receipt = s.ok("print", MANUAL_PRINT)
    s.state.close()
    again = Sim(Simulator(SandboxState(tmp_path / "state")))
    assert again.ok("printCopy", {"crn": CRN, "seq": 3, "receiptId": 8}) == receipt
    assert _error(again, "printCopy", {"crn": CRN, "seq": 3, "receiptId": 8})[0] == 104
    again.state.close()


def _stored_numbers(text: str) -> list[str]:
    """Every JSON number with a fraction in a stored text (there must be none: amounts are strings)."""
    found: list[str] = []
    json.loads(text, parse_float=lambda literal: found.append(literal) or Decimal(literal))
    return found


def test_sandbox_amounts_and_quantities_are_stored_as_exact_decimal_strings_never_real(ready: Sim) -> None:
    price, quantity = "12345678901234.57", "1.234"  # more digits than a float holds
    ready.ok("print", sale(cashAmount=0, cardAmount="15234567764123.46",
                           items=[line(price=price, quantity=quantity)]))  # fmt: skip
    with ready.state.transaction() as conn:
        row = conn.execute(
            "SELECT typeof(info) AS kind, info, response, returned FROM receipts WHERE crn = ? AND kind = 'sale'"
            " ORDER BY receipt_id DESC LIMIT 1",
            (CRN,),
        ).fetchone()
        real_columns = conn.execute(
            "SELECT COUNT(*) FROM pragma_table_list t, pragma_table_info(t.name) c"
            " WHERE t.schema = 'main' AND upper(c.type) IN ('REAL', 'FLOAT', 'DOUBLE', 'NUMERIC')"
        ).fetchone()[0]
    assert row["kind"] == "text" and real_columns == 0
    for text in (row["info"], row["response"], row["returned"]):
        assert _stored_numbers(text) == []
    info = json.loads(row["info"])
    (item,) = info["items"]
    assert (item["price"], item["quantity"]) == (price, quantity)
    assert info["cardAmount"] == "15234567764123.46" and info["totalAmount"] == item["totalWithTaxes"]
    assert Decimal(item["totalWithTaxes"]) == Decimal("15234567764123.46")


def test_sandbox_to_json_refuses_a_float() -> None:
    with pytest.raises(TypeError, match="float"):
        to_json({"amount": 1.5})
    assert to_json({"amount": [Decimal("1.50")]}) == '{"amount": ["1.50"]}'


def test_sandbox_stored_json_with_number_literals_reads_back_as_exact_decimals() -> None:
    assert from_json('{"total": 9999999999999999.99, "n": 3}') == {"total": Decimal("9999999999999999.99"), "n": 3}
