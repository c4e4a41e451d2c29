"""The Telegram bot: aiogram routers over the `Audiograb` facade, with live progress.

    async with open_audiograb(settings) as ag, open_bot(ag) as bot:
        await bot.run_polling()

Webhook mode: `webhook_handler(bot)` is a Litestar route handler for the composition root.
"""

from audiograb.bot.flood import Pacing
from audiograb.bot.limits import Limits
from audiograb.bot.redact import redact_token
from audiograb.bot.service import BotService, open_bot
from audiograb.bot.webhook import SECRET_HEADER, WEBHOOK_PATH, webhook_handler

__all__ = [
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "BotService",
    "Limits",
    "Pacing",
    "open_bot",
    "redact_token",
    "webhook_handler",
]
