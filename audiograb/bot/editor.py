"""The progress editor: keeps each job's progress message current without flooding a chat.

Telegram throttles bots per chat, so edits are coalesced per chat: callers `show` the text a
message should have as often as they like; one drain task per busy chat sends the newest
wanted text of each waiting message, at most one edit per `interval` seconds in that chat,
from one job's message to the next.
A `retry_after` answer pushes that chat's next edit back by the time Telegram asks for and
keeps the text waiting; "message is not modified" counts as done; other refusals drop the edit
(the next `show` tries again). The job never sees any of it.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup

from audiograb.bot.flood import retry_after_left_to_caller

__all__ = ["EDIT_INTERVAL", "ProgressEditor", "Spawn"]

logger = logging.getLogger(__name__)

#: Seconds between two edits in one chat.
EDIT_INTERVAL = 2.0

Spawn = Callable[[Callable[[], Awaitable[None]]], None]


@dataclass(frozen=True, slots=True)
class _Look:
    text: str
    markup: InlineKeyboardMarkup | None


@dataclass(slots=True)
class _Lane:
    """One chat's queue: the newest wanted look per message, in order of first request."""

    pending: dict[int, _Look] = field(default_factory=dict)
    shown: dict[int, _Look] = field(default_factory=dict)
    sending: int | None = None
    draining: bool = False
    next_at: float = 0.0
    changed: anyio.Event = field(default_factory=anyio.Event)

    def notify(self) -> None:
        self.changed.set()
        self.changed = anyio.Event()

    def idle(self) -> bool:
        """Nothing to send or remember, and the chat's next edit could go out now."""
        return not (self.pending or self.shown or self.draining) and (
            self.next_at <= anyio.current_time()
        )


class ProgressEditor:
    """Coalesced `editMessageText` calls, at most one per `interval` seconds per chat.

    `spawn` starts a background task in the owner's task group (the bot service's).
    """

    def __init__(self, bot: Bot, spawn: Spawn, *, interval: float = EDIT_INTERVAL) -> None:
        self._bot = bot
        self._spawn = spawn
        self._interval = interval
        self._lanes: dict[int, _Lane] = {}

    def show(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        """Ask for the message to read `text` (with `markup`) soon; never waits."""
        lane = self._lane(chat_id)
        look = _Look(text, markup)
        if message_id not in lane.pending and lane.shown.get(message_id) == look:
            return
        lane.pending[message_id] = look
        if not lane.draining:
            lane.draining = True
            self._spawn(lambda: self._drain(chat_id, lane))

    def _lane(self, chat_id: int) -> _Lane:
        """The chat's lane; a new one forgets the idle lanes of other chats.

        A lane outlives its messages until its chat's spacing is over, so the next job's first
        edit in that chat keeps its distance from the last job's last one.
        """
        lane = self._lanes.get(chat_id)
        if lane is None:
            self._lanes = {chat: kept for chat, kept in self._lanes.items() if not kept.idle()}
            lane = self._lanes[chat_id] = _Lane()
        return lane

    async def settle(self, chat_id: int, message_id: int) -> None:
        """Wait until the message's latest wanted text was sent or given up on, then forget it.

        Returns at once when the chat's drain task is gone (stopped with the service).
        """
        lane = self._lanes.get(chat_id)
        if lane is None:
            return
        while lane.draining and (message_id in lane.pending or lane.sending == message_id):
            await lane.changed.wait()
        lane.shown.pop(message_id, None)

    async def _drain(self, chat_id: int, lane: _Lane) -> None:
        try:
            while lane.pending:
                await anyio.sleep(max(0.0, lane.next_at - anyio.current_time()))
                message_id, look = next(iter(lane.pending.items()))
                del lane.pending[message_id]
                lane.sending = message_id
                try:
                    await self._edit(chat_id, message_id, look, lane)
                finally:
                    # Counted from when the edit went out: the flood control may have held it.
                    lane.next_at = max(lane.next_at, anyio.current_time() + self._interval)
                    lane.sending = None
                    lane.notify()
        finally:
            lane.draining = False
            lane.notify()

    async def _edit(self, chat_id: int, message_id: int, look: _Look, lane: _Lane) -> None:
        try:
            with retry_after_left_to_caller():  # a retry would send a text that may be stale
                await self._bot.edit_message_text(
                    text=look.text, chat_id=chat_id, message_id=message_id, reply_markup=look.markup
                )
        except TelegramRetryAfter as error:
            lane.next_at = anyio.current_time() + error.retry_after
            # Keep the text waiting, first in line, unless a newer one replaced it meanwhile.
            lane.pending = {message_id: lane.pending.get(message_id, look), **lane.pending}
            logger.info("chat %s: Telegram asks to wait %s s", chat_id, error.retry_after)
            return
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                logger.warning("chat %s: edit refused: %s", chat_id, error.message)
                return
        except TelegramAPIError as error:
            logger.warning("chat %s: edit failed: %s", chat_id, error.message)
            return
        lane.shown[message_id] = look
