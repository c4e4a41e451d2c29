"""The allow-list: the bot serves only the user and chat ids in the `bot_allowed_ids` setting.

An outer middleware on every update, so nothing else runs for strangers. They get one polite
answer per message or button press, with their id so they can ask the owner to add them.
"""

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update, User

from audiograb.bot import texts

__all__ = ["AllowList"]

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class AllowList(BaseMiddleware):
    """Pass updates from allowed users or chats on; refuse the rest politely."""

    def __init__(self, allowed: Collection[int]) -> None:
        self._allowed = frozenset(allowed)

    def allows(self, user: User | None, chat: Chat | None) -> bool:
        """Whether the sender or the chat is on the list."""
        return (user is not None and user.id in self._allowed) or (
            chat is not None and chat.id in self._allowed
        )

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if self.allows(user, data.get("event_chat")):
            return await handler(event, data)
        if isinstance(event, Update) and user is not None:
            refusal = texts.REFUSED.format(user_id=user.id)
            if event.message is not None:
                await event.message.answer(refusal)
            elif event.callback_query is not None:
                await event.callback_query.answer(refusal, show_alert=True)
        return None
