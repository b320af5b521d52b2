"""JSON responses rendered with orjson; Decimals become JSON numbers (the contract's money format)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import JSONResponse

from openvcr.core.money import to_json_number


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_json_number(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default)


class FastJSONResponse(JSONResponse):
    """``application/json; charset=utf-8`` via orjson, UTF-8 text kept as is."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return dumps(content)
