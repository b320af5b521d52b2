"""Catalog use cases: cashiers, departments (configured at the tax authority), offers.

Rules:
- A cashier's PIN is 4–8 digits, stored only hashed; the cashier gets an opaque 22-character ``deskId`` and
  the next cashier number of the register (the ``cashierId`` sent to SRC).
- A department is listed only once the tax authority confirmed it (SRC ``configureDepartments``). It is
  written unconfirmed first (reserving its department number), configured at SRC, then confirmed; when SRC
  refuses or cannot be reached the row is removed again and nothing remains. SRC's "department already
  exists" for the number being created counts as confirmation (a retry after a lost answer).
- An offer's ``externalId`` is unique per register (409 on a duplicate); its default department must be a
  confirmed department of the same register; titles are at most 50 characters in every language.
- Every read and write is scoped to the caller's register: another register's rows are "not found".
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openvcr.authority.service import SrcService
from openvcr.catalog import repository as repo
from openvcr.catalog.models import TAX_REGIMES, Cashier, Department, Offer, OfferTitle
from openvcr.catalog.pins import hash_pin
from openvcr.core.errors import (
    AuthorityInDoubt,
    AuthorityRefused,
    Conflict,
    NotFound,
    ValidationFailed,
    excerpt,
)
from openvcr.core.i18n import localize
from openvcr.store.db import Database, now_ms

TITLE_MAX = 50
Strategy = Literal["translation", "transliteration"]
EXISTING_DEPARTMENT = 202


class CashierRef(Protocol):
    """How a request names a cashier: its internal id or its deskId."""

    @property
    def id(self) -> int | None: ...

    @property
    def desk_id(self) -> str | None: ...


def new_desk_id() -> str:
    return secrets.token_urlsafe(16)  # 22 URL-safe characters


def create_cashier(db: Database, register_id: int, name: Mapping[str, str], strategy: Strategy, pin: str) -> Cashier:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValidationFailed.at(["password"], "password must be a PIN of 4 to 8 digits", "invalid_pin")
    texts = localize(name, strategy)
    pin_hash = hash_pin(pin)
    for attempt in range(3):
        try:
            with db.write() as conn:
                return repo.insert_cashier(conn, register_id, new_desk_id(), pin_hash, texts)
        except IntegrityError:  # two cashiers created at once took the same number: take the next
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def find_cashier(
    conn: Connection, register_id: int, ref: CashierRef, path: Sequence[str | int] = ("cashier",)
) -> Cashier:
    """The register's cashier a request refers to (by ``id`` or ``deskId``); a 400 naming ``path`` if none."""
    cashier = repo.find_cashier(conn, register_id, cashier_id=ref.id, desk_id=ref.desk_id)
    if cashier is None:
        raise ValidationFailed.at(path, "cashier not found")
    return cashier


def list_cashiers(db: Database, register_id: int) -> list[Cashier]:
    with db.read() as conn:
        return repo.list_cashiers(conn, register_id)


def create_department(
    db: Database,
    src: SrcService,
    register_id: int,
    *,
    external_id: str | None,
    tax_regime: str,
    title: Mapping[str, str],
    strategy: Strategy,
) -> Department:
    if tax_regime not in TAX_REGIMES:
        raise ValidationFailed.at(["taxRegime"], f"unknown tax regime {tax_regime!r}")
    texts = localize(title, strategy)
    with db.write() as conn:
        if external_id is not None and repo.department_external_id_taken(conn, register_id, external_id):
            raise Conflict(f"a department with externalId {excerpt(external_id)} already exists")
        dep = repo.next_dep_number(conn, register_id)
        department = repo.insert_department(conn, register_id, dep, external_id, tax_regime, texts)
    try:
        src.configure_departments(register_id, [(dep, TAX_REGIMES[tax_regime])])
    except AuthorityRefused as refused:
        if refused.authority_code != EXISTING_DEPARTMENT:
            _forget_department(db, department.id)
            raise
    except AuthorityInDoubt:
        raise  # the row stays unconfirmed (and unlisted) until an operator reconciles it
    except Exception:  # AuthorityUnavailable and anything unexpected: nothing may remain
        _forget_department(db, department.id)
        raise
    with db.write() as conn:
        repo.confirm_department(conn, department.id)
    return Department(department.id, register_id, dep, external_id, tax_regime, texts, confirmed=True)


def _forget_department(db: Database, department_id: int) -> None:
    with db.write() as conn:
        repo.delete_department(conn, department_id)


def list_departments(db: Database, register_id: int) -> list[Department]:
    with db.read() as conn:
        return repo.list_departments(conn, register_id)


