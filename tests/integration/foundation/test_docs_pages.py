"""The API reference and the front page come from the package itself: no page refers to another host, and
every asset a page names is served."""

from __future__ import annotations

import re

import pytest

from tests.integration.foundation.conftest import Api

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/"])
def test_pages_name_only_their_own_assets_and_every_one_is_served(api: Api, path: str) -> None:
    page = api.client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "cdn" not in page.text.lower() and "googleapis" not in page.text
    references = ASSET.findall(page.text)
    assert references
    for reference in references:
        assert reference.startswith("/"), reference  # nothing from another host
        assert api.client.get(reference).status_code == 200, reference


def test_the_reference_pages_load_the_bundled_scripts_over_the_openapi_document(api: Api) -> None:
    swagger = api.client.get("/docs").text
    assert "/assets/docs/swagger-ui/swagger-ui-bundle.js" in swagger and 'url: "/openapi.json"' in swagger
    redoc = api.client.get("/redoc").text
    assert "/assets/docs/redoc/redoc.standalone.js" in redoc and 'spec-url="/openapi.json"' in redoc
    script = api.client.get("/assets/docs/swagger-ui/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert script.headers["cache-control"] == "public, max-age=86400"
    assert len(script.content) > 1_000_000  # the real bundle, not a placeholder
    front = api.client.get("/").text
    for link in ("/docs", "/redoc", "/openapi.json", "/healthz"):
        assert f'href="{link}"' in front


@pytest.mark.parametrize(
    "path",
    ["/assets/docs/nothing.js", "/assets/docs/../docs.py", "/assets/docs/%2e%2e/docs.py", "/assets/docs/../../cli.py"],
)
def test_nothing_outside_the_assets_is_served(api: Api, path: str) -> None:
    answer = api.client.get(path)
    assert answer.status_code == 404
    assert b"install_docs" not in answer.content and b"import" not in answer.content


def test_the_licences_ship_beside_the_assets(api: Api) -> None:
    for path in ("/assets/docs/swagger-ui/LICENSE", "/assets/docs/redoc/LICENSE"):
        answer = api.client.get(path)
        assert answer.status_code == 200 and b"License" in answer.content
