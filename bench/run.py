"""``python -m bench`` (``make bench``): OpenVCR's throughput and latency against its own ceiling, in one run.

For SQLite (always) and PostgreSQL (when one answers on 127.0.0.1:5432 or ``OPENVCR_TEST_POSTGRES_URL`` is
set), with 1 and with 2 uvicorn workers, a separate load-generator process (``bench.loadgen``) drives the
service on loopback for ``BENCH_DURATION`` seconds per scenario (default 20) with ``BENCH_CONCURRENCY``
keep-alive clients (default 32):

(a) ``GET /api/v1/whoami`` — the authenticated no-op: framework + auth ceiling;
(b) ``POST /api/v1/sales`` — varied real sales (``bench.workload``), registered with the embedded SRC sandbox;
(c) V-SDC invoices over mutual TLS (2-worker run; the V-SDC listener is its own process);
(d) ``openvcr verify`` on the journal the run produced;
(e) sales against an SRC sandbox run as a separate process with 50 ms of added latency, for 1, 4 and 16
    registers (``BENCH_CONCURRENCY`` clients) and 64 registers (128 clients) (SQLite, 2 workers);
(f) with ``BENCH_PRELOAD=N`` (default 0: off): after (a)–(c), N signed, chained sale entries are appended to
    the register's journal (``bench.preload``), and (a) and (b) run again with 2 workers against that journal;
    ``preload_ratio`` is the preloaded sales rate over the near-empty journal's rate of the same run.

(g) references, in the same run, 2 workers, the same load generator and clients: ``floor`` (``GET /ping`` of a
    minimal FastAPI app, once per run) and ``naive`` (the sales of (b) against the minimal receipt service of
    ``bench.naive``, on SQLite and on PostgreSQL), both served as ``openvcr serve`` serves OpenVCR
    (``bench.reference``); and one core's raw P-256 verify rate next to (d). The summary gives the ratios:
    ``whoami_floor_ratio``, ``sales_naive_ratio``, ``vsdc_naive_ratio``, ``pg_sales_naive_ratio``,
    ``verify_raw_ratio``.

Every acknowledged document is real. The run ends by verifying each journal (``openvcr verify``) and checking
that every 200 left exactly one document: distinct ids, and completed rows == 200s. A failed check makes the
exit status 1. Results go to ``bench/results/<date>-<git-sha>.json``; the last line printed is a JSON summary.

Environment: ``BENCH_DURATION``, ``BENCH_CONCURRENCY``, ``BENCH_BACKENDS`` (``sqlite,postgres``; default: both
when PostgreSQL is available; ``none`` runs only (e)), ``BENCH_SKIP`` (comma list of ``latency``, ``vsdc``,
``workers1``), ``BENCH_LATENCY_MS`` (default 50), ``BENCH_PRELOAD`` (default 0), ``BENCH_KEEP`` (keep the work
directory).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import processes, reference, workload
from bench.workload import RegisterRefs

RESULTS = Path(__file__).resolve().parent / "results"
# (e): (registers, clients); 0 clients = BENCH_CONCURRENCY
LATENCY_STEPS: tuple[tuple[int, int], ...] = ((1, 0), (4, 0), (16, 0), (64, 128))


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass
class Config:
    duration: int = field(default_factory=lambda: _env_int("BENCH_DURATION", 20))
    concurrency: int = field(default_factory=lambda: _env_int("BENCH_CONCURRENCY", 32))
    latency_ms: int = field(default_factory=lambda: _env_int("BENCH_LATENCY_MS", 50))
    preload: int = field(default_factory=lambda: _env_int("BENCH_PRELOAD", 0))
    skip: set[str] = field(
        default_factory=lambda: {s.strip() for s in os.environ.get("BENCH_SKIP", "").split(",") if s.strip()}
    )
    keep: bool = field(default_factory=lambda: bool(os.environ.get("BENCH_KEEP")))


def say(text: str) -> None:
    print(text, flush=True)


def load(work: Path, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator as its own process; return its result."""
    spec_path = work / f"{name}.spec.json"
    out_path = work / f"{name}.result.json"
    spec_path.write_text(json.dumps(spec))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", str(spec_path), str(out_path)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=spec["duration"] + spec.get("warmup", 1) + 600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr}")
    result = dict(json.loads(out_path.read_text()))
    result["wall_s"] = time.monotonic() - started
    return result


