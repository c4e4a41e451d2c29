"""Flood control for every Bot API call: sends paced per chat, and `retry_after` honoured.

Telegram throttles bots: about one message a second in a chat, twenty a minute in a group and
thirty a second in all; beyond that it answers 429 with `retry_after`, the seconds to wait.
`FloodControl` is an aiogram request middleware on the bot's session, so every call goes
through it, whichever part of the bot makes it:

- a call into a chat (it has a `chat_id`: sends, edits) waits for that chat's turn, then for a
  turn among all chats; turns are handed out in the order asked for;
- a 429 pauses the chat it came from (or, for calls into no chat, those calls) for
  `retry_after` seconds and the call is made again after the pause, up to `Pacing.retries`
  times; then the `TelegramRetryAfter` reaches the caller.

Code that deals with `retry_after` itself (the progress editor keeps the newest text waiting
rather than resend an old one) makes its calls inside `retry_after_left_to_caller()`: they are
paced and their 429s still pause the chat, but the error goes straight back to the caller.
"""

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import anyio
from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

__all__ = ["FloodControl", "Pacing", "retry_after_left_to_caller"]

logger = logging.getLogger(__name__)

#: Chats remembered before those with no turn pending are forgotten.
_CHATS_KEPT = 1000
_LEFT_TO_CALLER: ContextVar[bool] = ContextVar("retry_after_left_to_caller", default=False)


@dataclass(frozen=True, slots=True)
class Pacing:
    """Seconds between calls into one chat, and how often a 429 is retried."""

    private: float = 1.0
    """In a private chat (Telegram: about one message a second)."""
    group: float = 3.0
    """In a group or channel (Telegram: twenty messages a minute)."""
    overall: float = 1 / 30
    """Between calls into any chats (Telegram: thirty messages a second)."""
    retries: int = 5
    """Times one call is made again after a 429."""


@contextlib.contextmanager
def retry_after_left_to_caller() -> Iterator[None]:
    """Calls made inside get a 429 back as `TelegramRetryAfter` instead of a retry."""
    token = _LEFT_TO_CALLER.set(True)
    try:
        yield
    finally:
        _LEFT_TO_CALLER.reset(token)


class _Turns:
    """Turns spaced in time, handed out in the order asked for, and a pause that holds them.

    A call that waited for its turn through a pause asks again, so calls held by a pause go
    out spaced after it rather than all at its end.
    """

    def __init__(self) -> None:
        self.next_at = 0.0
        self.paused_until = 0.0

    async def take(self, spacing: float) -> None:
        while True:
            now = anyio.current_time()
            turn = max(now, self.next_at, self.paused_until)
            self.next_at = turn + spacing
            await anyio.sleep(turn - now)
            if self.paused_until <= anyio.current_time():
                return

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, anyio.current_time() + seconds)

    def idle(self) -> bool:
        return max(self.next_at, self.paused_until) <= anyio.current_time()


class FloodControl(BaseRequestMiddleware):
    """Install with `session.middleware(FloodControl())`; see the module's docstring."""

    def __init__(self, pacing: Pacing | None = None) -> None:
        self._pacing = pacing or Pacing()
        self._chats: dict[int | str, _Turns] = {}
        self._all_chats = _Turns()
        self._no_chat = _Turns()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = _chat_of(method)
        turns = self._no_chat if chat_id is None else self._turns(chat_id)
        retries = 0
        while True:
            if chat_id is None:
                await turns.take(0.0)
            else:
                await turns.take(self._spacing(chat_id))
                await self._all_chats.take(self._pacing.overall)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                turns.pause(error.retry_after)
                if _LEFT_TO_CALLER.get() or retries >= self._pacing.retries:
                    raise
                retries += 1
                logger.info(
                    "%s in chat %s: Telegram asks to wait %s s (retry %d of %d)",
                    type(method).__name__,
                    chat_id,
                    error.retry_after,
                    retries,
                    self._pacing.retries,
                )

    def _spacing(self, chat_id: int | str) -> float:
        private = isinstance(chat_id, int) and chat_id > 0  # groups and channels are negative
        return self._pacing.private if private else self._pacing.group

    def _turns(self, chat_id: int | str) -> _Turns:
        if chat_id not in self._chats and len(self._chats) >= _CHATS_KEPT:
            self._chats = {chat: turns for chat, turns in self._chats.items() if not turns.idle()}
        return self._chats.setdefault(chat_id, _Turns())


def _chat_of(method: TelegramMethod[Any]) -> int | str | None:
    """The chat a call goes into, if any (an inline message's edit has none)."""
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int | str) else None
