"""``Idempotency-Key`` on every POST: wraps a use case so that a key yields at most one document.

The use case receives the document key to use (derived from the idempotency key, or fresh when there is
none). See ``openvcr.registers.idempotency`` for the rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Header
from pydantic import BaseModel
from starlette.responses import Response

from openvcr.api.context import AppContext
from openvcr.api.responses import FastJSONResponse, dumps
from openvcr.core.errors import AuthorityInDoubt, OpenVCRError
from openvcr.registers import idempotency
from openvcr.registers.models import Principal

MAX_KEY_LENGTH = 255

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes the POST safe to retry: the same key and body return the stored response.",
    ),
]
IDEMPOTENCY_DOC = {
    "description": "The stored response of an earlier request with the same Idempotency-Key",
    "headers": {"Idempotency-Replayed": {"schema": {"type": "string"}, "description": "true on a replay"}},
}


def run_idempotent(
    ctx: AppContext,
    principal: Principal,
    key: str | None,
    route: str,
    body: BaseModel,
    action: Callable[[str], BaseModel],
) -> Response:
    """Run ``action(document_key)`` at most once per ``Idempotency-Key``; replay stored responses."""
    if key is None:
        return FastJSONResponse(action(f"{route}:{principal.register_id}:{uuid.uuid4().hex}").model_dump(by_alias=True))
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        from openvcr.core.errors import ValidationFailed

        raise ValidationFailed.at(["Idempotency-Key"], f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    digest = idempotency.request_hash(route, body.model_dump(mode="json", by_alias=True))
    stored = idempotency.begin(ctx.db, principal.register_id, key, route, digest)
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status_code,
            media_type=FastJSONResponse.media_type,
            headers={"Idempotency-Replayed": "true"},
        )
    try:
        result = action(f"{route}:{principal.register_id}:key:{key}")
    except AuthorityInDoubt:
        raise  # the key stays pending: a retry resumes the same document
    except OpenVCRError:
        idempotency.forget(ctx.db, principal.register_id, key)
        raise
    payload = dumps(result.model_dump(by_alias=True))
    idempotency.finish(ctx.db, principal.register_id, key, 200, payload)
    return Response(payload, status_code=200, media_type=FastJSONResponse.media_type)
