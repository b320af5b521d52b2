"""Absurd sales and prepayments are 400s naming the field and the limit, and each writes nothing: no document,
no journal entry, no counter moved, nothing at SRC. Limits are per register (``openvcr.core.limits``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from openvcr.registers.repository import register_limits, set_limits
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import offers
from openvcr.store.schema.sales import sale_refunds
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import (
    count,
    post_prepayment,
    post_sale,
    prepay,
    prepayment_body,
    sale_body,
    side_effects,
)


def everything(api: Api) -> dict[str, int]:
    return {
        **side_effects(api),
        "document rows": count(api, documents),
        "offers": count(api, offers),
        "sale refunds": count(api, sale_refunds),
    }


def assert_refused(response: Any, path: list[str | int], *words: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body = dict(response.json())
    assert body["error"] and body["requestId"] == response.headers["X-Request-Id"]
    assert [issue["path"] for issue in body["issues"]] == [path], body
    for word in words:
        assert word in body["issues"][0]["message"], body
    return body


NUMBER = "<1e+30>"  # sent as the bare JSON number 1e+30


def post_raw(api: Api, body: dict[str, Any], **headers: str) -> Any:
    content = json.dumps(body).replace(f'"{NUMBER}"', "1e+30")
    return api.client.post(
        "/api/v1/sales",
        content=content,
        headers={**api.headers, **headers, "Content-Type": "application/json"},
    )


def sale(**fields: Any) -> dict[str, Any]:
    """A one-line sale; ``fields`` override the item (price, quantity) or the payment (amount)."""
    body = sale_body()
    amount = fields.pop("amount", None)
    body["items"][0].update(fields)
    body["amount"] = amount or {"nonCash": "4000"}
    return body


ABSURD_SALES = {
    "price 10^20": (sale(price="100000000000000000000", amount={"nonCash": "1"}), ["items", 0, "price"], "at most"),
    "price 10^15": (sale(price="1000000000000000", amount={"nonCash": "1"}), ["items", 0, "price"], "at most"),
    "price 1e+30 as a JSON number": (sale(price=NUMBER), ["items", 0, "price"], "at most"),
    "price above the register's limit": (
        sale(price="100000000.01", amount={"nonCash": "100000000.01"}),
        ["items", 0, "price"],
        "100000000 AMD",
    ),
    "quantity 10^12": (sale(quantity="1000000000000"), ["items", 0, "quantity"], "at most"),
    "quantity above the register's limit": (sale(quantity="1000000.001"), ["items", 0, "quantity"], "1000000"),
    "cash 10^20 on a 4000 sale": (sale(amount={"cash": "100000000000000000000"}), ["amount", "cash"], "at most"),
    "change above the total and the change limit": (
        sale(amount={"cash": "104000.01"}),
        ["amount", "cash"],
        "change",
        "100000 AMD",
    ),
    "total above the register's limit": (
        sale(price="100000000", quantity="11", amount={"nonCash": "1100000000"}),
        ["items"],
        "1000000000 AMD",
    ),
    "discount 10^20": (
        sale(discounts={"base": {"type": "total", "value": "100000000000000000000"}}),
        ["items", 0, "discounts", "base", "value"],
        "at most",
    ),
    "tolerance 10^20": (sale(totalAmountTolerance="1e20"), ["items", 0, "totalAmountTolerance"], ""),
}


def test_an_absurd_sale_is_a_400_naming_the_field_and_writes_nothing(api: Api) -> None:
    for case, (body, path, *words) in ABSURD_SALES.items():
        before = everything(api)
        assert_refused(post_raw(api, body, **{"Idempotency-Key": f"absurd-{case}"}), path, *words)
        assert everything(api) == before, case
    # No key was spent: the corrected body may reuse it.
    fixed = post_sale(api, sale(), **{"Idempotency-Key": f"absurd-{next(iter(ABSURD_SALES))}"})
    assert fixed.status_code == 200, fixed.text


def test_a_large_note_for_a_small_sale_is_change_not_a_typing_error(api: Api) -> None:
    small = sale(price="100", amount={"cash": "20000"})  # a 20 000 note for a 100 AMD coffee
    assert post_sale(api, small).status_code == 200
    large = sale(price="600000", amount={"cash": "1000000"})  # change 400 000: more than the limit, less than the total
    assert post_sale(api, large).status_code == 200
    at_limit = sale(price="100", amount={"cash": "100100"})  # change exactly the limit
    assert post_sale(api, at_limit).status_code == 200


def test_an_absurd_prepayment_is_a_400_and_writes_nothing(api: Api) -> None:
    before = everything(api)
    for amount, path, word in (
        ({"cash": "100000000000000000000"}, ["amount", "cash"], "at most"),
        ({"nonCash": "99999999999999999999999"}, ["amount", "nonCash"], "at most"),
        ({"cash": "600000000", "nonCash": "400000000.01"}, ["amount"], "1000000000 AMD"),
    ):
        body = prepayment_body()
        body["amount"] = amount
        assert_refused(post_prepayment(api, body), path, word)
    assert everything(api) == before


def test_limits_are_per_register_and_default_when_unset(api: Api) -> None:
    register = api.init.register_id
    with api.db.write() as conn:
        assert register_limits(conn, register).max_unit_price == Decimal("100000000.00")
        chosen = set_limits(conn, register, {"max_unit_price": Decimal("500000000"), "max_prepayment": Decimal("100")})
    assert chosen.max_unit_price == Decimal("500000000.00") and chosen.max_sale_total == Decimal("1000000000.00")
    car = sale(price="450000000", amount={"nonCash": "450000000"})
    assert post_sale(api, car).status_code == 200
    before = everything(api)
    assert_refused(post_prepayment(api, prepayment_body(cash="100.01")), ["amount"], "100 AMD")
    assert everything(api) == before
    prepay(api, cash="100")
    with api.db.write() as conn:
        back = set_limits(conn, register, {"max_unit_price": None})
    assert back.max_unit_price == Decimal("100000000.00") and back.max_prepayment == Decimal("100.00")
    assert_refused(post_sale(api, car), ["items", 0, "price"], "100000000 AMD")


@pytest.mark.parametrize(
    "values",
    [{"max_unit_price": Decimal(0)}, {"max_change": Decimal("1E+20")}, {"max_quantity": Decimal("-1")}],
)
def test_a_limit_outside_its_bounds_is_refused_and_changes_nothing(api: Api, values: dict[str, Decimal]) -> None:
    with api.db.write() as conn:
        before = register_limits(conn, api.init.register_id)
    with pytest.raises(ValueError, match="must be a number above 0"), api.db.write() as conn:
        set_limits(conn, api.init.register_id, dict(values))
    with api.db.read() as conn:
        assert register_limits(conn, api.init.register_id) == before


def test_the_registers_update_command_sets_and_resets_limits(api: Api) -> None:
    from typer.testing import CliRunner

    from openvcr.cli import app

    runner = CliRunner()
    register = str(api.init.register_id)
    url = api.db.url
    done = runner.invoke(app, ["registers", "update", register, "--max-change", "5000", "--database", url])
    assert done.exit_code == 0, done.output
    assert "change ≤ 5000.00 AMD" in done.output
    listed = runner.invoke(app, ["registers", "list", "--json", "--database", url])
    (row,) = [r for r in json.loads(listed.output) if r["id"] == api.init.register_id]
    assert row["limits"]["maxChange"] == "5000.00" and row["limits"]["maxUnitPrice"] == "100000000.00"
    before = everything(api)
    assert_refused(post_sale(api, sale(price="100", amount={"cash": "5100.01"})), ["amount", "cash"], "5000 AMD")
    assert everything(api) == before
    for bad in ("0", "abc", "1e20"):
        refused = runner.invoke(app, ["registers", "update", register, "--max-change", bad, "--database", url])
        assert refused.exit_code == 2, (bad, refused.output)
    reset = runner.invoke(app, ["registers", "update", register, "--max-change", "default", "--database", url])
    assert reset.exit_code == 0, reset.output
    with api.db.read() as conn:
        assert register_limits(conn, api.init.register_id).max_change == Decimal("100000.00")
