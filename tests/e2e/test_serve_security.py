"""`audiograb serve` itself: one logging pipeline, client identity, request limits.

Each test runs the real command (uvicorn, Litestar and the pipeline as an operator runs
them) and talks to it over loopback.
"""

import json
from pathlib import Path

import httpx
import pytest

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
