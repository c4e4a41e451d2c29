"""Static web pages served beside the API: `/live`, live transcription from the microphone.

The page, its script and its AudioWorklet ship as package data in `audiograb/web/static/`.
`web_routes` are Litestar handlers that `audiograb serve` passes to the API app; the pages
hold no secrets, so they are public (an API key, when needed, comes in the page's `?token=`
and goes to the WebSocket from there).
"""

from audiograb.web.pages import web_routes

__all__ = ["web_routes"]
