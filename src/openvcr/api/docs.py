"""The API reference pages and the front page, served from the package's own assets (no CDN, no fonts from
elsewhere), so that they load on an offline or locked-down server.

- ``GET /docs``: Swagger UI over ``/openapi.json`` (``static/swagger-ui``, swagger-ui-dist, Apache-2.0).
- ``GET /redoc``: ReDoc over the same document (``static/redoc``, redoc, MIT).
- ``GET /``: a small page naming the service and linking the references, the OpenAPI document and the health
  check.
- The assets are under ``/assets/docs/`` and may be cached for a day; the pages themselves are not cached.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from openvcr import __version__

ASSETS = Path(__file__).parent / "static"
ASSETS_PATH = "/assets/docs"
OPENAPI_URL = "/openapi.json"
_NO_STORE = {"Cache-Control": "no-store"}

_SWAGGER = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenVCR API reference</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/swagger-ui/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{OPENAPI_URL}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis]
}});
</script>
</body>
</html>
"""

_REDOC = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenVCR API reference</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/swagger-ui/favicon-32x32.png">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="{OPENAPI_URL}"></redoc>
<script src="{ASSETS_PATH}/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


def _render_front_page() -> str:
    links = (
        ("/docs", "API reference (Swagger UI)", "try every operation of the VCR API v1"),
        ("/redoc", "API reference (ReDoc)", "the same reference, for reading"),
        (OPENAPI_URL, "OpenAPI document", "for code generators and API tools"),
        ("/healthz", "Health check", "JSON; 200 while the service and its database answer"),
    )
    items = "\n".join(
        f'<li><a href="{escape(href)}">{escape(name)}</a> <span>— {escape(what)}</span></li>'
        for href, name, what in links
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenVCR</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #1d2330; }}
h1 {{ margin-bottom: 0.2rem; }} p.version {{ color: #5b6475; margin-top: 0; }}
li {{ margin: 0.5rem 0; }} span {{ color: #5b6475; }} code {{ background: #f1f3f7; padding: 0 0.2rem; }}
</style>
</head>
<body>
<h1>OpenVCR</h1>
<p class="version">Virtual cash register · version {escape(__version__)}</p>
<p>The VCR API v1 is under <code>/api/v1</code>; authenticate with the <code>X-API-KEY</code> header.</p>
<ul>
{items}
</ul>
</body>
</html>
"""


_FRONT_PAGE = _render_front_page()  # nothing on it changes while the process runs

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(_SWAGGER, headers=_NO_STORE)


@router.get("/redoc", response_class=HTMLResponse)
async def redoc() -> HTMLResponse:
    return HTMLResponse(_REDOC, headers=_NO_STORE)


@router.get("/", response_class=HTMLResponse)
async def front_page() -> HTMLResponse:
    return HTMLResponse(_FRONT_PAGE, headers=_NO_STORE)


class _CachedStatic(StaticFiles):
    """Package assets: versioned with the package, so a day of browser caching is safe."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def install_docs(app: FastAPI) -> None:
    """Serve the reference pages, the front page and their assets on ``app``."""
    app.include_router(router)
    app.mount(ASSETS_PATH, _CachedStatic(directory=ASSETS), name="docs-assets")
