"""The aiogram routers: which update goes to which flow. Built per dispatcher (a router can
belong to one parent only, so none lives at module level)."""

from aiogram import F, Router
from aiogram.filters import Command, CommandStart

from audiograb.bot import flows
from audiograb.bot.incoming import is_transcribable
from audiograb.bot.keyboards import Pick, Stop

__all__ = ["COMMANDS", "build_router"]

#: The command menu Telegram shows, as (command, description).
COMMANDS = (
    ("help", "What I can do"),
    ("platforms", "Sites I can grab from"),
    ("status", "Your jobs"),
    ("cancel", "Stop your running jobs"),
    ("transcribe", "Transcribe a link: /transcribe URL"),
)


def build_router() -> Router:
    """Commands first, then buttons, media, any text that may hold a link, and finally a word
    on anything else sent in a private chat."""
    router = Router(name="audiograb")
    router.message.register(flows.on_help, CommandStart())
    router.message.register(flows.on_help, Command("help"))
    router.message.register(flows.on_platforms, Command("platforms"))
    router.message.register(flows.on_status, Command("status"))
    router.message.register(flows.on_cancel, Command("cancel"))
    router.message.register(flows.on_transcribe, Command("transcribe"))
    router.callback_query.register(flows.on_pick, Pick.filter())
    router.callback_query.register(flows.on_stop, Stop.filter())
    router.message.register(flows.on_voice, is_transcribable)
    router.message.register(flows.on_link, F.text | F.caption)
    router.message.register(flows.on_other, F.chat.type == "private")
    return router
