"""The aTAX sandbox: the tax authority's receiving end for V-SDC devices and signed invoices.

Protocol (ours; JSON over HTTP, every POST carries an ``Idempotency-Key`` header):

- ``POST /api/v1/devices`` ``{"tin", "mcr", "publicKey" (PEM), "counterKey" (Base64)}``: the V-SDC shares a
  device's verification key and counter key with the authority.
- ``POST /api/v1/invoices`` ``{"tin", "mcr", "ino", "document" (Base64 of the signed canonical bytes),
  "signature" (Base64), "internalData"}``.
- Answers: 200 ``{"status": "accepted"}``; 200 ``{"status": "duplicate"}`` for a key already received (nothing
  stored twice: exactly once from the authority's point of view); 409 for an invoice of a device not yet
  registered (the sender retries); 422 ``{"error": ...}`` for an invoice that must never be accepted (bad
  signature, internal data that does not decrypt or does not match, counters that shrink, a broken chain).
- ``GET /api/v1/devices/{mcr}/invoices``: what was received for a device (for tests and demos).

Rules:
- State lives in the state directory, one JSON file per device, invoice and idempotency key, each written
  atomically (temporary file, fsync, rename), so a restart keeps everything received.
- Invoices may arrive out of order (retries): counters are checked against the nearest received neighbours
  (by invoice count): never below the previous one, never above the next one; the chain link
  (``prevHash`` = SHA-256 of the previous signature) is checked when the previous invoice is present.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openvcr.core.signing import PublicKey
from openvcr.vsdc.crypto import InternalDataError, decrypt_counters
from openvcr.vsdc.models import Counters

Answer = tuple[int, dict[str, Any]]


def _atomic_write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _name(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class AtaxSandbox:
    """The receiving end, on a state directory (thread-safe within one process)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self._lock = threading.Lock()

    # storage
    def _key_path(self, key: str) -> Path:
        return self.state_dir / "keys" / f"{_name(key)}.json"

    def _device_path(self, mcr: str) -> Path:
        return self.state_dir / "devices" / f"{_name(mcr)}.json"

    def _invoice_dir(self, mcr: str) -> Path:
        return self.state_dir / "invoices" / _name(mcr)

    def device(self, mcr: str) -> dict[str, Any] | None:
        path = self._device_path(mcr)
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def invoices(self, mcr: str) -> list[dict[str, Any]]:
        """The invoices received for a device, by invoice count."""
        directory = self._invoice_dir(mcr)
        if not directory.exists():
            return []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]

    def _seen(self, key: str) -> bool:
        return self._key_path(key).exists()

    def _remember(self, key: str, what: str) -> None:
        _atomic_write(self._key_path(key), {"key": key, "what": what})

    # receiving
    def receive_device(self, key: str, payload: dict[str, Any]) -> Answer:
        if not key:
            return 400, {"error": "the Idempotency-Key header is required"}
        with self._lock:
            if self._seen(key):
                return 200, {"status": "duplicate"}
            try:
                mcr, tin = str(payload["mcr"]), str(payload["tin"])
                PublicKey(str(payload["publicKey"]))
                counter_key = base64.b64decode(str(payload["counterKey"]), validate=True)
            except (KeyError, ValueError, binascii.Error):
                return 422, {"error": "a device needs tin, mcr, publicKey (P-256 PEM) and counterKey (Base64)"}
            if len(counter_key) != 32:
                return 422, {"error": "the counter key has 32 bytes"}
            _atomic_write(
                self._device_path(mcr),
                {"mcr": mcr, "tin": tin, "publicKey": payload["publicKey"], "counterKey": payload["counterKey"]},
            )
            self._remember(key, f"device {mcr}")
            return 200, {"status": "accepted"}

    def receive_invoice(self, key: str, payload: dict[str, Any]) -> Answer:
        if not key:
            return 400, {"error": "the Idempotency-Key header is required"}
        with self._lock:
            if self._seen(key):
                return 200, {"status": "duplicate"}
            try:
                mcr, ino = str(payload["mcr"]), str(payload["ino"])
                signed = base64.b64decode(str(payload["document"]), validate=True)
                signature = base64.b64decode(str(payload["signature"]), validate=True)
                internal_data = str(payload["internalData"])
                document = json.loads(signed)
            except (KeyError, ValueError, binascii.Error):
                return 422, {"error": "an invoice needs mcr, ino, document, signature and internalData"}
            device = self.device(mcr)
            if device is None:
                return 409, {"error": f"device {mcr} is not registered yet"}
            if not PublicKey(device["publicKey"]).verify(signed, signature):
                return 422, {"error": "the signature does not verify with the device's key"}
            invoice = document.get("invoice", {})
            if invoice.get("mcr") != mcr or invoice.get("ino") != ino or document.get("internalData") != internal_data:
                return 422, {"error": "the signed document is not this invoice"}
            if invoice.get("tin") != device["tin"]:
                return 422, {"error": "the invoice's TIN is not the device's"}
            counter_key = base64.b64decode(device["counterKey"])
            try:
                counters = decrypt_counters(internal_data, counter_key, mcr, ino)
            except InternalDataError:
                return 422, {"error": "the internal data does not decrypt under the device's counter key"}
            count = counters.invoice_count
            if document.get("invoiceCount") != count:
                return 422, {"error": "the internal data's invoice count is not the document's"}
            problem = self._check_neighbours(mcr, count, counters, document, counter_key)
            if problem:
                return 422, {"error": problem}
            _atomic_write(
                self._invoice_dir(mcr) / f"{count:012d}.json",
                {
                    "mcr": mcr,
                    "ino": ino,
                    "tin": invoice.get("tin"),
                    "invoiceCount": count,
                    "counters": {k: str(v) for k, v in counters.as_dict().items()},
                    "document": payload["document"],
                    "signature": payload["signature"],
                    "internalData": internal_data,
                    "key": key,
                },
            )
            self._remember(key, f"invoice {mcr}/{ino}")
            return 200, {"status": "accepted"}

    def _check_neighbours(
        self, mcr: str, count: int, counters: Counters, document: dict[str, Any], key: bytes
    ) -> str | None:
        directory = self._invoice_dir(mcr)
        counts = sorted(int(p.stem) for p in directory.glob("*.json")) if directory.exists() else []
        if count in counts:
            return f"invoice count {count} of device {mcr} was already received for another invoice"
        before = [c for c in counts if c < count]
        after = [c for c in counts if c > count]
        if before:
            previous = json.loads((directory / f"{before[-1]:012d}.json").read_text(encoding="utf-8"))
            earlier = decrypt_counters(previous["internalData"], key, mcr, previous["ino"])
            if not counters.never_below(earlier):
                return "the counters went down"
            if before[-1] == count - 1:
                link = hashlib.sha256(base64.b64decode(previous["signature"])).hexdigest()
                if document.get("prevHash") != link:
                    return "the chain is broken: prevHash is not the previous invoice's signature hash"
        if after:
            following = json.loads((directory / f"{after[0]:012d}.json").read_text(encoding="utf-8"))
            later = decrypt_counters(following["internalData"], key, mcr, following["ino"])
            if not later.never_below(counters):
                return "the counters are above a later invoice's"
        return None


