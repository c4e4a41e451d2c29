"""`audiograb serve`: run the REST API (and the pipeline under it) until stopped."""

import asyncclick as click

from audiograb.cli.common import EXIT_USAGE, fail, reports_errors, settings_of
from audiograb.logs import configure_logging

__all__ = ["command"]


@click.command("serve")
@click.option(
    "--host", default=None, help="Address to listen on [default: $AUDIOGRAB_HOST or 127.0.0.1]."
)
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [default: 8000].")
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow listening beyond loopback without API keys (anyone reaching it may use it).",
)
@click.option("--bot", "with_bot", is_flag=True, help="Run the Telegram bot in this process too.")
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    help="Log lines as JSON objects (with job and request ids) or plain text.",
)
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    insecure: bool,
    with_bot: bool,
    log_format: str,
) -> None:
    """Serve the REST API with server-sent progress (see docs/api.md)."""
    settings = settings_of(ctx, host=host, port=port)
    # Imported here: uvicorn, Litestar and the engines' probes would slow every other command.
    from audiograb.server.http import exposure_problem, serve

    if with_bot and not settings.bot_token:
        fail("--bot needs a token: set AUDIOGRAB_BOT_TOKEN [invalid_request]", EXIT_USAGE)
    problem = exposure_problem(settings, insecure=insecure)
    if problem is not None:
        fail(f"{problem} [invalid_request]", EXIT_USAGE)
    configure_logging(settings, json_lines=log_format == "json")
    try:
        await serve(settings, with_bot=with_bot)
    except OSError as error:
        fail(
            f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error} [network]"
        )