def spec_for(base: str, requests: list[dict[str, Any]], cfg: Config, **extra: Any) -> dict[str, Any]:
    host, port = base.split("://", 1)[1].split(":")
    return {
        "host": host,
        "port": int(port),
        "duration": cfg.duration,
        "concurrency": cfg.concurrency,
        "requests": requests,
        "warmup": 1.0,
        **extra,
    }


def line(name: str, r: dict[str, Any]) -> None:
    say(
        f"  {name:<34} {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:>7.1f}  p95 {r['p95_ms']:>7.1f}  "
        f"p99 {r['p99_ms']:>7.1f} ms  errors {r['errors']}  {r['statuses']}"
    )


def ids_of(bodies: list[str], key: str) -> list[Any]:
    return [json.loads(b)[key] for b in bodies]


@dataclass
class Backend:
    name: str
    url: str
    work: Path
    env: dict[str, str]
    refs: RegisterRefs | None = None
    sale_oks: int = 0  # every 200 of POST /sales, warm-up and tail included
    sale_ids: list[int] = field(default_factory=list)
    vsdc_oks: int = 0
    vsdc_ids: list[str] = field(default_factory=list)
    setup_sales: int = 0
    prepayments: int = 0
    preloaded: int = 0  # journal entries appended by the preload stage (no sale rows behind them)


