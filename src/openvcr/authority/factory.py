"""Choose the SrcGateway from settings: the in-process sandbox, or the HTTP client (sandbox or real SRC)."""

from __future__ import annotations

from openvcr.authority.gateway import SrcGateway
from openvcr.config import Settings


def build_gateway(settings: Settings) -> SrcGateway:
    raise NotImplementedError("the SRC gateway is being built")
