"""Path and query parameters the routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from openvcr.core.limits import MAX_ID

ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="The resource's id (1 to 2**53 − 1)")]
