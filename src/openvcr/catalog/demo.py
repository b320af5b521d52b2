"""The demo catalogue of a new sandbox register: what the public API's quick start sells, so that its request
works unchanged on a fresh install.

Rules:
- Only a sandbox register gets it, once, when ``openvcr init`` (or ``serve`` on an empty database) creates the
  register; ``--no-demo`` skips it and a production register never has it.
- The offers point at the register's first department (VAT, ``dep`` 1, the API's department 1 on a fresh
  database) and carry real classifier codes: the quick start's ``SKU-001`` (a product, pieces) and ``SKU-002``
  (a service, delivery).
- An offer whose ``externalId`` already exists is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from openvcr.catalog import repository as repo
from openvcr.catalog.models import OfferTitle
from openvcr.catalog.service import OfferSpec, create_offer_in


@dataclass(frozen=True)
class DemoOffer:
    external_id: str
    type: str
    classifier_code: str
    unit: str
    title: dict[str, str]


DEMO_OFFERS = (
    DemoOffer(
        "SKU-001",
        "product",
        "847160",  # HS 8471 60: input or output units (keyboards, mice)
        "pc",
        {"hy": "Անլար մկնիկ", "ru": "Беспроводная мышь", "en": "Wireless mouse"},
    ),
    DemoOffer(
        "SKU-002",
        "service",
        "53.20",  # NACE 53.20: other postal and courier activities
        "unit",
        {"hy": "Առաքում", "ru": "Доставка", "en": "Delivery"},
    ),
)


def seed_demo_catalogue(conn: Connection, register_id: int) -> list[str]:
    """Create the demo offers missing from the register; return the external ids created."""
    departments = repo.list_departments(conn, register_id, confirmed_only=True)
    first = min(departments, key=lambda d: d.dep, default=None)
    if first is None:
        return []
    created = []
    for demo in DEMO_OFFERS:
        if repo.find_offer(conn, register_id, external_id=demo.external_id) is not None:
            continue
        spec = OfferSpec(
            type=demo.type,
            classifier_code=demo.classifier_code,
            title=OfferTitle("localized", dict(demo.title)),
            unit=demo.unit,
            department_id=first.id,
            external_id=demo.external_id,
        )
        create_offer_in(conn, register_id, spec)
        created.append(demo.external_id)
    return created
