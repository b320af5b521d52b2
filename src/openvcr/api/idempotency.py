"""``Idempotency-Key`` on the four fiscal POSTs: the key points at the document (``openvcr.documents``).

A replay answers the stored response byte for byte with ``Idempotent-Replay: true`` (and, for clients of the
previous release, ``Idempotency-Replayed: true``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header
from pydantic import BaseModel
from starlette.responses import Response

from openvcr.api.responses import FastJSONResponse
from openvcr.documents.models import MAX_KEY_LENGTH, Outcome, RequestKey
from openvcr.registers.models import Principal

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=f"Makes the POST safe to retry (1 to {MAX_KEY_LENGTH} characters, per endpoint and register, "
        "kept 30 days): the same key and body return the stored response; another body is a 422; the same key "
        "while the first request is in flight is a 409.",
    ),
]
IDEMPOTENCY_DOC = {
    "description": "The stored response of an earlier request with the same Idempotency-Key",
    "headers": {
        "Idempotent-Replay": {"schema": {"type": "string"}, "description": "true on a replay"},
        "Idempotency-Replayed": {"schema": {"type": "string"}, "description": "true on a replay (previous name)"},
    },
}
REPLAY_HEADERS = {"Idempotent-Replay": "true", "Idempotency-Replayed": "true"}


def request_key(principal: Principal, endpoint: str, key: str | None, body: BaseModel) -> RequestKey:
    """The document key of a fiscal POST (scoped by endpoint and the caller's register)."""
    return RequestKey.of(endpoint, principal.register_id, key, body.model_dump(mode="json", by_alias=True))


def fiscal_response(outcome: Outcome) -> Response:
    """The stored response of a fiscal document (first answer and replays alike)."""
    return Response(
        outcome.body,
        status_code=200,
        media_type=FastJSONResponse.media_type,
        headers=REPLAY_HEADERS if outcome.replayed else None,
    )
