"""Watching registers' SRC certificates expire.

Rules:
- ``CertificateWatch.refresh()`` reads the expiry of every enabled register's own certificate (one query) and
  keeps the result as a snapshot; ``snapshot()`` and ``problems()`` answer from it without I/O (``/healthz``
  calls them on the event loop).
- A certificate is ``expiring`` from ``WARN_DAYS`` days before it ends, ``expired`` from its ``notAfter``.
- An expiring or expired certificate is logged (warning, error once expired) at most once a day per register
  and process, with its register, CRN, date and days left.
- Each register's integrators are told too: a ``certificate.expiring`` webhook event when its certificate
  enters each of the stages ``EVENT_STAGES`` (30, 7 and 1 days left, then expired), once per certificate and
  stage whatever the number of processes (the event's id is derived from them, see ``webhooks.service.emit``).
- Registers without a certificate of their own (the global ``OPENVCR_SRC_CERT``) are not watched here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from openvcr.authority import repository as repo
from openvcr.authority.identity import MS_PER_DAY, days_left, iso_date
from openvcr.store.db import Database, now_ms
from openvcr.webhooks import service as webhooks
from openvcr.webhooks.models import CERTIFICATE_EXPIRING

WARN_DAYS = 30
EVENT_STAGES = (30, 7, 1, 0)  # days left at which a stage begins; 0: expired
log = logging.getLogger("openvcr.certificates")


@dataclass(frozen=True)
class CertificateState:
    register_id: int
    crn: str | None
    not_after: int
    days_left: int
    entity_id: int | None = None  # the register's business (the console's banner picks its own)

    @property
    def status(self) -> str:
        """valid | expiring | expired"""
        if self.days_left < 0:
            return "expired"
        return "expiring" if self.days_left < WARN_DAYS else "valid"

    def reason(self) -> str:
        who = f"register {self.register_id} (CRN {self.crn})"
        if self.status == "expired":
            return f"{who}: its SRC certificate expired on {iso_date(self.not_after)}; nothing is sent to SRC for it"
        return (
            f"{who}: its SRC certificate expires on {iso_date(self.not_after)} ({self.days_left} days left); "
            "import a renewed one"
        )

    @property
    def stage(self) -> int | None:
        """The last of ``EVENT_STAGES`` reached (0 once expired), None while more than ``WARN_DAYS`` are left."""
        if self.days_left < 0:
            return 0
        reached = [stage for stage in EVENT_STAGES if stage > 0 and self.days_left < stage]
        return min(reached) if reached else None

    def event_data(self) -> dict[str, object]:
        return {
            "crn": self.crn,
            "notAfter": iso_date(self.not_after),
            "daysLeft": self.days_left,
            "status": self.status,
            "message": self.reason(),
        }


class CertificateWatch:
    def __init__(self, db: Database, *, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock
        self._states: tuple[CertificateState, ...] = ()
        self._logged: dict[int, int] = {}  # register → the day (since the epoch) it was last logged
        self._told: set[tuple[int, int, int]] = set()  # (register, notAfter, stage) emitted by this process
        self._lock = threading.Lock()

    def refresh(self) -> tuple[CertificateState, ...]:
        now = self.clock()
        with self.db.read() as conn:
            rows = repo.certificate_expiries(conn)
        # Whole days left, rounded down: 0 on the last day, negative from notAfter on.
        states = tuple(
            CertificateState(register_id, crn, not_after, days_left(not_after, now), entity_id)
            for register_id, crn, not_after, entity_id in rows
        )
        today = now // MS_PER_DAY
        with self._lock:
            self._states = states
            for state in states:
                if state.status == "valid" or self._logged.get(state.register_id) == today:
                    continue
                self._logged[state.register_id] = today
                fields = {
                    "register": state.register_id,
                    "crn": state.crn,
                    "notAfter": iso_date(state.not_after),
                    "daysLeft": state.days_left,
                }
                level = logging.ERROR if state.status == "expired" else logging.WARNING
                log.log(level, "certificate %s", state.reason(), extra={"fields": fields})
        self._tell(states)
        return states

    def _tell(self, states: tuple[CertificateState, ...]) -> None:
        """Emit ``certificate.expiring`` for every stage newly reached (see the module rules)."""
        for state in states:
            stage = state.stage
            told = (state.register_id, state.not_after, -1 if stage is None else stage)
            if stage is None or told in self._told:
                continue
            with self.db.write() as conn:
                webhooks.emit(
                    conn,
                    state.register_id,
                    CERTIFICATE_EXPIRING,
                    state.event_data(),
                    once_as=f"{state.not_after}:{stage}",
                )
            self._told.add(told)

    def snapshot(self) -> tuple[CertificateState, ...]:
        return self._states

    def problems(self) -> list[str]:
        """Why the service is degraded (empty: every certificate is valid for more than ``WARN_DAYS`` days)."""
        return [state.reason() for state in self._states if state.status != "valid"]
