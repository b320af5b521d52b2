"""The bench's references: what the naive service accepts, its canonical bytes, and the summary's ratios."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from bench import naive, reference, workload
from bench.run import LATENCY_STEPS, ratio, summarize
from pydantic import ValidationError

REFS = workload.RegisterRefs(register_id=7, api_key="k", cashier_id=3, departments=(11, 12))


def test_the_naive_service_accepts_every_sale_the_sales_scenario_sends() -> None:
    for request in workload.sale_requests(REFS, 500, seed=1):
        sale = naive.Sale.model_validate_json(request["body"])
        assert orjson.loads(naive.sale_bytes(sale)) == orjson.loads(request["body"])


def test_the_naive_service_refuses_a_sale_with_no_way_to_pay() -> None:
    with pytest.raises(ValidationError):
        naive.Sale.model_validate_json(
            '{"cashier":{"id":1},"items":[{"offer":{"externalId":"A"},"department":{"id":1},'
            '"quantity":"1","price":"1","unit":"pc"}]}'
        )


def test_receipt_bytes_are_sorted_key_json() -> None:
    sale = naive.Sale.model_validate_json(workload.sale_requests(REFS, 1, seed=3)[0]["body"])
    data = naive.receipt_bytes(7, 42, naive.sale_bytes(sale))
    assert data == orjson.dumps(orjson.loads(data), option=orjson.OPT_SORT_KEYS)
    assert orjson.loads(data)["number"] == 42
    assert orjson.loads(data)["register"] == 7


def test_ratio() -> None:
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(1.0, 3.0) == 0.3333
    assert ratio(None, 10.0) is None
    assert ratio(10.0, 0.0) is None
    assert ratio(10.0, None) is None


def test_raw_verify_rate_counts_verifications() -> None:
    assert reference.raw_verify_rate(0.01) > 0


def _rps(value: float, **extra: Any) -> dict[str, Any]:
    return {"rps": value, "p99_ms": 10.0, **extra}


def _results(with_postgres: bool) -> dict[str, Any]:
    results: dict[str, Any] = {
        "ok": True,
        "sqlite": {
            "workers2": {
                "whoami": _rps(800.0),
                "sales": _rps(80.0),
                "sales_ratio": 0.1,
                "vsdc": _rps(160.0),
                "vsdc_ratio": 0.2,
            },
            "verify": {"eps": 11000.0, "raw_eps": 13750.0},
            "reference": {"floor": _rps(4000.0), "naive": _rps(1600.0)},
        },
        "latency": {f"registers{count}": _rps(10.0 * count) for count, _ in LATENCY_STEPS},
    }
    if with_postgres:
        results["postgres"] = {
            "workers2": {"whoami": _rps(500.0), "sales": _rps(50.0), "sales_ratio": 0.1},
            "verify": {"eps": 10000.0, "raw_eps": 13000.0},
            "reference": {"naive": _rps(1000.0)},
        }
    return results


def test_the_summary_has_the_references_and_the_ratios() -> None:
    summary = summarize(_results(with_postgres=True))

    assert summary["floor_rps"] == 4000.0
    assert summary["naive_rps"] == 1600.0
    assert summary["pg_naive_rps"] == 1000.0
    assert summary["pg_sales_rps"] == 50.0
    assert summary["verify_raw_eps"] == 13750.0
    assert summary["whoami_floor_ratio"] == 0.2
    assert summary["sales_naive_ratio"] == 0.05
    assert summary["vsdc_naive_ratio"] == 0.1
    assert summary["pg_sales_naive_ratio"] == 0.05
    assert summary["verify_raw_ratio"] == 0.8
    assert summary["latency_sales_rps_16r"] == 160.0
    assert summary["latency_sales_rps_64r"] == 640.0
    for key in ("sales_rps", "whoami_rps", "sales_ratio", "sales_p99_ms", "vsdc_rps", "vsdc_ratio", "verify_eps"):
        assert key in summary
    assert list(summary)[-1] == "ok"


def test_a_reference_not_measured_leaves_its_figures_null() -> None:
    summary = summarize(_results(with_postgres=False))

    assert summary["pg_naive_rps"] is None
    assert summary["pg_sales_rps"] is None
    assert summary["pg_sales_naive_ratio"] is None
    assert summary["sales_naive_ratio"] == 0.05
