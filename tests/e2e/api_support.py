"""Helpers for API tests: a real uvicorn server on loopback, and a small streaming SSE reader.

async with running_api(settings) as api:
    async with api.client() as http:
        response = await http.get("/api/health")
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import httpx

from audiograb.api import create_app
from audiograb.config import Settings
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.server.http import ApiServer, api_server, bind_socket

__all__ = [
    "API_KEY",
    "RunningApi",
    "SseFrame",
    "frames_of",
    "frames_until_progress",
    "read_frames",
    "running_api",
]

API_KEY = "test-key-0123456789abcdef"


@dataclass(frozen=True)
class RunningApi:
    """A served app: its base URL, the `Audiograb` under it and the uvicorn server."""

    base_url: str
    ag: Audiograb
    server: ApiServer
    headers: dict[str, str] = field(default_factory=dict)

    def client(self, *, key: bool = True, timeout: float = 30.0) -> httpx.AsyncClient:
        """An HTTP client for this server, sending the API key unless `key=False`."""
        return httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers if key else {}, timeout=timeout
        )


@asynccontextmanager
async def running_api(settings: Settings, *, keepalive: float = 15.0) -> AsyncIterator[RunningApi]:
    """Start the pipeline and a real uvicorn server on 127.0.0.1 (a free port); stop both."""
    async with open_audiograb(settings, serve=True) as ag:
        app = create_app(ag, settings=settings, keepalive=keepalive)
        sock = bind_socket("127.0.0.1", 0)
        port = sock.getsockname()[1]
        server = api_server(app, settings, log_level="warning")
        headers = {"X-API-Key": settings.api_keys[0]} if settings.api_keys else {}
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(server.serve, [sock])
            try:
                yield RunningApi(f"http://127.0.0.1:{port}", ag, server, headers)
            finally:
                server.should_exit = True


@dataclass
class SseFrame:
    """One server-sent event, or a comment (`comment` set, the rest empty)."""

    id: int | None = None
    event: str | None = None
    data: str = ""
    comment: str | None = None


async def read_frames(response: httpx.Response) -> AsyncIterator[SseFrame]:
    """Parse a `text/event-stream` body as it arrives."""
    frame = SseFrame()
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield SseFrame(comment=line[1:].strip())
            continue
        if line == "":
            if frame.id is not None or frame.data:
                yield frame
            frame = SseFrame()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            frame.id = int(value)
        elif name == "event":
            frame.event = value
        elif name == "data":
            frame.data += value


async def frames_of(
    http: httpx.AsyncClient, path: str, *, headers: dict[str, str] | None = None
) -> list[SseFrame]:
    """Every event of a finite stream (a job's), comments left out."""
    with anyio.fail_after(60):
        async with http.stream("GET", path, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            return [frame async for frame in read_frames(response) if frame.comment is None]


async def frames_until_progress(http: httpx.AsyncClient, path: str, count: int) -> list[SseFrame]:
    """A job's events up to its `count`-th `download.progress`, then hang up (mid-download)."""
    seen: list[SseFrame] = []
    with anyio.fail_after(60):
        async with http.stream("GET", path) as response:
            async for frame in read_frames(response):
                if frame.comment is None:
                    seen.append(frame)
                if sum(f.event == "download.progress" for f in seen) == count:
                    break
    return seen
