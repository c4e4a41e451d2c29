"""The web app and the static pages served beside the API by `audiograb serve`.

`/` (grab and jobs), `/jobs/{id}`, `/schedules`, `/webhooks` and `/docs` are the web app
(`audiograb.web.app`: plain ES modules, no build step; see docs/web.md); `/live` is live
transcription from the microphone (`audiograb.web.pages`). Everything ships as package data in
`audiograb/web/static/`. `web_routes` are Litestar handlers that `serve` passes to the API
app; the pages hold no secrets, so they are public: the key, when one is needed, is asked for
in the page, kept in the tab's `sessionStorage` and sent in a header (or, on `/live`, in the
WebSocket's first message), never in a URL.
"""

from litestar.types import ControllerRouterHandler

from audiograb.web.app import app_routes
from audiograb.web.pages import live_routes

__all__ = ["web_routes"]

web_routes: tuple[ControllerRouterHandler, ...] = (*app_routes, *live_routes)
"""Every page route, for `create_app(..., extra_routes=web_routes)`."""
