"""Choose the SrcGateway from settings: the in-process sandbox, or the HTTP client (sandbox or real SRC).

Rules:
- ``src_mode == "sandbox"``: the real HTTP client code path over an httpx transport that calls the
  simulator in-process (state under ``settings.sandbox_state_path()``, seq policy ``src_seq_policy``), so
  the wire format is exercised without a socket. One simulator per state directory and process.
- ``src_mode == "remote"``: the HTTP client to ``src_url`` with mutual TLS from the ``src_*`` settings.
- With a database (``build_gateway(settings, db)``), the gateway is a ``RegisterGateways`` pool: a register
  with an SRC identity of its own (``openvcr registers add`` / ``cert import``) talks through a client of its
  own with its certificate (over the in-process sandbox, its certificate is presented to the simulator);
  the others through the client above (the global ``src_*`` identity).
- ``provision_sandbox_register`` registers a taxpayer and an e-HDM (status Ընթացիկ, all 4 regimes, any
  cashierId ≥ 1) in the in-process sandbox, or through ``POST <src_url>/_sandbox/provision`` of a separately
  run sandbox.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from openvcr.authority.client import HttpSrcGateway, build_ssl_context, identity_ssl_context
from openvcr.authority.errors import AuthorityError
from openvcr.authority.gateway import SrcGateway
from openvcr.authority.identity import open_key
from openvcr.authority.pool import RegisterGateways
from openvcr.authority.repository import StoredIdentity
from openvcr.authority.sandbox.simulator import ROOT, SandboxConfig, Simulator
from openvcr.authority.sandbox.state import SandboxState
from openvcr.authority.sandbox.transport import SandboxTransport
from openvcr.config import Settings
from openvcr.core.errors import AuthorityUnavailable
from openvcr.store.db import Database

_simulators: dict[tuple[Path, str], Simulator] = {}
_guard = threading.Lock()

IN_PROCESS_URL = "http://sandbox.invalid" + ROOT


def sandbox_simulator(settings: Settings) -> Simulator:
    """The process's simulator for the settings' sandbox state directory."""
    path = settings.sandbox_state_path().resolve()
    key = (path, settings.src_seq_policy)
    with _guard:
        simulator = _simulators.get(key)
        if simulator is None:
            simulator = Simulator(SandboxState(path), SandboxConfig(seq_policy=settings.src_seq_policy))
            _simulators[key] = simulator
        return simulator


def close_sandbox_simulators(under: Path) -> int:
    """Close and forget the process's simulators whose state directory is ``under`` (or inside it); return how
    many. A process that is done with a sandbox state directory (a test, a finished command) frees its file."""
    root = under.resolve()
    with _guard:
        done = [key for key in _simulators if key[0] == root or root in key[0].parents]
        for key in done:
            _simulators.pop(key).state.close()
    return len(done)


def _client(
    settings: Settings,
    url: str,
    *,
    verify: ssl.SSLContext | bool = True,
    transport: httpx.BaseTransport | None = None,
) -> HttpSrcGateway:
    """An SRC client at ``url`` with the settings' language and timeouts."""
    return HttpSrcGateway(
        url,
        language=settings.src_language,
        timeout_seconds=settings.src_timeout_seconds,
        connect_timeout_seconds=settings.src_connect_timeout_seconds,
        verify=verify,
        transport=transport,
    )


def build_http_gateway(settings: Settings) -> HttpSrcGateway:
    """The HTTP client for ``settings.src_url`` with the configured TLS identity and timeouts."""
    if not settings.src_url.startswith("https://"):
        return _client(settings, settings.src_url)
    verify_context = build_ssl_context(
        ca=settings.src_ca,
        cert=settings.src_cert,
        key=settings.src_key,
        key_passphrase=settings.src_key_passphrase.get_secret_value() if settings.src_key_passphrase else None,
        p12=settings.src_p12,
        p12_passphrase=settings.src_p12_passphrase.get_secret_value() if settings.src_p12_passphrase else None,
    )
    return _client(settings, settings.src_url, verify=verify_context)


def build_gateway(settings: Settings, db: Database | None = None) -> SrcGateway:
    """The process's gateway; with ``db``, each register with an identity of its own uses it."""
    default = _default_gateway(settings)
    if db is None:
        return default
    return RegisterGateways(db, default, lambda identity: register_client(settings, identity))


def register_client(settings: Settings, identity: StoredIdentity) -> HttpSrcGateway:
    """The pooled client of one register, under its own certificate."""
    assert identity.cert_pem is not None
    if settings.src_mode == "sandbox":
        leaf = x509.load_pem_x509_certificate(identity.cert_pem.encode())
        transport = SandboxTransport(sandbox_simulator(settings), client_cert=leaf.public_bytes(Encoding.DER))
        return _client(settings, IN_PROCESS_URL, transport=transport)
    key = open_key(identity.key_enc, settings.master_key.get_secret_value(), identity.register_id)
    if not settings.src_url.startswith("https://"):
        return _client(settings, settings.src_url)
    verify = identity_ssl_context(ca=settings.src_ca, cert_pem=identity.cert_pem, key=key)
    return _client(settings, settings.src_url, verify=verify)


def _default_gateway(settings: Settings) -> SrcGateway:
    if settings.src_mode == "sandbox":
        return _client(settings, IN_PROCESS_URL, transport=SandboxTransport(sandbox_simulator(settings)))
    return build_http_gateway(settings)


def provision_sandbox_register(settings: Settings, *, tin: str, taxpayer: str, address: str) -> tuple[str, str]:
    """Register a new taxpayer + e-HDM in the sandbox (status Ընթացիկ); returns (crn, sn)."""
    if settings.src_mode == "sandbox":
        crn, sn = sandbox_simulator(settings).state.register(tin=tin, taxpayer=taxpayer, address=address)
        return crn, sn
    client = build_http_gateway(settings)
    try:
        answer = client.post_raw("/_sandbox/provision", {"tin": tin, "taxpayer": taxpayer, "address": address})
    except AuthorityError as exc:
        raise AuthorityUnavailable(f"the sandbox at {settings.src_url} could not provision a register: {exc}") from exc
    finally:
        client.close()
    if not isinstance(answer, dict) or "crn" not in answer or "sn" not in answer:
        raise AuthorityUnavailable(f"{settings.src_url} is not an OpenVCR SRC sandbox")
    return str(answer["crn"]), str(answer["sn"])
