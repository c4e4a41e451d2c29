"""`audiograb serve --bot`: the Telegram bot in the same process as the API.

With a public URL and a webhook secret configured, Telegram delivers updates to the API's
webhook route; otherwise the bot polls, beside the server.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar

from audiograb.bot import WEBHOOK_PATH, open_bot, redact_token, webhook_handler
from audiograb.config import Settings
from audiograb.pipeline import Audiograb

__all__ = ["bot_beside"]


@asynccontextmanager
async def bot_beside(app: Litestar, ag: Audiograb, settings: Settings) -> AsyncIterator[None]:
    """Run the bot for as long as the block runs: by webhook on `app` when set up, else polling."""
    if settings.bot_token:
        redact_token(settings.bot_token)
    async with open_bot(ag) as bot, anyio.create_task_group() as tasks:
        secret = settings.bot_webhook_secret
        if settings.public_url and secret:
            app.register(webhook_handler(bot, secret=secret))
            await bot.start_webhook(settings.public_url.rstrip("/") + WEBHOOK_PATH, secret)
        else:
            tasks.start_soon(bot.run_polling)
        yield
        tasks.cancel_scope.cancel()