def _http_post(base: str, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{base}{path}", json=body, headers={"X-API-KEY": key}, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"POST {path} → {answer.status_code}: {answer.text}")
    return dict(answer.json())


def seed_register(base: str, b: Backend, refs: RegisterRefs, with_prepayments: bool = True) -> None:
    """Create the catalogue's offers (one sale) and the buyers' prepayments of one register."""
    created = _http_post(base, refs.api_key, "/api/v1/sales", workload.catalogue_sale(refs))
    b.sale_ids.append(int(created["saleId"]))
    b.setup_sales += 1
    if with_prepayments:
        for n in range(workload.PREPAYMENT_BUYERS):
            _http_post(base, refs.api_key, "/api/v1/prepayments", workload.prepayment(refs, n))
            b.prepayments += 1


def setup_vsdc(b: Backend) -> dict[str, Any]:
    args = ["--database", b.url]
    processes.cli(["vsdc", "ca", "init", *args], b.env)
    processes.cli(
        [
            "vsdc",
            "taxpayer",
            "add",
            "--tin",
            workload.VSDC_TIN,
            "--name",
            "Bench",
            "--rates",
            "A=0,B=18,C=16,D=32",
            *args,
        ],
        b.env,
    )
    device = b.work / "device"
    processes.cli(
        ["vsdc", "device", "add", "--tin", workload.VSDC_TIN, "--mcr", workload.VSDC_MCR, "--out", str(device), *args],
        b.env,
    )
    cert = next(p for p in device.glob("*.pem") if p.name != "CA.pem")
    return {"ca": str(device / "CA.pem"), "cert": str(cert), "key": str(cert.with_suffix(".key"))}


def run_backend(b: Backend, cfg: Config, out: dict[str, Any], *, measure_floor: bool = True) -> None:
    init = processes.cli_json(["init", "--database", b.url, "--json"], b.env)
    from bench.registers import refs_of
    from openvcr.store.db import Database

    db = Database(b.url)
    b.refs = refs = refs_of(db, int(init["vcrId"]), init["apiKey"], int(init["cashier"]["id"]))
    tls = None if "vsdc" in cfg.skip else setup_vsdc(b)
    whoami = [workload.whoami_request(refs.api_key)]
    sales = workload.sale_requests(refs, 500, seed=1)
    log = b.work / "serve.log"
    worker_counts = [2] if "workers1" in cfg.skip else [1, 2]
    seeded = False
    for workers in worker_counts:
        vsdc_port = processes.free_port() if (tls and workers == 2) else None
        say(f"[{b.name}] {workers} worker(s)")
        with processes.serve(b.url, b.env, log, workers=workers, vsdc_port=vsdc_port) as base:
            if not seeded:
                seed_register(base, b, refs)
                seeded = True
            a = load(b.work, f"whoami-{workers}", spec_for(base, whoami, cfg))
            line("(a) GET /whoami", a)
            s = load(b.work, f"sales-{workers}", spec_for(base, sales, cfg, collect=True))
            b.sale_oks += s["all_statuses"].get("200", 0)
            b.sale_ids += ids_of(s.pop("bodies"), "saleId")
            line("(b) POST /sales", s)
            ratio = s["rps"] / a["rps"] if a["rps"] else 0.0
            say(f"  (b)/(a) = {ratio:.3f}")
            entry: dict[str, Any] = {"whoami": a, "sales": s, "sales_ratio": ratio}
            if vsdc_port is not None and tls is not None:
                invoices = workload.vsdc_requests("/merchant/invoice", 400, seed=2)
                c = load(
                    b.work,
                    "vsdc",
                    spec_for(f"https://127.0.0.1:{vsdc_port}", invoices, cfg, tls=tls, collect=True),
                )
                b.vsdc_oks += c["all_statuses"].get("200", 0)
                bodies = c.pop("bodies")
                b.vsdc_ids += [json.loads(x)["invoiceNumber"] for x in bodies]
                line("(c) V-SDC invoice (mutual TLS)", c)
                entry["vsdc"] = c
                entry["vsdc_ratio"] = c["rps"] / a["rps"] if a["rps"] else 0.0
                say(f"  (c)/(a) = {entry['vsdc_ratio']:.3f}")
            out[f"workers{workers}"] = entry
    out["reference"] = run_references(b, cfg, sales, floor=measure_floor)
    if cfg.preload > 0:
        out["preload"] = run_preloaded(b, db, cfg, sales, out["workers2"]["sales"]["rps"], tls is not None)
    out["verify"] = verify(b, db)
    out["checks"] = check_documents(b, db)
    db.dispose()


def run_references(b: Backend, cfg: Config, sales: list[dict[str, Any]], *, floor: bool) -> dict[str, Any]:
    """The references, right after (a)–(c), 2 workers, the same load generator and clients as (b).

    ``floor``: ``GET /ping`` of a minimal FastAPI app. ``naive``: the sales of (b), byte for byte, against the
    naive receipt service (``bench.naive``) on its own database of the same backend; every 200 must have left
    exactly one signed receipt.
    """
    from bench import naive

    assert b.refs is not None
    result: dict[str, Any] = {}
    log = b.work / "reference.log"
    say(f"[{b.name}] references, 2 workers")
    if floor:
        with processes.reference("floor", b.env, log, workers=2) as base:
            f = load(b.work, "floor", spec_for(base, [reference.floor_request()], cfg))
        line("floor: GET /ping (minimal FastAPI)", f)
        result["floor"] = f
    admin = processes.postgres_admin_url() if b.name == "postgres" else None
    url = processes.create_postgres_database(admin) if admin else f"sqlite:///{b.work / 'naive.db'}"
    try:
        naive.setup(url, [b.refs.api_key])
        env = {**b.env, "NAIVE_DATABASE_URL": url}
        with processes.reference("naive", env, log, workers=2) as base:
            n = load(b.work, "naive", spec_for(base, sales, cfg, collect=True))
        numbers = ids_of(n.pop("bodies"), "number")
        left = naive.stored(url)
    finally:
        if admin:
            processes.drop_postgres_database(admin, url)
    oks = n["all_statuses"].get("200", 0)
    n["checks"] = checks = {
        "naive_200": oks,
        "receipts": left.receipts,
        "numbers_distinct": len(set(numbers)) == len(numbers) == left.distinct_numbers,
        "counter": left.counters_total,
        "signatures_checked_valid": left.signatures_valid,
        "ok": oks == left.receipts == left.counters_total == left.distinct_numbers
        and len(set(numbers)) == len(numbers) == oks
        and left.signatures_valid == min(50, oks),
    }
    line("naive: POST /sales (minimal service)", n)
    say(
        f"  naive check: {oks} 200s ↔ {left.receipts} receipts, counter {left.counters_total}, "
        f"{left.signatures_valid} signatures checked: {'OK' if checks['ok'] else 'MISMATCH'}"
    )
    result["naive"] = n
    return result


def run_preloaded(
    b: Backend, db: Any, cfg: Config, sales: list[dict[str, Any]], empty_rps: float, with_vsdc: bool
) -> dict[str, Any]:
    """(f): append ``cfg.preload`` journal entries, then (a) and (b) again with 2 workers; compare with (b)."""
    from bench.preload import preload_journal
    from openvcr.config import DEV_MASTER_KEY
    from openvcr.registers.export import count_entries

    assert b.refs is not None
    before = count_entries(db, None)
    say(f"[{b.name}] preloading {cfg.preload:,} journal entries ({before:,} already there)")

    def progress(done: int, seconds: float) -> None:
        if done % 100_000 == 0 or done == cfg.preload:
            say(f"  preload: {done:,} entries in {seconds:.0f} s ({done / seconds:.0f}/s)")

    stage = preload_journal(
        db,
        b.refs.register_id,
        cfg.preload,
        master_key=b.env.get("OPENVCR_MASTER_KEY", DEV_MASTER_KEY),
        cashier_id=b.refs.cashier_id,
        progress=progress,
    )
    b.preloaded += stage["entries"]
    started = time.perf_counter()
    os.sync()  # the preload's own writeback must not compete with the fsyncs of the sales measured next
    stage["sync_s"] = time.perf_counter() - started
    stage["journal_entries_at_start"] = count_entries(db, None)
    vsdc_port = processes.free_port() if with_vsdc else None  # the same processes as the empty-journal run
    say(f"[{b.name}] 2 workers, {stage['journal_entries_at_start']:,} journal entries")
    with processes.serve(b.url, b.env, b.work / "serve.log", workers=2, vsdc_port=vsdc_port) as base:
        a = load(b.work, "whoami-preloaded", spec_for(base, [workload.whoami_request(b.refs.api_key)], cfg))
        line("(a) GET /whoami, preloaded", a)
        s = load(b.work, "sales-preloaded", spec_for(base, sales, cfg, collect=True))
        b.sale_oks += s["all_statuses"].get("200", 0)
        b.sale_ids += ids_of(s.pop("bodies"), "saleId")
        line("(b) POST /sales, preloaded", s)
    stage["whoami"] = a
    stage["sales"] = s
    stage["sales_ratio"] = s["rps"] / a["rps"] if a["rps"] else 0.0
    stage["preload_ratio"] = s["rps"] / empty_rps if empty_rps else 0.0
    say(
        f"  (f) preloaded/empty sales rate = {s['rps']:.1f} / {empty_rps:.1f} = {stage['preload_ratio']:.3f}; "
        f"(b)/(a) preloaded = {stage['sales_ratio']:.3f}"
    )
    return stage


def verify(b: Backend, db: Any) -> dict[str, Any]:
    """(d): ``openvcr verify`` (the command, timed whole) and ``verify_database`` (timed in-process)."""
    from openvcr.registers.export import count_entries, verify_database

    entries = count_entries(db, None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "openvcr", "verify", "--database", b.url],
        env=b.env,
        capture_output=True,
        text=True,
        check=False,
    )
    cli_s = time.perf_counter() - started
    started = time.perf_counter()
    report = verify_database(db)
    inproc_s = time.perf_counter() - started
    raw_eps = reference.raw_verify_rate(1.0)
    result = {
        "entries": entries,
        "valid": done.returncode == 0,
        "cli_s": cli_s,
        "cli_eps": entries / cli_s,
        "eps": report.entries / inproc_s,
        "raw_eps": raw_eps,
        "output": done.stdout[-300:] + done.stderr[-300:],
    }
    say(
        f"  (d) openvcr verify: {entries} entries, {'VALID' if result['valid'] else 'NOT VALID'}, "
        f"{result['eps']:.0f} entries/s (in-process), {cli_s:.2f} s for the whole command; "
        f"raw P-256 verify {raw_eps:.0f}/s on one core"
    )
    return result


