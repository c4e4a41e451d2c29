"""A loopback HTTP server for tests: serves a folder of media with switchable misbehaviour.

It runs the stdlib `ThreadingHTTPServer` on its own thread, so it serves sync tests, async tests
on either anyio backend, and yt-dlp's worker threads alike. Files get their Content-Type,
Content-Length and `Range` (206) support; HLS playlists get `application/vnd.apple.mpegurl`.
Switches: redirects, 404s, connections dropped mid-body, bandwidth limits, endless chunked
bodies (a stream that never ends), a per-request latency and headers of your own (a
Content-Type, a Content-Disposition). Every request is logged.

    with media_server(tmp_path) as server:
        server.drop_after("/tone.m4a", 10_000)
        url = server.url("/tone.m4a")
"""

import contextlib
import re
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["MediaServer", "RequestRecord", "media_server"]

_CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".opus": "audio/ogg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".aac": "audio/aac",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
_CHUNK = 16 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it."""

    method: str
    path: str
    range: str | None


@dataclass
class _Drop:
    nbytes: int
    remaining: int


@dataclass
class MediaServer:
    """The running server; its switches may be flipped while it serves."""

    root: Path
    base_url: str = ""
    latency: float = 0.0
    """Seconds every request waits before it is answered."""
    requests: list[RequestRecord] = field(default_factory=list)
    _redirects: dict[str, tuple[str, int]] = field(default_factory=dict)
    _missing: set[str] = field(default_factory=set)
    _endless: set[str] = field(default_factory=set)
    _drops: dict[str, _Drop] = field(default_factory=dict)
    _rates: dict[str, float] = field(default_factory=dict)
    _headers: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        """The absolute URL of `path` (leading slash optional)."""
        return self.base_url + "/" + path.lstrip("/")

    def redirect(self, from_path: str, to: str, status: int = 302) -> None:
        """Answer `from_path` with a redirect to `to`, a path here or an absolute URL."""
        target = to if "://" in to else self.url(to)
        self._redirects[_norm(from_path)] = (target, status)

    def not_found(self, path: str) -> None:
        """Answer `path` with 404 even if the file exists."""
        self._missing.add(_norm(path))

    def endless(self, path: str) -> None:
        """Answer `path` with its file's bytes over and over, chunked, until the client leaves."""
        self._endless.add(_norm(path))

    def drop_after(self, path: str, nbytes: int, times: int = 1) -> None:
        """Close the connection after `nbytes` of the body, on the first `times` requests."""
        self._drops[_norm(path)] = _Drop(nbytes=nbytes, remaining=times)

    def slow(self, path: str, bytes_per_second: float | None) -> None:
        """Send the body of `path` at about `bytes_per_second`; None: full speed again."""
        if bytes_per_second is None:
            self._rates.pop(_norm(path), None)
        else:
            self._rates[_norm(path)] = bytes_per_second

    def set_headers(self, path: str, **headers: str) -> None:
        """Answer `path` with these headers too, over the defaults of the same name.

        Python names stand for header names: `Content_Type="audio/mpeg"`.
        """
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        self._headers[_norm(path)] = named

    def requests_for(self, path: str) -> list[RequestRecord]:
        """The logged requests for `path`."""
        with self._lock:
            return [record for record in self.requests if record.path == _norm(path)]

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def _take_drop(self, path: str) -> int | None:
        with self._lock:
            drop = self._drops.get(path)
            if drop is None or drop.remaining <= 0:
                return None
            drop.remaining -= 1
            return drop.nbytes


def _norm(path: str) -> str:
    return "/" + urllib.parse.unquote(urllib.parse.urlsplit(path).path).lstrip("/")


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet; the request log is on the `MediaServer`."""

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def _answer(self, *, with_body: bool) -> None:
        state = self.server.state
        path = _norm(self.path)
        state._log(RequestRecord(self.command, path, self.headers.get("Range")))
        if state.latency:
            state._stopping.wait(state.latency)
        if path in state._redirects:
            target, status = state._redirects[path]
            self._empty(status, Location=target)
            return
        file = (state.root / path.lstrip("/")).resolve()
        if path in state._missing or not file.is_relative_to(state.root) or not file.is_file():
            self._empty(HTTPStatus.NOT_FOUND)
            return
        data = file.read_bytes()
        if path in state._endless:
            self._endless_body(file.suffix, data, with_body=with_body)
            return
        start, end = 0, len(data)
        status = HTTPStatus.OK
        headers = {
            "Content-Type": _CONTENT_TYPES.get(file.suffix, "application/octet-stream"),
            "Accept-Ranges": "bytes",
        }
        headers.update(state._headers.get(path, {}))
        byte_range = _parse_range(self.headers.get("Range"), len(data))
        if byte_range is not None:
            start, end = byte_range
            status = HTTPStatus.PARTIAL_CONTENT
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if with_body:
            self._send_body(path, data[start:end])

    def _send_body(self, path: str, body: bytes) -> None:
        state = self.server.state
        cut = state._take_drop(path)
        if cut is not None:
            body = body[:cut]
            self.close_connection = True
        rate = state._rates.get(path)
        chunk = min(_CHUNK, max(1, int(rate / 10))) if rate else _CHUNK
        with contextlib.suppress(ConnectionError):
            for offset in range(0, len(body), chunk):
                if state._stopping.is_set():
                    break
                self.wfile.write(body[offset : offset + chunk])
                self.wfile.flush()
                if rate:
                    state._stopping.wait(chunk / rate)

    def _endless_body(self, suffix: str, data: bytes, *, with_body: bool) -> None:
        """A chunked 200 that repeats `data` for ever: no length, no end."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", _CONTENT_TYPES.get(suffix, "application/octet-stream"))
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        if not with_body:
            return
        state = self.server.state
        with contextlib.suppress(ConnectionError):
            while not state._stopping.is_set():
                for offset in range(0, len(data), _CHUNK):
                    chunk = data[offset : offset + _CHUNK]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()

    def _empty(self, status: int, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Parse a single `bytes=` range into `[start, end)`; None for no or an unusable range."""
    match = _RANGE.match(header or "")
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    elif last:
        start, end = max(0, size - int(last)), size
    else:
        return None
    return (start, end) if start < end else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, state: MediaServer, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.state = state


@contextlib.contextmanager
def media_server(root: Path, host: str = "127.0.0.1") -> Iterator[MediaServer]:
    """Serve `root` on `host` (a loopback address) at a free port for the block's duration."""
    state = MediaServer(root=root.resolve())
    server = _Server(state, host)
    state.base_url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="media-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    """`python -m tests.mediaserver ROOT [LATENCY]`: serve ROOT from a process of its own.

    Prints the base URL, then serves until stdin closes. Benchmarks use it so that the
    server's threads do not compete with the code being measured for its interpreter lock.
    """
    root = Path(sys.argv[1])
    with media_server(root) as server:
        server.latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
