"""Webhook mode: a Litestar route handler that takes Telegram's update deliveries.

The composition root adds it to the API app (`app.register(webhook_handler(bot, secret=...))`)
and tells Telegram where it is (`bot.start_webhook(public_url + WEBHOOK_PATH, secret)`). Each
delivery must carry the secret in `X-Telegram-Bot-Api-Secret-Token` (compared in constant
time; anything else is 403). The update is handed to the bot service, which handles it in the
background and ignores an update id it has seen, and the request is answered at once, so
Telegram never times out and redelivers. The route is marked public (`opt={"public": True}`):
the secret, not an API key, guards it.
"""

import hmac
import re
from typing import Any

import pydantic
from aiogram.types import Update
from litestar import Request, post
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler

from audiograb.bot.service import BotService
from audiograb.config import SettingsError

__all__ = ["SECRET_HEADER", "WEBHOOK_PATH", "webhook_handler"]

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def webhook_handler(
    service: BotService, *, secret: str, path: str = WEBHOOK_PATH
) -> HTTPRouteHandler:
    """A `POST path` handler feeding `service`; `secret` is the `bot_webhook_secret` setting."""
    if not _SECRET_SHAPE.fullmatch(secret):
        raise SettingsError(
            "invalid setting bot_webhook_secret (AUDIOGRAB_BOT_WEBHOOK_SECRET): "
            "1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    expected = secret.encode()

    @post(path, opt={"public": True}, include_in_schema=False, status_code=200)
    async def telegram_webhook(request: Request[Any, Any, Any]) -> dict[str, bool]:
        """Accept one update from Telegram."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            raise PermissionDeniedException("wrong or missing webhook secret")
        try:
            update = Update.model_validate_json(await request.body(), context={"bot": service.bot})
        except pydantic.ValidationError:
            raise ClientException("the body is not a Telegram update") from None
        return {"ok": True, "new": service.feed(update)}

    return telegram_webhook
