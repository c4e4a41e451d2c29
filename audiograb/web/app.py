"""The web app's pages: grab and jobs (`/`), a job (`/jobs/{id}`), schedules, webhooks, docs.

Each page is the shared shell (`static/app/shell.html`: navigation, key prompt) around its
own body fragment, and runs one ES module of `static/app/`. No build step, no template engine:
the shell has four `{name}` slots filled here once and kept in memory. Pages and their files
are public, like `/live`: they hold no data; what they show comes from the API, with the key
the user gives in the page (kept in `sessionStorage`, sent as `X-API-Key`).
"""

import importlib.resources
import re
from functools import cache
from html import escape

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

__all__ = ["app_routes"]

#: The access guard's `opt` flag for routes that need no key (see `audiograb.api.access`).
_PUBLIC = {"public": True}

_NAV = (
    ("grab", "/", "Grab"),
    ("schedules", "/schedules", "Schedules"),
    ("webhooks", "/webhooks", "Webhooks"),
    ("live", "/live", "Live"),
    ("docs", "/docs", "API docs"),
)
_CURRENT = ' aria-current="page"'
_TITLES = {
    "grab": "Grab",
    "job": "Job",
    "schedules": "Schedules",
    "webhooks": "Webhooks",
    "docs": "API docs",
}
#: Swagger UI's files, served by the API (`audiograb.api.routes.docs`).
_DOCS_HEAD = (
    '<link rel="stylesheet" href="/api/schema/assets/swagger-ui.css">\n'
    '  <script src="/api/schema/assets/swagger-ui-bundle.js" defer></script>'
)
_ASSET = re.compile(r"[a-z][a-z0-9-]*\.(js|css)")
_TYPES = {"js": "text/javascript", "css": "text/css"}
_CSP = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
    "media-src 'self' blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
)
# Swagger UI sets inline styles through React and shows data: images.
_DOCS_CSP = _CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@cache
def _text(name: str) -> str:
    return importlib.resources.files(__package__).joinpath("static", "app", name).read_text()


@cache
def _page(page: str) -> bytes:
    nav = "".join(
        f'<li><a href="{href}"{_CURRENT if name == page else ""}>{label}</a></li>'
        for name, href, label in _NAV
    )
    html = (
        _text("shell.html")
        .replace("{title}", escape(_TITLES[page]))
        .replace("{head}", _DOCS_HEAD if page == "docs" else "")
        .replace("{nav}", nav)
        .replace("{main}", _text(f"{page}.html"))
        .replace("{page}", page)
    )
    return html.encode()


def _html(page: str) -> Response[bytes]:
    csp = _DOCS_CSP if page == "docs" else _CSP
    return Response(
        _page(page), media_type="text/html", headers={**_HEADERS, "Content-Security-Policy": csp}
    )


@get("/", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def grab_page() -> Response[bytes]:
    """Grab links, upload a file, and follow every job live."""
    return _html("grab")


@get("/jobs/{job_id:str}", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def job_page(job_id: FromPath[str]) -> Response[bytes]:
    """One job: its player, transcript, annotations and event timeline (read by the page)."""
    return _html("job")


@get("/schedules", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def schedules_page() -> Response[bytes]:
    """Planned downloads."""
    return _html("schedules")


@get("/webhooks", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def webhooks_page() -> Response[bytes]:
    """Webhook endpoints and deliveries."""
    return _html("webhooks")


@get("/docs", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def docs_page() -> Response[bytes]:
    """The API reference (Swagger UI from local files)."""
    return _html("docs")


@get("/app/{name:str}", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def app_asset(name: FromPath[str]) -> Response[bytes]:
    """The pages' modules and style sheet."""
    found = _ASSET.fullmatch(name)
    if found is None:
        raise NotFoundException(f"no such file: {name}")
    try:
        body = _text(name).encode()
    except FileNotFoundError:
        raise NotFoundException(f"no such file: {name}") from None
    return Response(body, media_type=_TYPES[found[1]], headers=_HEADERS)


app_routes: tuple[ControllerRouterHandler, ...] = (
    grab_page,
    job_page,
    schedules_page,
    webhooks_page,
    docs_page,
    app_asset,
)
