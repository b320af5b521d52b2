"""JSON responses rendered with orjson; Decimals become JSON numbers (the contract's money format)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from openvcr.schemas import json_bytes as dumps


class FastJSONResponse(JSONResponse):
    """``application/json; charset=utf-8`` via orjson, UTF-8 text kept as is."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return dumps(content)
