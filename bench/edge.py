"""The edge alone: ``python -m bench.edge [LABEL=SRC_DIR ...]``.

Serves a fresh SQLite database with ``openvcr serve`` (1 worker, no rate limit) and drives ``GET /healthz`` and
``GET /api/v1/whoami`` with the bench's load generator (``BENCH_CONCURRENCY`` keep-alive clients, default 8, for
``BENCH_DURATION`` seconds, default 10), for each source tree given (default: this checkout's ``src``) in turn,
``BENCH_ROUNDS`` times (default 2), so that a before/after comparison shares one run and one machine state:

    git archive <before> src | tar -x -C /tmp/before
    python -m bench.edge before=/tmp/before/src after=src

Prints one line per measurement and, last, a JSON summary (the median req/s and p99 of each label and path).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import processes
from bench.run import load

PATHS = ("/healthz", "/api/v1/whoami")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def measure(label: str, src: Path, work: Path, duration: int, concurrency: int) -> dict[str, dict[str, Any]]:
    run_dir = work / label
    run_dir.mkdir(parents=True, exist_ok=True)
    env = processes.openvcr_env(run_dir / "sandbox", PYTHONPATH=str(src.resolve()))
    database = f"sqlite:///{run_dir / 'edge.db'}"
    key = processes.cli_json(["init", "--database", database, "--json"], env)["apiKey"]
    results: dict[str, dict[str, Any]] = {}
    with processes.serve(database, env, run_dir / "serve.log", workers=1) as base:
        host, port = base.split("://", 1)[1].split(":")
        for path in PATHS:
            spec = {
                "host": host,
                "port": int(port),
                "duration": duration,
                "concurrency": concurrency,
                "requests": [{"method": "GET", "path": path, "headers": {"X-API-KEY": key}}],
                "warmup": 2.0,
            }
            result = load(run_dir, path.strip("/").replace("/", "-"), spec)
            results[path] = result
            print(
                f"  {label:<10} {path:<16} {result['rps']:>8.1f} req/s  p50 {result['p50_ms']:>6.1f}  "
                f"p99 {result['p99_ms']:>6.1f} ms  errors {result['errors']}",
                flush=True,
            )
    return results


def main(argv: list[str]) -> int:
    trees = [a.split("=", 1) for a in argv] or [["this", str(Path(__file__).resolve().parent.parent / "src")]]
    duration = _env_int("BENCH_DURATION", 10)
    concurrency = _env_int("BENCH_CONCURRENCY", 8)
    rounds = _env_int("BENCH_ROUNDS", 2)
    print(f"edge: 1 worker, SQLite, {concurrency} keep-alive clients, {duration} s a path, {rounds} rounds", flush=True)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {label: {p: [] for p in PATHS} for label, _ in trees}
    with tempfile.TemporaryDirectory(prefix="openvcr-edge-") as tmp:
        for n in range(rounds):
            for label, src in trees:
                measured = measure(label, Path(src), Path(tmp) / f"{label}-{n}", duration, concurrency)
                for path, result in measured.items():
                    runs[label][path].append(result)
    summary = {
        label: {
            path: {
                "rps": round(statistics.median(r["rps"] for r in results), 1),
                "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 1),
                "errors": sum(r["errors"] for r in results),
            }
            for path, results in by_path.items()
        }
        for label, by_path in runs.items()
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
