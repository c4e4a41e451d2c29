"""A loopback webhook receiver for tests: records every request and answers a settable status.

with webhook_receiver() as hooks:
    hooks.status = 503            # "down": every delivery fails
    ...
    hooks.status = 200            # back up
    await hooks.wait_until(lambda got: len(got) >= 4)
"""

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio

__all__ = ["Received", "WebhookReceiver", "webhook_receiver"]


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it, and the status it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class WebhookReceiver:
    """The running receiver; `status` may be changed while it serves."""

    base_url: str = ""
    status: int = 200
    received: list[Received] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def delivered(self) -> list[Received]:
        """The requests that were answered with a 2xx."""
        with self._changed:
            return [r for r in self.received if 200 <= r.status < 300]

    async def wait_until(
        self, done: Callable[[list[Received]], bool], within: float = 30.0
    ) -> list[Received]:
        """Wait until `done(received)` holds; raise TimeoutError after `within` seconds."""

        def wait() -> bool:
            with self._changed:
                return self._changed.wait_for(lambda: done(list(self.received)), within)

        if not await anyio.to_thread.run_sync(wait, abandon_on_cancel=True):
            raise TimeoutError(f"the receiver got {len(self.received)} requests")
        with self._changed:
            return list(self.received)

    def _record(self, received: Received) -> None:
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        state = self.server.state
        status = state.status
        headers = {name.lower(): value for name, value in self.headers.items()}
        state._record(Received(path=self.path, headers=headers, body=body, status=status))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, state: WebhookReceiver) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextlib.contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Serve on 127.0.0.1 at a free port for the block's duration."""
    state = WebhookReceiver()
    server = _Server(state)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
