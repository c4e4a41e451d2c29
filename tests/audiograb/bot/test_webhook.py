"""Webhook mode on a Litestar app: the secret header is checked, repeats are handled once,
and the request is answered before the work is done."""

from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from audiograb.bot import SECRET_HEADER, WEBHOOK_PATH, webhook_handler
from audiograb.config import SettingsError
from tests.audiograb.bot.conftest import USER_A, running_bot

pytestmark = pytest.mark.anyio

SECRET = "s3cret-Token_1"


async def test_webhook_checks_the_secret_and_handles_each_update_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        app = Litestar(route_handlers=[webhook_handler(h.bot, secret=SECRET)])
        update = {
            "update_id": 9_000,
            "message": h.api.user_message(USER_A, text="/help", entities=[
                {"type": "bot_command", "offset": 0, "length": 5}]),
        }  # fmt: skip
        # In this loop, as uvicorn would run it (Litestar's scope types are narrower than httpx's).
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as client:
            missing = await client.post(WEBHOOK_PATH, json=update)
            wrong = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: "nope"})
            good = {SECRET_HEADER: SECRET}
            first = await client.post(WEBHOOK_PATH, json=update, headers=good)
            again = await client.post(WEBHOOK_PATH, json=update, headers=good)
            junk = await client.post(WEBHOOK_PATH, content=b"[1, 2", headers=good)
            await h.api.wait_for("sendMessage", where=lambda c: c.chat_id == USER_A)
            later = {**update, "update_id": 9_001}
            await client.post(WEBHOOK_PATH, json=later, headers=good)
            await h.api.wait_for("sendMessage", count=2, where=lambda c: c.chat_id == USER_A)
    assert missing.status_code == wrong.status_code == 403
    assert first.status_code == again.status_code == 200
    assert first.json() == {"ok": True, "new": True}
    assert again.json() == {"ok": True, "new": False}
    assert junk.status_code == 400
    assert len(h.api.calls_to("sendMessage", USER_A)) == 2


async def test_start_webhook_registers_url_and_secret(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.bot.start_webhook("https://grab.example.org" + WEBHOOK_PATH, SECRET)
    [call] = h.api.calls_to("setWebhook")
    assert call.params["url"] == "https://grab.example.org/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]


@pytest.mark.parametrize("secret", ["", "has space", "x" * 257])
async def test_bad_secrets_are_refused_at_start(tmp_path: Path, secret: str) -> None:
    async with running_bot(tmp_path) as h:
        with pytest.raises(SettingsError, match="bot_webhook_secret"):
            webhook_handler(h.bot, secret=secret)
