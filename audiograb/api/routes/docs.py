"""The API docs' own assets: Swagger UI served from the installed `swagger-ui-py` package.

Litestar's viewers load their scripts from a CDN by default, so `/api/schema` showed a blank
page offline or behind a firewall. These routes serve the three files Swagger UI needs from
the package, and `SWAGGER` renders `/api/schema` with them; the web app's `/docs` page loads
the same files. No key needed: they are the same public files for everyone.
"""

import importlib.resources
from functools import cache

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath

from audiograb.api.access import PUBLIC

__all__ = ["ASSETS_PATH", "SWAGGER", "docs_asset"]

ASSETS_PATH = "/api/schema/assets"
"""Where the Swagger UI files are served."""

_PACKAGE = "swagger_ui"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
}

SWAGGER = SwaggerRenderPlugin(
    path=["/", "/swagger"],
    js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
    css_url=f"{ASSETS_PATH}/swagger-ui.css",
    standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
    favicon="",  # Litestar's default icon is another host's
)
"""`/api/schema`'s viewer, from local files."""


@cache
def _read(name: str) -> bytes:
    return importlib.resources.files(_PACKAGE).joinpath("static", name).read_bytes()


@get(
    f"{ASSETS_PATH}/{{name:str}}",
    opt={PUBLIC: True},
    include_in_schema=False,
    sync_to_thread=False,
)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    """One of Swagger UI's files (cached by the browser for a day)."""
    media_type = _TYPES.get(name)
    if media_type is None:
        raise NotFoundException(f"no such file: {name}")
    return Response(
        _read(name),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
