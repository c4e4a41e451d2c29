"""`BotContext`: everything a handler needs, made once per bot service and passed to handlers.

Handlers receive it as their `ctx` argument (aiogram injects dispatcher workflow data by name).
"""

from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot

from audiograb.bot.editor import ProgressEditor, Spawn
from audiograb.bot.filecache import FileIdCache
from audiograb.bot.limits import Limits, UserJobs
from audiograb.bot.links import PendingLinks
from audiograb.bot.stopping import Stopping
from audiograb.pipeline import Audiograb

__all__ = ["BotContext"]


@dataclass(frozen=True, slots=True)
class BotContext:
    """The facade, the bot, and the bot's own state."""

    ag: Audiograb
    bot: Bot
    editor: ProgressEditor
    limits: Limits
    jobs: UserJobs
    links: PendingLinks
    files: FileIdCache
    stopping: Stopping
    spawn: Spawn
    """Run a task in the bot service's task group (outliving the handler that starts it)."""
    scratch: Path
    """A folder for downloaded voice messages."""

    def file_link(self, job_id: str) -> str | None:
        """Where the API serves a job's file, when the API has a public URL."""
        base = self.ag.settings.public_url
        return f"{base.rstrip('/')}/api/jobs/{job_id}/file" if base else None
