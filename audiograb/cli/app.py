"""The command group: global options and the bare `audiograb URL` shortcut."""

from pathlib import Path

import asyncclick as click

from audiograb.cli import (
    batch,
    convert,
    download,
    info,
    jobs,
    live,
    platforms,
    queue,
    schedule,
    transcribe,
)
from audiograb.cli.common import looks_like_url


class UrlShortcutGroup(click.Group):
    """A group where `audiograb URL` means `audiograb download URL`."""

    async def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        first = args[0] if args else ""
        if self.get_command(ctx, first) is None and looks_like_url(first):
            args = ["download", *args]
        return await super().resolve_command(ctx, args)


@click.group(cls=UrlShortcutGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Job database and work folders "
    "(default: $AUDIOGRAB_DATA_DIR or ~/.local/share/audiograb).",
)
@click.version_option(package_name="audiograb")
async def cli(data_dir: Path | None) -> None:
    """Grab audio and video from X Spaces, podcasts, YouTube and more; convert and transcribe.

    `audiograb URL` is short for `audiograb download URL`.
    """


for _module in (download, info, convert, transcribe, live, jobs, platforms, batch, schedule, queue):
    cli.add_command(_module.command)
cli.add_command(schedule.schedules)
