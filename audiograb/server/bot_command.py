"""`audiograb bot`: run the Telegram bot in polling mode (and the pipeline under it)."""

import logging

import asyncclick as click

from audiograb.cli.common import EXIT_USAGE, fail, reports_errors, settings_of
from audiograb.logs import configure_logging

__all__ = ["bot_command"]


@click.command("bot")
@click.option("-v", "--verbose", is_flag=True, help="Log every update and API call.")
@click.pass_context
@reports_errors
async def bot_command(ctx: click.Context, verbose: bool) -> None:
    """Run the Telegram bot with long polling (see docs/bot.md).

    Needs AUDIOGRAB_BOT_TOKEN and AUDIOGRAB_BOT_ALLOWED_IDS; stop it with Ctrl-C.
    """
    settings = settings_of(ctx)
    if not settings.bot_token:
        fail("the bot needs a token: set AUDIOGRAB_BOT_TOKEN [invalid_request]", EXIT_USAGE)
    if not settings.bot_allowed_ids:
        click.echo(
            "warning: AUDIOGRAB_BOT_ALLOWED_IDS is empty; the bot will refuse everyone", err=True
        )
    # Imported here: aiogram and the pipeline would slow every other command.
    from audiograb.bot import open_bot
    from audiograb.pipeline import open_audiograb

    configure_logging(settings, level=logging.DEBUG if verbose else logging.INFO)
    async with open_audiograb(settings, serve=True) as ag, open_bot(ag) as bot:
        await bot.run_polling()
