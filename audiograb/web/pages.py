"""Litestar handlers for the static pages, read from the package once and kept in memory."""

import importlib.resources
from functools import cache

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

__all__ = ["live_routes"]

#: The access guard's `opt` flag for routes that need no key (see `audiograb.api.access`);
#: spelled out here because edges do not import each other.
_PUBLIC = {"public": True}

#: Content types (Litestar adds `; charset=utf-8` to `text/` types by itself).
_FILES = {
    "live.js": "text/javascript",
    "resampler-worklet.js": "text/javascript",
    "live.css": "text/css",
}
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; worker-src 'self' blob:"
    ),
}


@cache
def _asset(name: str) -> bytes:
    return importlib.resources.files(__package__).joinpath("static", name).read_bytes()


@get("/live", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def live_page() -> Response[bytes]:
    """The live transcription page."""
    return Response(_asset("live.html"), media_type="text/html", headers=_HEADERS)


@get("/live/{name:str}", opt=_PUBLIC, include_in_schema=False, sync_to_thread=False)
def live_asset(name: FromPath[str]) -> Response[bytes]:
    """The page's script, worklet and style sheet."""
    media_type = _FILES.get(name)
    if media_type is None:
        raise NotFoundException(f"no such file: {name}")
    return Response(_asset(name), media_type=media_type, headers=_HEADERS)


live_routes: tuple[ControllerRouterHandler, ...] = (live_page, live_asset)
