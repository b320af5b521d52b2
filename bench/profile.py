"""Profile a running ``openvcr serve`` under load: ``python -m bench.profile sales|vsdc|whoami [SECONDS]``.

Starts a fresh SQLite service (1 worker unless ``BENCH_WORKERS``), drives it with the bench's load generator,
and samples every server process with py-spy (``pip install py-spy``; not needed by ``python -m bench``).
Writes ``docs/profiles/<scenario>-<sha>.txt``: the load figures, then the functions with the most samples
inclusive (time spent in them and below) and self (on top of the stack), from OpenVCR's point of view.
``BENCH_IDLE=1`` samples idle threads too (wall-clock view: where requests wait).
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import processes, workload
from bench.run import Backend, Config, load, seed_register, setup_vsdc, spec_for

DOCS = Path(__file__).resolve().parent.parent / "docs" / "profiles"


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def summarize(raw: Path, top: int = 45) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for text in raw.read_text().splitlines():
        stack, _, count_text = text.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")[1:]]  # first element: process / thread
        total += count
        for name in set(frames):
            inclusive[name] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"samples: {total}", "", "inclusive (% of samples with the function on the stack):"]
    lines += [f"  {100 * c / total:5.1f}%  {n}" for n, c in inclusive.most_common(top)]
    lines += ["", "self (% of samples with the function on top):"]
    lines += [f"  {100 * c / total:5.1f}%  {n}" for n, c in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    scenario = argv[0] if argv else "sales"
    seconds = int(argv[1]) if len(argv) > 1 else 15
    workers = int(os.environ.get("BENCH_WORKERS", "1"))
    idle = bool(os.environ.get("BENCH_IDLE"))
    cfg = Config()
    cfg.duration = seconds + 4
    work = Path(tempfile.mkdtemp(prefix="openvcr-profile-"))
    url = f"sqlite:///{work / 'profile.db'}"
    env = processes.openvcr_env(work / "sandbox")
    b = Backend("sqlite", url, work, env)
    init = processes.cli_json(["init", "--database", url, "--json"], env)
    from bench.registers import refs_of
    from openvcr.store.db import Database

    db = Database(url)
    refs = refs_of(db, int(init["vcrId"]), init["apiKey"], int(init["cashier"]["id"]))
    db.dispose()
    tls = setup_vsdc(b) if scenario == "vsdc" else None
    vsdc_port = processes.free_port() if tls else None
    result: dict[str, Any] = {}
    try:
        serve_pids: list[int] = []
        with processes.serve(
            url, env, work / "serve.log", workers=workers, vsdc_port=vsdc_port, pids=serve_pids
        ) as base:
            seed_register(base, b, refs)
            if scenario == "vsdc":
                spec = spec_for(
                    f"https://127.0.0.1:{vsdc_port}", workload.vsdc_requests("/merchant/invoice", 400, 2), cfg, tls=tls
                )
            elif scenario == "whoami":
                spec = spec_for(base, [workload.whoami_request(refs.api_key)], cfg)
            else:
                spec = spec_for(base, workload.sale_requests(refs, 500, seed=1), cfg)
            thread = threading.Thread(target=lambda: result.update(load(work, scenario, spec)))
            thread.start()
            time.sleep(2)
            pids = _serve_pids(serve_pids[0], scenario, workers)
            raw = work / "raw.txt"
            args = ["py-spy", "record", "--format", "raw", "-r", "200", "-d", str(seconds)]
            args += ["--idle"] if idle else []
            procs = [
                subprocess.Popen([*args, "-o", f"{raw}.{n}", "--pid", str(pid)], stdout=subprocess.DEVNULL)
                for n, pid in enumerate(pids)
            ]
            for proc in procs:
                proc.wait()
            thread.join()
        with open(raw, "w") as merged:
            for n in range(len(pids)):
                part = Path(f"{raw}.{n}")
                if part.exists():
                    merged.write(part.read_text())
        result.pop("bodies", None)
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        DOCS.mkdir(parents=True, exist_ok=True)
        suffix = "-idle" if idle else ""
        target = DOCS / f"{scenario}{suffix}-{sha}.txt"
        header = (
            f"scenario {scenario}, {workers} worker(s), SQLite, {cfg.concurrency} clients, py-spy {seconds} s at 200 Hz"
            f"{' including idle threads (wall clock)' if idle else ' (CPU: running threads only)'}\n"
            f"load: {json.dumps({k: result.get(k) for k in ('rps', 'p50_ms', 'p99_ms', 'errors', 'statuses')})}\n\n"
        )
        target.write_text(header + summarize(raw) + "\n")
        print(target)
        print(target.read_text())
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _serve_pids(serve_pid: int, scenario: str, workers: int) -> list[int]:
    """The processes doing the work: the server itself (1 worker) or its workers, or the V-SDC listener."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(serve_pid)], capture_output=True, text=True)
    children = []
    for text in out.stdout.splitlines():
        pid_text, _, args = text.strip().partition(" ")
        if "resource_tracker" not in args:
            children.append(int(pid_text))
    if scenario == "vsdc":
        return children[:1]  # the listener is started before uvicorn's workers
    if workers == 1:
        return [serve_pid]
    return children[-workers:]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
