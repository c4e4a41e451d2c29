"""`audiograb models`: the whisper models installed here and the languages they speak."""

import anyio
import asyncclick as click

from audiograb.cli.common import settings_of
from audiograb.pipeline import installed_models, language_policy


@click.command("models")
@click.pass_context
async def command(ctx: click.Context) -> None:
    """List the installed whisper models and their languages (for --model and --language)."""
    listed = await anyio.to_thread.run_sync(installed_models, language_policy(settings_of(ctx)))
    for model in listed.models:
        default = "  (default)" if model.name == listed.default_model else ""
        speaks = "every language below" if model.multilingual else ", ".join(model.languages)
        click.echo(f"{model.name}  [{model.source}]  {speaks}{default}")
    for language, name in sorted(listed.per_language.items()):
        click.echo(f"{language} → {name}")
    click.echo(f"languages: {' '.join(listed.languages)}")