def create_atax_app(state_dir: Path) -> Starlette:
    """The sandbox as an HTTP app."""
    sandbox = AtaxSandbox(state_dir)

    async def _payload(request: Request) -> dict[str, Any] | None:
        try:
            data = json.loads(await request.body())
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def devices(request: Request) -> JSONResponse:
        payload = await _payload(request)
        if payload is None:
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        key = request.headers.get("idempotency-key", "")
        status, body = await run_in_threadpool(sandbox.receive_device, key, payload)
        return JSONResponse(body, status_code=status)

    async def invoices(request: Request) -> JSONResponse:
        payload = await _payload(request)
        if payload is None:
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        key = request.headers.get("idempotency-key", "")
        status, body = await run_in_threadpool(sandbox.receive_invoice, key, payload)
        return JSONResponse(body, status_code=status)

    async def received(request: Request) -> JSONResponse:
        mcr = request.path_params["mcr"]
        return JSONResponse(await run_in_threadpool(sandbox.invoices, mcr))

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/api/v1/devices", devices, methods=["POST"]),
            Route("/api/v1/invoices", invoices, methods=["POST"]),
            Route("/api/v1/devices/{mcr}/invoices", received, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def run_atax_sandbox(port: int, state_dir: Path, host: str = "127.0.0.1") -> None:
    """Serve the sandbox until interrupted (blocking)."""
    import uvicorn

    uvicorn.run(create_atax_app(state_dir), host=host, port=port, log_level="warning", lifespan="off")
