"""Classifier search latency: builds the indexes once, then times a mix of queries.

Run: ``.venv/bin/python bench/classifier_bench.py [--rounds N]``. Prints the index build time and the
median / p99 / max time per query for each classifier. The target is under 5 ms a query.
"""

from __future__ import annotations

import argparse
import statistics
import time

from openvcr.catalog.classifier import search, warm_up

QUERIES = [
    ("coffee", "en"), ("սուրճ", "hy"), ("кофе", "ru"), ("cofee", "en"), ("кофэ", "ru"), ("0901", "en"),
    ("09", "en"), ("green tea", "en"), ("shoes", "en"), ("кроссовки", "ru"), ("co", "en"), ("a", "en"),
    ("electric kettle", "en"), ("conditoining", "en"), ("մանրածախ առևտուր", "hy"), ("торговля розничная", "ru"),
    ("restaurant", "en"), ("վարսավիր", "hy"), ("56.10", "en"), ("phone repair", "en"), ("zzzzqqqq", "en"),
    ("wholesale of food beverages and tobacco", "en"),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    started = time.perf_counter()
    warm_up()
    print(f"index build (both classifiers): {(time.perf_counter() - started) * 1000:.1f} ms")
    for kind in ("product", "service"):
        timings: list[float] = []
        for _ in range(rounds):
            for query, language in QUERIES:
                t0 = time.perf_counter()
                search(query, kind, language)  # type: ignore[arg-type]
                timings.append(time.perf_counter() - t0)
        timings.sort()
        p99 = timings[int(len(timings) * 0.99) - 1]
        print(
            f"{kind:8s} {len(timings)} queries: median {statistics.median(timings) * 1000:.3f} ms, "
            f"p99 {p99 * 1000:.3f} ms, max {timings[-1] * 1000:.3f} ms"
        )
    slowest = max(
        ((q, k) for q, _ in QUERIES for k in ("product", "service")),
        key=lambda qk: _time(*qk),
    )
    print(f"slowest query: {slowest}")


def _time(query: str, kind: str) -> float:
    t0 = time.perf_counter()
    for _ in range(20):
        search(query, kind, "en")  # type: ignore[arg-type]
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
