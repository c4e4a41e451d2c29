"""The REST API: a Litestar app over the `Audiograb` facade, with server-sent progress.

    async with open_audiograb(settings) as ag:
        app = create_app(ag)          # serve it with uvicorn, or mount it in your own app

Routes, auth, errors and event streams are documented in docs/api.md.
"""

from audiograb.api.app import DEFAULT_KEEPALIVE, create_app, end_event_streams
from audiograb.api.readiness import Probe

__all__ = ["DEFAULT_KEEPALIVE", "Probe", "create_app", "end_event_streams"]
