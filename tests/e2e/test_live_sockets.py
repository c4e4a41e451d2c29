"""Who may hold a live-transcription socket: the key is checked at the handshake when the
client sends one (header, `?token=` or cookie), sockets still waiting for their key are few
per client address, and every refusal counts against the rate limit."""

import json
from contextlib import AsyncExitStack
from typing import Any

import anyio
import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect

from audiograb.api.access import KEY_COOKIE
from audiograb.api.routes.live import MAX_PENDING_PER_CLIENT
from audiograb.cli.live import live_url
from audiograb.config import Settings
from tests.e2e.api_support import API_KEY, running_api

pytestmark = pytest.mark.anyio


async def first_message(socket: ClientConnection) -> dict[str, Any]:
    with anyio.fail_after(30):
        message: dict[str, Any] = json.loads(await socket.recv())
    return message


async def test_live_sockets_are_checked_at_the_handshake(settings: Settings) -> None:
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,), rate_limit_per_minute=20)
    async with running_api(keyed) as api, AsyncExitStack() as sockets:
        url = live_url(api.base_url)
        # A wrong key in a header is refused without waiting for `start`...
        wrong = await sockets.enter_async_context(
            connect(url, additional_headers={"X-API-Key": "wrong-key-0123456789"})
        )
        assert (await first_message(wrong))["code"] == "unauthorized"
        # ...and the key may come in a cookie, for pages that cannot set headers.
        cookie = {"Cookie": f"{KEY_COOKIE}={API_KEY}"}
        good = await sockets.enter_async_context(connect(url, additional_headers=cookie))
        await good.send(json.dumps({"type": "start"}))
        assert (await first_message(good))["type"] == "ready"
        # Thirty sockets without a key: a few may wait for their `start`, the rest are turned
        # away at once instead of being held until the start timeout.
        opened = [await sockets.enter_async_context(connect(url)) for _ in range(30)]
        refused = [await first_message(socket) for socket in opened[MAX_PENDING_PER_CLIENT:]]
        assert {(m["code"], m["fatal"]) for m in refused} == {("rate_limited", True)}
        # Every socket counted against the address's budget: REST is now refused too.
        async with api.client(key=False) as http:
            assert (await http.get("/api/jobs")).status_code == 429
