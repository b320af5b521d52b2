"""Request bodies at the edge: a size limit checked before anything is read or parsed, and one strict JSON reader.

Rules:
- A body larger than ``OPENVCR_MAX_BODY_BYTES`` (default 1 MiB) is a **413** with the error envelope: refused
  on its ``Content-Length`` before a byte is read, or as soon as a streamed (chunked) body passes the limit.
  A ``Content-Length`` that is not a number is a 400.
- JSON is read by ``openvcr.core.jsontext.parse_json`` (UTF-8 only, numbers as ``Decimal``, no ``NaN``,
  bounded depth, no lone surrogates). Every body it refuses is the same 400, ``"Malformed JSON body"``,
  whatever went wrong (bad UTF-8, UTF-16, a BOM, depth, a stray byte): the error names the position, never
  the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openvcr.core.jsontext import parse_json

BODY_TOO_LARGE = "Request body too large"
_DIGITS = re.compile(rb"^[0-9]{1,19}$")


class BodyTooLarge(HTTPException):
    """A streamed body passed the limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"{BODY_TOO_LARGE}: at most {limit} bytes")


class StrictJSONRequest(Request):
    """A request whose ``json()`` is the strict reader (FastAPI turns its error into the envelope's 400)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route that reads JSON bodies with :class:`StrictJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


class BodyLimitMiddleware:
    """Refuses a body larger than ``max_bytes`` with a 413 (``respond`` writes the envelope)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        respond: Callable[[int, str], Response],
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not _DIGITS.match(value.strip()):
                    await self.respond(400, "Invalid Content-Length header")(scope, receive, send)
                    return
                if int(value) > self.max_bytes:
                    await self.refuse(scope, receive, send)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await self.refuse(scope, receive, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.respond(413, f"{BODY_TOO_LARGE}: at most {self.max_bytes} bytes")
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
