"""``OneHopRoute``: a sync endpoint costs one hop off the event loop, not two.

FastAPI runs a plain ``def`` endpoint in a worker thread, and then, when the route has a response model,
validates the endpoint's answer in a worker thread again: two thread hand-offs per request, each a wake-up of
the event loop and a contention on the GIL. The routers of the API use this route class instead: it turns a
``def`` endpoint into a coroutine that runs the endpoint in one worker thread and lets FastAPI validate the
answer on the event loop, where it would hold the GIL just as long. Endpoints that are coroutines already are
left as they are. The endpoint's signature, name and annotations are unchanged (``functools.wraps``), so its
parameters, dependencies and OpenAPI entry are too. Bodies are read by ``openvcr.api.body``'s strict JSON reader.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from openvcr.api.body import StrictJSONRoute


def in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as a coroutine function that runs it in a worker thread (unchanged if it is one)."""
    if inspect.iscoroutinefunction(endpoint) or not inspect.isfunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


class OneHopRoute(StrictJSONRoute):
    """One hop off the event loop, and JSON bodies read strictly (``openvcr.api.body``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_one_hop(endpoint), **kwargs)
