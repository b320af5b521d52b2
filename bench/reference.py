"""The references OpenVCR is measured against in the same run: ``python -m bench.reference floor|naive``.

- ``floor``: a minimal FastAPI app with one trivial route, ``GET /ping`` → ``{"ok":true}`` (an ``async def``:
  no thread hop). What the framework and the server cost with nothing behind them (``floor_rps``).
- ``naive``: the minimal receipt service of ``bench.naive`` (``naive_rps``, ``pg_naive_rps``).

Both are served exactly as ``openvcr serve`` serves OpenVCR (``openvcr.cli.serve``): uvicorn, an app factory,
uvloop, httptools, no access log, the same number of workers. ``raw_verify_rate`` is the third reference: one
core's raw ECDSA P-256 verifications a second (``verify_raw_eps``).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from fastapi import FastAPI

APPS = {
    "floor": "bench.reference:create_floor_app",
    "naive": "bench.naive:create_app_from_environment",
}
READY_PATHS = {"floor": "/ping", "naive": "/healthz"}


def create_floor_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def floor_request() -> dict[str, object]:
    return {"method": "GET", "path": "/ping"}


def raw_verify_rate(seconds: float = 1.0, payload: bytes = b"x" * 1024) -> float:
    """Raw P-256 verifications a second on this core: one fixed signature over a SHA-256 digest, in a loop.

    The journal verifier verifies prehashed digests (``PublicKey.verify_digest``), so this is the same
    operation without the canonical bytes, the hashing, the chain and the database around it.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    digest = hashlib.sha256(payload).digest()
    algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
    signature = key.sign(digest, algorithm)
    verify = public.verify
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(100):
            verify(signature, digest, algorithm)
        count += 100
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def serve(kind: str, host: str, port: int, workers: int) -> None:
    """Run one reference app the way ``openvcr serve`` runs OpenVCR (keep the flags in step with it)."""
    import uvicorn

    uvicorn.run(
        APPS[kind],
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=10,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reference")
    parser.add_argument("kind", choices=sorted(APPS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    serve(args.kind, args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
