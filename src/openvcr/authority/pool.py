"""``RegisterGateways``: the ``SrcGateway`` that sends each call under the identity of the CRN's register.

Rules:
- Every call names its CRN; the register with that CRN decides the client:
  * a register with an identity of its own (``register_identities``) gets a pooled client of its own, built
    once per certificate and kept (keep-alive connections, one TLS context) until the certificate changes;
  * a register without one (and an unknown CRN) uses the default client: the global ``OPENVCR_SRC_*``
    identity of a single-register install.
- Nothing is sent, and the call fails with ``IdentityRefused`` (an ``AuthorityRejected`` whose text says
  why and what to do), for a disabled register, a register whose certificate is not imported yet, and a
  register whose certificate has expired — never under another register's (or the global) identity.
- What the database says of a CRN is kept ``cache_seconds`` per process: an imported certificate or a
  disabled register takes effect in every worker within that delay. Expiry is checked on every call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from openvcr.authority import repository as repo
from openvcr.authority.errors import AuthorityRejected
from openvcr.authority.gateway import GoodList, PrintRequest, Receipt, ReturnedReceiptInfo, ReturnRequest, SrcGateway
from openvcr.authority.identity import iso_date
from openvcr.store.db import Database, now_ms

IDENTITY_REFUSED = 403  # SRC's own code for an identity it does not accept (UNAUTHORIZED_CONNECTION)
CACHE_SECONDS = 5.0


class IdentityRefused(AuthorityRejected):
    """Not sent: the register cannot talk to SRC under its identity (disabled, no certificate, expired)."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(IDENTITY_REFUSED, message, text)


class ClosableGateway(SrcGateway, Protocol):
    def close(self) -> None: ...


@dataclass
class _Entry:
    route: repo.Route | None
    loaded: float


class RegisterGateways:
    """``SrcGateway`` routing every call to the client of the CRN's register (see the module rules)."""

    def __init__(
        self,
        db: Database,
        default: SrcGateway,
        make_client: Callable[[repo.StoredIdentity], ClosableGateway],
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.db = db
        self.default = default
        self.make_client = make_client
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._routes: dict[str, _Entry] = {}
        self._clients: dict[int, tuple[tuple[str | None, int | None], ClosableGateway]] = {}
        self._lock = threading.Lock()

    # --- routing ---

    def _route(self, crn: str) -> repo.Route | None:
        now = time.monotonic()
        entry = self._routes.get(crn)
        if entry is not None and now - entry.loaded < self.cache_seconds:
            return entry.route
        with self.db.read() as conn:
            found = repo.route(conn, crn)
        with self._lock:
            self._routes[crn] = _Entry(found, now)
        return found

    def gateway_for(self, crn: str) -> SrcGateway:
        """The client that speaks for ``crn`` now; ``IdentityRefused`` when nothing may be sent for it."""
        found = self._route(crn)
        if found is None:
            return self.default
        if found.disabled:
            raise IdentityRefused(
                "REGISTER_DISABLED", f"register {found.register_id} (CRN {crn}) is disabled: nothing is sent to SRC"
            )
        identity = found.identity
        if identity is None:
            return self.default
        if identity.cert_pem is None or identity.not_after is None:
            raise IdentityRefused(
                "NO_CERTIFICATE",
                f"register {found.register_id} (CRN {crn}) has no certificate yet: import the one SRC signed "
                f"for its request with `openvcr registers cert import {found.register_id} --cert FILE`",
            )
        if identity.not_after <= self.clock():
            raise IdentityRefused(
                "CERTIFICATE_EXPIRED",
                f"the SRC client certificate of register {found.register_id} (CRN {crn}) expired on "
                f"{iso_date(identity.not_after)}: nothing was sent; import a renewed certificate with "
                f"`openvcr registers cert import {found.register_id}`",
            )
        version = (identity.cert_serial, identity.imported_at)
        with self._lock:
            cached = self._clients.get(found.register_id)
            if cached is not None and cached[0] == version:
                return cached[1]
        client = self.make_client(identity)
        with self._lock:
            cached = self._clients.get(found.register_id)
            if cached is not None and cached[0] == version:
                client.close()
                return cached[1]
            self._clients[found.register_id] = (version, client)
        if cached is not None:
            cached[1].close()  # a replaced certificate: its client's connections are not reused
        return client

    def forget(self) -> None:
        """Read every CRN's register again on its next call (after an import in this process)."""
        with self._lock:
            self._routes.clear()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for _version, client in clients.values():
            client.close()
        closer = getattr(self.default, "close", None)
        if callable(closer):
            closer()

    # --- the eight methods ---

    def check_connection(self, crn: str) -> None:
        self.gateway_for(crn).check_connection(crn)

    def activate(self, crn: str) -> None:
        self.gateway_for(crn).activate(crn)

    def configure_departments(self, crn: str, seq: int | None, departments: Sequence[tuple[int, int]]) -> None:
        self.gateway_for(crn).configure_departments(crn, seq, departments)

    def get_good_list(self, crn: str, tin: str, tax_regime: int) -> list[GoodList]:
        return self.gateway_for(crn).get_good_list(crn, tin, tax_regime)

    def print_receipt(self, crn: str, seq: int | None, request: PrintRequest) -> Receipt:
        return self.gateway_for(crn).print_receipt(crn, seq, request)

    def print_copy(self, crn: str, seq: int | None, receipt_id: int) -> Receipt:
        return self.gateway_for(crn).print_copy(crn, seq, receipt_id)

    def get_returned_receipt_info(
        self, crn: str, seq: int | None, receipt_id: int, source_crn: str | None = None
    ) -> ReturnedReceiptInfo:
        return self.gateway_for(crn).get_returned_receipt_info(crn, seq, receipt_id, source_crn)

    def print_return_receipt(self, crn: str, seq: int | None, request: ReturnRequest) -> Receipt:
        return self.gateway_for(crn).print_return_receipt(crn, seq, request)
