"""SQL of operator tokens and of the host's view of businesses and registers."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from openvcr.operators.models import Business, TokenInfo
from openvcr.store.db import now_ms
from openvcr.store.schema.foundation import business_entities
from openvcr.store.schema.operators import operator_tokens


def insert_token(conn: Connection, prefix: str, token_hash: str, name: str | None) -> int:
    return int(
        conn.execute(
            insert(operator_tokens)
            .values(prefix=prefix, token_hash=token_hash, name=name, created_at=now_ms())
            .returning(operator_tokens.c.id)
        ).scalar_one()
    )


def token_by_hash(conn: Connection, token_hash: str) -> TokenInfo | None:
    row = conn.execute(select(operator_tokens).where(operator_tokens.c.token_hash == token_hash)).first()
    return None if row is None else TokenInfo(row.id, row.prefix, row.name, row.created_at, row.revoked_at)


def list_tokens(conn: Connection) -> list[TokenInfo]:
    rows = conn.execute(select(operator_tokens).order_by(operator_tokens.c.id)).all()
    return [TokenInfo(r.id, r.prefix, r.name, r.created_at, r.revoked_at) for r in rows]


def revoke_token(conn: Connection, token_id: int) -> bool:
    result = conn.execute(
        update(operator_tokens)
        .where(operator_tokens.c.id == token_id, operator_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now_ms())
    )
    return result.rowcount == 1


def list_businesses(conn: Connection) -> list[Business]:
    rows = conn.execute(select(business_entities).order_by(business_entities.c.id)).all()
    return [Business(r.id, r.tin, r.name, r.address) for r in rows]


def business_by_id(conn: Connection, entity_id: int) -> Business | None:
    row = conn.execute(select(business_entities).where(business_entities.c.id == entity_id)).first()
    return None if row is None else Business(row.id, row.tin, row.name, row.address)


def business_by_tin(conn: Connection, tin: str) -> Business | None:
    row = conn.execute(select(business_entities).where(business_entities.c.tin == tin)).first()
    return None if row is None else Business(row.id, row.tin, row.name, row.address)
