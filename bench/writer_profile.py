"""Where a sale's time goes, in-process: ``python -m bench.writer_profile [SALES]``.

Serves the app in-process (Starlette's test client, a SQLite file or, with ``BENCH_BACKENDS=postgres``, a
fresh PostgreSQL database; the embedded SRC sandbox), creates the bench
catalogue, then runs ``SALES`` (default 300) of the bench's sales one after another and reports, per sale:
the wall time, the process CPU time, and the group writer's CPU and wall time (``GroupCommit._run_batch``;
the writer is the part that is serialized across workers on SQLite). A second pass runs the same number of
sales with cProfile on the writer thread only and lists its functions by own time. Writes
``docs/profiles/writer-<sha>.txt``. Sequential sales make no batches: this is the cost per document, not the
throughput (``python -m bench`` measures that).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from bench import processes, workload
from bench.registers import refs_of

DOCS = Path(__file__).resolve().parent.parent / "docs" / "profiles"


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 300
    work = Path(tempfile.mkdtemp(prefix="openvcr-writer-"))
    admin = processes.postgres_admin_url() if os.environ.get("BENCH_BACKENDS") == "postgres" else None
    url = processes.create_postgres_database(admin) if admin else f"sqlite:///{work / 'writer.db'}"
    env = processes.openvcr_env(work / "sandbox")
    os.environ.update(env)
    init = processes.cli_json(["init", "--database", url, "--json"], env)
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

    from openvcr.api.app import create_app
    from openvcr.config import Settings
    from openvcr.store.db import Database
    from openvcr.store.group import GroupCommit

    db = Database(url)
    refs = refs_of(db, int(init["vcrId"]), init["apiKey"], int(init["cashier"]["id"]))
    app = create_app(Settings(database_url=url), db=db)
    spent = {"cpu": 0.0, "wall": 0.0}
    profiler: cProfile.Profile | None = None
    run_batch = GroupCommit._run_batch

    def measured(self: GroupCommit, batch: Any) -> None:
        cpu, wall = time.thread_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            run_batch(self, batch)
        finally:
            if profiler is not None:
                profiler.disable()
            spent["cpu"] += time.thread_time() - cpu
            spent["wall"] += time.perf_counter() - wall

    GroupCommit._run_batch = measured  # type: ignore[method-assign]
    sales = workload.sale_requests(refs, 2 * count + 20, seed=1)
    headers = {"X-API-KEY": refs.api_key}
    with TestClient(app) as client:

        def send(request: dict[str, Any]) -> None:
            answer = client.request(
                request["method"], request["path"], content=request["body"].encode(), headers=request["headers"]
            )
            assert answer.status_code == 200, answer.text

        client.post("/api/v1/sales", json=workload.catalogue_sale(refs), headers=headers)
        for n in range(workload.PREPAYMENT_BUYERS):
            client.post("/api/v1/prepayments", json=workload.prepayment(refs, n), headers=headers)
        for request in sales[:20]:
            send(request)
        spent.update(cpu=0.0, wall=0.0)
        started, cpu = time.perf_counter(), time.process_time()
        for request in sales[20 : 20 + count]:
            send(request)
        wall_ms = 1000 * (time.perf_counter() - started) / count
        cpu_ms = 1000 * (time.process_time() - cpu) / count
        writer_cpu, writer_wall = 1000 * spent["cpu"] / count, 1000 * spent["wall"] / count
        profiler = cProfile.Profile()
        for request in sales[20 + count :]:
            send(request)
    db.dispose()
    if admin:
        processes.drop_postgres_database(admin, url)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(40)
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    report = (
        f"{count} sequential sales in-process ({db.dialect}, embedded sandbox), per sale:\n"
        f"  wall {wall_ms:.2f} ms, process CPU {cpu_ms:.2f} ms (test client included)\n"
        f"  group writer: CPU {writer_cpu:.2f} ms, wall {writer_wall:.2f} ms (two transactions, fsync included)\n\n"
        f"The group writer under cProfile ({count} more sales), by own time:\n{text.getvalue()}"
    )
    DOCS.mkdir(parents=True, exist_ok=True)
    target = DOCS / f"writer-{'' if db.is_sqlite else 'pg-'}{sha}.txt"
    target.write_text(report)
    print(report[:600])
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
