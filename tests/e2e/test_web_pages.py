"""The web app's pages and files, and the API docs' local assets, served in process.

What they do in a browser is tested in tests/e2e/test_web_browser.py; here: what the server
sends (the right page, types and security headers, no other host named, 404 for anything else).
"""

import re
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest

from audiograb.api import create_app
from audiograb.config import Settings
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.web import web_routes

pytestmark = pytest.mark.anyio

KEY = "k" * 24
PAGES = ["/", "/jobs/abc123", "/schedules", "/webhooks", "/docs", "/live"]
#: An absolute http(s) URL in an attribute: an asset from another host.
FOREIGN = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    keyed = msgspec.structs.replace(settings, api_keys=(KEY,))
    async with open_audiograb(keyed) as ag:
        yield client_of(ag, keyed)


def client_of(ag: Audiograb, settings: Settings) -> httpx.AsyncClient:
    app = create_app(ag, settings=settings, extra_routes=web_routes)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # ASGI types differ
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize("path", PAGES)
async def test_pages_need_no_key_and_name_no_other_host(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)  # no key: the page asks for one itself
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert FOREIGN.search(page.text) is None
    assert '<nav aria-label="Main">' in page.text
    assert ('aria-current="page"' in page.text) == (not path.startswith("/jobs/"))


async def test_each_page_runs_its_own_module(client: httpx.AsyncClient) -> None:
    for path, module in [("/", "grab"), ("/jobs/x", "job"), ("/docs", "docs")]:
        text = (await client.get(path)).text
        assert f'<script type="module" src="/app/{module}.js">' in text


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/app/app.css", "text/css"),
        ("/app/api.js", "text/javascript"),
        ("/app/grab.js", "text/javascript"),
        ("/api/schema/assets/swagger-ui-bundle.js", "text/javascript"),
        ("/api/schema/assets/swagger-ui.css", "text/css"),
    ],
)
async def test_files_are_served_with_their_type(
    client: httpx.AsyncClient, path: str, media_type: str
) -> None:
    answer = await client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(media_type)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert len(answer.content) > 100


@pytest.mark.parametrize(
    "path",
    [
        "/app/shell.html",
        "/app/nothing.js",
        "/app/..%2Fpages.py",
        "/app/.hidden.js",
        "/api/schema/assets/index.css",
        "/api/schema/assets/..%2F__init__.py",
    ],
)
async def test_nothing_else_is_served(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404


async def test_api_schema_page_loads_its_viewer_from_this_server(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/api/schema", headers={"X-API-Key": KEY})
    assert page.status_code == 200
    assert "/api/schema/assets/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert FOREIGN.search(page.text) is None


async def test_the_event_log_head(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/events/head", headers={"X-API-Key": KEY})
    assert answer.json() == {"last_event_id": 0}
    refused = await client.get("/api/events/head")
    assert refused.status_code == 401