def check_documents(b: Backend, db: Any) -> dict[str, Any]:
    """Every 200 left exactly one document: distinct ids; completed rows == 200s; journal == documents."""
    from openvcr.store.schema.documents import documents
    from openvcr.store.schema.journal import journal_entries

    def count(kind: str, *states: str) -> int:
        query = select(func.count()).where(documents.c.kind == kind, documents.c.state.in_(states))
        return int(conn.execute(query).scalar_one())

    with db.read() as conn:
        completed = count("sale", "completed")
        pending = count("sale", "pending", "sent", "in_doubt", "deferred")
        prepaid = count("prepayment", "completed")
        journal = int(conn.execute(select(func.count()).select_from(journal_entries)).scalar_one())
        vsdc_journal = int(
            conn.execute(select(func.count()).where(journal_entries.c.doc_type.like("vsdc%"))).scalar_one()
        )
    distinct = len(set(b.sale_ids)) == len(b.sale_ids)
    vsdc_distinct = len(set(b.vsdc_ids)) == len(b.vsdc_ids)
    acknowledged = b.sale_oks + b.setup_sales
    ok = (
        distinct
        and vsdc_distinct
        and completed == acknowledged
        and pending == 0
        and prepaid == b.prepayments
        and vsdc_journal == b.vsdc_oks
        and journal == completed + prepaid + b.vsdc_oks + b.preloaded
    )
    result = {
        "sales_200": acknowledged,
        "sales_completed": completed,
        "sales_pending": pending,
        "sale_ids_distinct": distinct,
        "prepayments": prepaid,
        "vsdc_200": b.vsdc_oks,
        "vsdc_journal": vsdc_journal,
        "vsdc_ids_distinct": vsdc_distinct,
        "journal_entries": journal,
        "preloaded_entries": b.preloaded,
        "ok": ok,
    }
    say(
        f"  check: {acknowledged} sale 200s ↔ {completed} completed sales ({pending} pending), "
        f"{b.vsdc_oks} V-SDC 200s ↔ {vsdc_journal} journal entries, {journal} journal entries in all "
        f"({b.preloaded} preloaded): "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    return result


def run_latency(work: Path, cfg: Config, out: dict[str, Any]) -> None:
    """(e): sales against a separate sandbox process with added latency, 1 to 64 registers, 2 workers."""
    from bench.registers import add_register, refs_of
    from openvcr.authority.factory import build_gateway
    from openvcr.authority.service import SrcService
    from openvcr.config import Settings
    from openvcr.store.db import Database

    state = work / "remote-sandbox"
    url = f"sqlite:///{work / 'latency.db'}"
    log = work / "latency.log"
    say(f"[sqlite] sales against a separate SRC sandbox with {cfg.latency_ms} ms latency")
    with processes.sandbox(state, processes.openvcr_env(work / "unused"), log, latency_ms=cfg.latency_ms) as src_url:
        env = processes.openvcr_env(work / "unused", OPENVCR_SRC_MODE="remote", OPENVCR_SRC_URL=src_url)
        init = processes.cli_json(["init", "--database", url, "--json"], env)
        db = Database(url)
        settings = Settings(database_url=url, src_mode="remote", src_url=src_url)
        src = SrcService(db, build_gateway(settings), settings)
        registers = [refs_of(db, int(init["vcrId"]), init["apiKey"], int(init["cashier"]["id"]))]
        for n in range(1, max(count for count, _ in LATENCY_STEPS)):
            registers.append(add_register(db, settings, src, f"R{n}"))
        b = Backend("latency", url, work, env)
        with processes.serve(url, env, log, workers=2) as base:
            for refs in registers:
                seed_register(base, b, refs, with_prepayments=False)
            requests: list[dict[str, Any]] = []
            groups: list[list[int]] = []
            for i, refs in enumerate(registers):
                batch = workload.sale_requests(refs, 50, seed=100 + i, with_prepayments=False)
                groups.append(list(range(len(requests), len(requests) + len(batch))))
                requests += batch
            for count, clients in LATENCY_STEPS:
                spec = spec_for(base, requests, cfg, client_groups=groups[:count], collect=True, timeout=120)
                spec["concurrency"] = clients or cfg.concurrency
                r = load(work, f"latency-{count}", spec)
                b.sale_oks += r["all_statuses"].get("200", 0)
                b.sale_ids += ids_of(r.pop("bodies"), "saleId")
                line(f"(e) sales, {count} register(s), {spec['concurrency']} clients", r)
                out[f"registers{count}"] = r
        out["verify"] = verify(b, db)
        out["checks"] = check_documents(b, db)
        db.dispose()


def git_sha() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                info["cpu"] = text.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gib"] = round(int(mem) / 1024 / 1024, 1)
    except OSError:
        pass
    return info


def main() -> int:
    cfg = Config()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="openvcr-bench-"))
    admin = processes.postgres_admin_url()
    wanted = os.environ.get("BENCH_BACKENDS")
    backends = (
        [x.strip() for x in wanted.split(",") if x.strip() not in ("", "none")]
        if wanted
        else ["sqlite", *(["postgres"] if admin else [])]
    )
    say(
        f"OpenVCR bench: {cfg.duration} s per scenario, {cfg.concurrency} clients, backends {', '.join(backends)}; "
        f"work directory {work}"
    )
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_sha(),
        "machine": machine(),
        "duration_s": cfg.duration,
        "concurrency": cfg.concurrency,
    }
    all_ok = True
    floor_measured = False
    try:
        for name in backends:
            out: dict[str, Any] = {}
            results[name] = out
            path = work / name
            path.mkdir()
            pg_url = None
            if name == "sqlite":
                url = f"sqlite:///{path / 'bench.db'}"
            else:
                if admin is None:
                    say("[postgres] no PostgreSQL server: skipped")
                    continue
                url = pg_url = processes.create_postgres_database(admin)
            say(f"[{name}] {url}")
            env = processes.openvcr_env(path / "sandbox")
            try:
                run_backend(Backend(name, url, path, env), cfg, out, measure_floor=not floor_measured)
                floor_measured = True
            finally:
                if pg_url is not None and admin is not None:
                    processes.drop_postgres_database(admin, pg_url)
            all_ok = all_ok and out["checks"]["ok"] and out["verify"]["valid"]
            all_ok = all_ok and out["reference"]["naive"]["checks"]["ok"]
        if "latency" not in cfg.skip:
            latency: dict[str, Any] = {"latency_ms": cfg.latency_ms}
            results["latency"] = latency
            (work / "latency").mkdir()
            run_latency(work / "latency", cfg, latency)
            all_ok = all_ok and latency["checks"]["ok"] and latency["verify"]["valid"]
    finally:
        if not cfg.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    results["ok"] = all_ok
    summary = summarize(results)
    results["summary"] = summary
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"{datetime.now(UTC).strftime('%Y-%m-%d')}-{results['git']}.json"
    target.write_text(json.dumps(results, indent=2) + "\n")
    say(f"results: {target}  ({results['elapsed_s']} s)")
    print(json.dumps(summary), flush=True)
    return 0 if all_ok else 1


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` to 4 places; None when either side was not measured (or is 0)."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 4)


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    sqlite = results.get("sqlite", {})
    postgres = results.get("postgres", {})
    two = sqlite.get("workers2", {})
    summary: dict[str, Any] = {
        "sales_rps": round(two.get("sales", {}).get("rps", 0.0), 1),
        "whoami_rps": round(two.get("whoami", {}).get("rps", 0.0), 1),
        "sales_ratio": round(two.get("sales_ratio", 0.0), 4),
        "sales_p99_ms": round(two.get("sales", {}).get("p99_ms", 0.0), 2),
        "vsdc_rps": round(two.get("vsdc", {}).get("rps", 0.0), 1),
        "vsdc_ratio": round(two.get("vsdc_ratio", 0.0), 4),
        "verify_eps": round(sqlite.get("verify", {}).get("eps", 0.0), 1),
    }
    one = sqlite.get("workers1", {})
    if one:
        summary["sales_rps_1w"] = round(one["sales"]["rps"], 1)
        summary["whoami_rps_1w"] = round(one["whoami"]["rps"], 1)
    pg = postgres.get("workers2")
    if pg:
        summary["pg_sales_rps"] = round(pg["sales"]["rps"], 1)
        summary["pg_sales_ratio"] = round(pg["sales_ratio"], 4)
        summary["pg_sales_p99_ms"] = round(pg["sales"]["p99_ms"], 2)
    for prefix, backend in (("", sqlite), ("pg_", postgres)):
        stage = backend.get("preload")
        if stage:
            summary[f"{prefix}sales_rps_preloaded"] = round(stage["sales"]["rps"], 1)
            summary[f"{prefix}preload_entries"] = stage["entries"]
            summary[f"{prefix}preload_ratio"] = round(stage["preload_ratio"], 4)
    latency = results.get("latency", {})
    for count, _clients in LATENCY_STEPS:
        r = latency.get(f"registers{count}")
        if r:
            summary[f"latency_sales_rps_{count}r"] = round(r["rps"], 1)
    summary.update(reference_summary(results, summary))
    summary["ok"] = results.get("ok", False)
    return summary


def reference_summary(results: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The references' rates and OpenVCR's ratios to them; a figure that was not measured is None.

    ``floor_rps`` comes from the first backend that measured it (SQLite, unless skipped).
    """

    def rps(backend: str, name: str) -> float | None:
        r = results.get(backend, {}).get("reference", {}).get(name)
        return round(r["rps"], 1) if r else None

    floor = rps("sqlite", "floor") or rps("postgres", "floor")
    raw = results.get("sqlite", {}).get("verify", {}).get("raw_eps") or results.get("postgres", {}).get(
        "verify", {}
    ).get("raw_eps")
    refs: dict[str, Any] = {
        "floor_rps": floor,
        "naive_rps": rps("sqlite", "naive"),
        "pg_naive_rps": rps("postgres", "naive"),
        "pg_sales_rps": summary.get("pg_sales_rps"),
        "verify_raw_eps": round(raw, 1) if raw else None,
    }
    refs["whoami_floor_ratio"] = ratio(summary.get("whoami_rps"), floor)
    refs["sales_naive_ratio"] = ratio(summary.get("sales_rps"), refs["naive_rps"])
    refs["vsdc_naive_ratio"] = ratio(summary.get("vsdc_rps"), refs["naive_rps"])
    refs["pg_sales_naive_ratio"] = ratio(summary.get("pg_sales_rps"), refs["pg_naive_rps"])
    refs["verify_raw_ratio"] = ratio(summary.get("verify_eps"), refs["verify_raw_eps"])
    return refs