@dataclass(frozen=True)
class OfferSpec:
    type: str
    classifier_code: str
    title: OfferTitle
    unit: str
    department_id: int
    external_id: str | None


def offer_title(
    kind: str, content: str | Mapping[str, str], strategy: Strategy | None, path: list[str | int]
) -> OfferTitle:
    """Validate and complete an offer title (canonical or legacy shape, already parsed)."""
    if kind == "universal":
        assert isinstance(content, str)
        text = content.strip()
        if not text:
            raise ValidationFailed.at([*path, "content"], "title must not be empty")
        if len(text) > TITLE_MAX:
            raise ValidationFailed.at([*path, "content"], f"title is longer than {TITLE_MAX} characters")
        return OfferTitle("universal", {"multi": text})
    assert not isinstance(content, str)
    texts = localize(content, strategy or "transliteration")
    for lang, text in texts.items():
        if len(text) > TITLE_MAX:
            raise ValidationFailed.at([*path, "content", lang], f"title is longer than {TITLE_MAX} characters")
    return OfferTitle("localized", texts)


def create_offer_in(conn: Connection, register_id: int, spec: OfferSpec, path: list[str | int] | None = None) -> Offer:
    """Create an offer inside the caller's transaction (also used for offers created inline by a sale)."""
    prefix = path or []
    department = repo.find_department(conn, register_id, spec.department_id)
    if department is None or not department.confirmed:
        raise ValidationFailed.at(
            [*prefix, "defaultDepartment", "id"], f"department {spec.department_id} does not exist"
        )
    if spec.external_id is not None and repo.find_offer(conn, register_id, external_id=spec.external_id):
        raise Conflict(f"an offer with externalId {excerpt(spec.external_id)} already exists")
    return repo.insert_offer(
        conn,
        register_id,
        external_id=spec.external_id,
        type_=spec.type,
        classifier_code=spec.classifier_code,
        unit=spec.unit,
        department_id=spec.department_id,
        title=spec.title,
    )


def ensure_offer_in(conn: Connection, register_id: int, spec: OfferSpec) -> Offer:
    """The register's offer with ``spec.external_id``, created from ``spec`` when there is none (a sale's inline
    new offer). Two sales completing at once may both try to create it: the second one's insert fails on the
    unique ``externalId`` inside a savepoint (or, on PostgreSQL, its second look-up already sees the first
    one's committed offer) and it takes the first one's offer."""
    assert spec.external_id is not None
    existing = repo.find_offer(conn, register_id, external_id=spec.external_id)
    if existing is not None:
        return existing
    try:
        with conn.begin_nested():
            return create_offer_in(conn, register_id, spec)
    except (IntegrityError, Conflict):
        created = repo.find_offer(conn, register_id, external_id=spec.external_id)
        if created is None:
            raise
        return created


def create_offer(db: Database, register_id: int, spec: OfferSpec) -> Offer:
    try:
        with db.write() as conn:
            return create_offer_in(conn, register_id, spec)
    except IntegrityError as exc:  # a concurrent create with the same externalId won the race
        raise Conflict(f"an offer with externalId {excerpt(spec.external_id)} already exists") from exc


def get_offer(db: Database, register_id: int, offer_id: int) -> Offer:
    with db.read() as conn:
        offer = repo.find_offer(conn, register_id, offer_id=offer_id)
    if offer is None:
        raise NotFound(f"offer {offer_id} not found")
    return offer


def list_offers(
    db: Database, register_id: int, *, external_id: str | None, type_: str | None, include_archived: bool
) -> list[Offer]:
    with db.read() as conn:
        return repo.list_offers(
            conn, register_id, external_id=external_id, type_=type_, include_archived=include_archived
        )


def rename_offer(db: Database, register_id: int, offer_id: int, title: OfferTitle) -> Offer:
    with db.write() as conn:
        offer = repo.find_offer(conn, register_id, offer_id=offer_id)
        if offer is None:
            raise NotFound(f"offer {offer_id} not found")
        repo.set_offer_title(conn, offer_id, title)
        updated = repo.find_offer(conn, register_id, offer_id=offer_id)
    assert updated is not None
    return updated


def archive_offer(db: Database, register_id: int, offer_id: int) -> Offer:
    with db.write() as conn:
        offer = repo.find_offer(conn, register_id, offer_id=offer_id)
        if offer is None:
            raise NotFound(f"offer {offer_id} not found")
        if offer.archived_at is None:
            repo.set_offer_archived(conn, offer_id, now_ms())
        updated = repo.find_offer(conn, register_id, offer_id=offer_id)
    assert updated is not None
    return updated
