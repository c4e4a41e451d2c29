"""`audiograb serve --bot`: the bot beside the API, taking Telegram updates by webhook."""

import msgspec
import pytest

from audiograb.bot import SECRET_HEADER, WEBHOOK_PATH
from audiograb.config import Settings
from audiograb.server.bot_beside import bot_beside
from tests.e2e.api_support import running_api
from tests.fakebotapi import TOKEN, fake_bot_api

pytestmark = pytest.mark.anyio

USER = 4242
SECRET = "webhook-secret-0123"


async def test_updates_arrive_by_webhook_on_the_api(settings: Settings) -> None:
    async with fake_bot_api() as telegram:
        with_bot = msgspec.structs.replace(
            settings,
            bot_token=TOKEN,
            bot_allowed_ids=(USER,),
            bot_api_base=telegram.base_url,
            bot_webhook_secret=SECRET,
        )
        async with running_api(with_bot) as api:
            public = msgspec.structs.replace(with_bot, public_url=api.base_url)
            async with bot_beside(api.server.app, api.ag, public):
                (hook,) = await telegram.wait_for("setWebhook")
                assert hook.params["url"] == api.base_url + WEBHOOK_PATH
                update = {"update_id": 1, "message": telegram.user_message(USER, text="/start")}
                async with api.client() as http:
                    refused = await http.post(WEBHOOK_PATH, json=update)
                    accepted = await http.post(
                        WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET}
                    )
                assert refused.status_code == 403
                assert accepted.status_code == 200
                await telegram.wait_for("sendMessage", where=lambda call: call.chat_id == USER)
