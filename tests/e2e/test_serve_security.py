"""`audiograb serve` itself: one logging pipeline, client identity, request limits.

Each test runs the real command (uvicorn, Litestar and the pipeline as an operator runs
them) and talks to it over loopback.
"""

import contextlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx
import msgspec
import pytest

from audiograb.config import Settings
from tests.e2e.api_support import running_api
from tests.e2e.served import served

pytestmark = pytest.mark.slow

KEY = "serve-key-0123456789abcdef"


def test_every_line_is_json_and_keys_never_reach_the_log(tmp_path: Path) -> None:
    """Access lines included: uvicorn and Litestar keep the handlers `configure_logging` set."""
    with (
        served(tmp_path, {"AUDIOGRAB_API_KEYS": KEY}, "--log-format", "json") as server,
        httpx.Client(timeout=30) as http,
    ):
        events = http.get(server.url("/api/events"), params={"token": KEY, "after": "x"})
        guessed = http.get(server.url("/api/jobs"), params={"token": "guessed-key-12345"})
    assert (events.status_code, guessed.status_code) == (400, 401)
    entries = [json.loads(line) for line in server.lines if line.strip()]  # every line is JSON
    assert all({"ts", "level", "logger", "msg"} <= entry.keys() for entry in entries)
    access = [e["msg"] for e in entries if e["logger"] == "uvicorn.access"]
    assert any("/api/events?token=<redacted>" in line for line in access), access
    assert any("/api/jobs?token=<redacted>" in line for line in access), access
    assert not any(KEY in line or "guessed-key" in line for line in server.lines)


@pytest.mark.anyio
async def test_forwarded_for_counts_only_from_a_trusted_proxy(settings: Settings) -> None:
    """By default a client cannot pick its rate-limit identity with `X-Forwarded-For`."""
    limited = msgspec.structs.replace(settings, rate_limit_per_minute=2)
    proxied = msgspec.structs.replace(limited, trusted_proxies=("127.0.0.0/8",))
    statuses = []
    for case in (limited, proxied):
        async with running_api(case) as api, api.client() as http:
            statuses.append(
                [
                    (
                        await http.get("/api/jobs", headers={"X-Forwarded-For": f"203.0.113.{n}"})
                    ).status_code
                    for n in range(3)
                ]
            )
    assert statuses == [[200, 200, 429], [200, 200, 200]]


async def _exchange(base_url: str, head: bytes) -> bytes:
    """Send a raw request head in pieces while reading: what the server answers first.

    Reading goes on beside the sending, so an answer that comes before the server closes on a
    head it will not read on is seen before the connection is reset.
    """
    host, port = urlsplit(base_url).netloc.split(":")
    answer = bytearray()
    broken = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)

    async def read(stream: anyio.abc.ByteStream) -> None:
        with contextlib.suppress(*broken):
            while b"\r\n\r\n" not in answer:
                answer.extend(await stream.receive())

    with anyio.fail_after(30):
        async with (
            await anyio.connect_tcp(host, int(port)) as stream,
            anyio.create_task_group() as tasks,
        ):
            tasks.start_soon(read, stream)
            with contextlib.suppress(*broken):
                for start in range(0, len(head), 65_536):
                    if b"\r\n\r\n" in answer:
                        break
                    await stream.send(head[start : start + 65_536])
    return bytes(answer)


@pytest.mark.anyio
async def test_request_headers_have_limits(settings: Settings) -> None:
    """Too many headers, or too large ones, are refused before any route runs."""
    many = "".join(f"X-Filler-{n}: a\r\n" for n in range(2_000))
    large = "X-Filler: " + "a" * 40_000 + "\r\n"
    async with running_api(settings) as api:
        answers = [
            await _exchange(
                api.base_url, f"GET /api/jobs HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode()
            )
            for extra in ("", many, large)
        ]
        # A head that never ends is cut off once it passes the server's buffer, not read on.
        endless = b"GET /api/jobs HTTP/1.1\r\nHost: t\r\nX-Filler: " + b"a" * 8_000_000
        cut = await _exchange(api.base_url, endless)
    statuses = [answer.split(b"\r\n", 1)[0] for answer in answers]
    assert statuses == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 431 Request Header Fields Too Large",
        b"HTTP/1.1 431 Request Header Fields Too Large",
    ]
    assert b'"code":"headers_too_large"' in answers[1]
    assert cut.startswith(b"HTTP/1.1 400 "), cut
