"""Headless Chromium driven over the Chrome DevTools Protocol, and the app on real uvicorn.

Shared by the browser tests (`/live`, the web app). `chromium()` starts Debian's Chromium with
a fresh profile and yields a `DevTools` session on a new tab; the session keeps every event
Chromium sends (console messages, exceptions, requests) so a test can check them at the end.
Without Chromium the tests skip, except under CI=true, where they fail.
"""

import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import ByteReceiveStream
from websockets.asyncio.client import ClientConnection, connect

from audiograb.api import create_app
from audiograb.config import Settings
from audiograb.pipeline import open_audiograb
from audiograb.server.http import api_server, bind_socket
from audiograb.web import web_routes
from tests.servers import unavailable

__all__ = ["CHROMIUM", "DevTools", "chromium", "needs_chromium", "serving"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def needs_chromium() -> None:
    """Skip without Chromium; under CI=true a missing Chromium is a failure."""
    if CHROMIUM is not None:
        return
    unavailable("needs Debian's chromium (apt-get install -y chromium)")


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The API with the web pages on a real uvicorn server; yields its base URL."""
    async with open_audiograb(settings) as ag:
        app = create_app(ag, settings=settings, extra_routes=web_routes)
        sock = bind_socket("127.0.0.1", 0)
        server = api_server(app, settings, log_level="warning")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(server.serve, [sock])
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True


class DevTools:
    """A minimal Chrome DevTools Protocol client over one flattened page session."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.session: str | None = None
        self.events: list[dict[str, Any]] = []
        """Every event received so far (`method`, `params`), oldest first."""

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        await self._socket.send(json.dumps(message))
        async for raw in self._socket:
            reply = json.loads(raw)
            if "method" in reply:
                self.events.append(reply)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
        raise RuntimeError("DevTools closed the connection")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, condition: str, *, seconds: float) -> Any:
        """The value of `condition` (a JS expression) once it is truthy in the page."""
        with anyio.fail_after(seconds + 5):
            values = {"condition": condition, "ms": seconds * 1000, "text": json.dumps(condition)}
            return await self.evaluate(_WAIT_JS % values)

    async def open(self, url: str, ready: str = "true", *, seconds: float = 20) -> None:
        """Navigate to `url` and wait until the page has loaded and `ready` holds."""
        await self.call("Page.navigate", url=url)
        await self.wait_for(f"document.readyState === 'complete' && ({ready})", seconds=seconds)

    def console_errors(self) -> list[str]:
        """Errors the page's scripts logged or threw (network answers aside: a 401 or 422
        the page handles is no error of its own)."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(str(details.get("exception", {}).get("description") or details))
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "assert",
            ):
                found.append(" ".join(str(arg.get("value", arg)) for arg in params["args"]))
            elif (
                event["method"] == "Log.entryAdded"
                and params["entry"]["level"] == "error"
                and params["entry"]["source"] != "network"
            ):
                found.append(params["entry"]["text"])
        return found

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for (Network must be enabled)."""
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event["method"] == "Network.requestWillBeSent"
        ]


_WAIT_JS = """new Promise((resolve, reject) => {
  const deadline = Date.now() + %(ms)d;
  const check = () => {
    let value;
    try { value = (%(condition)s); } catch (error) { value = false; }
    if (value) resolve(value);
    else if (Date.now() > deadline) reject(new Error("timed out waiting for: " + %(text)s));
    else setTimeout(check, 100);
  };
  check();
})"""


@asynccontextmanager
async def chromium(profile: Path, *extra: str) -> AsyncIterator[DevTools]:
    """Headless Chromium (with `extra` arguments) and a DevTools session on a new tab."""
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--no-first-run",
        "--autoplay-policy=no-user-gesture-required",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        *extra,
        "about:blank",
    ]
    async with await anyio.open_process(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        try:
            assert process.stderr is not None
            url = await _devtools_url(process.stderr)
            async with connect(url, max_size=None) as socket:
                tools = DevTools(socket)
                target = await tools.call("Target.createTarget", url="about:blank")
                attached = await tools.call(
                    "Target.attachToTarget", targetId=target["targetId"], flatten=True
                )
                tools.session = attached["sessionId"]
                yield tools
        finally:
            process.terminate()


async def _devtools_url(stderr: ByteReceiveStream) -> str:
    """Read Chromium's stderr until it says where DevTools listens."""
    seen = b""
    with anyio.fail_after(30):
        async for chunk in stderr:
            seen += chunk
            for line in seen.decode(errors="replace").splitlines():
                if line.startswith("DevTools listening on "):
                    return str(line.removeprefix("DevTools listening on ").strip())
    raise RuntimeError(f"Chromium did not start: {seen.decode(errors='replace')[-2000:]}")
