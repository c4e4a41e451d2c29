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
    models,
    platforms,
    queue,
    schedule,
    transcribe,
)
from audiograb.cli.common import looks_like_url


class UrlShortcutGroup(click.Group):
    """A group where `audiograb [OPTIONS] URL` means `audiograb download [OPTIONS] URL`.

    The download's options may come before the URL (`xdownloader -f mp3 URL`), as the
    original tool took them: without a command name, arguments holding a URL go to `download`.
    """

    async def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own = self._own_options_end(args)
        rest = args[own:]
        first = rest[0] if rest else ""
        if (
            self.get_command(ctx, first) is None
            and first not in ctx.help_option_names
            and any(looks_like_url(arg) for arg in rest)
        ):
            args = [*args[:own], "download", *rest]
        return await super().parse_args(ctx, args)

    def _own_options_end(self, args: list[str]) -> int:
        """Where the group's own options (`--data-dir DIR`, `--version`) end in `args`."""
        takes_value = {
            name: not param.is_flag
            for param in self.params
            if isinstance(param, click.Option)
            for name in param.opts
        }
        index = 0
        while index < len(args):
            name = args[index].split("=", 1)[0]
            if name not in takes_value:
                break
            index += 2 if takes_value[name] and "=" not in args[index] else 1
        return index


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


for _module in (
    download,
    info,
    convert,
    transcribe,
    live,
    jobs,
    platforms,
    models,
    batch,
    schedule,
    queue,
):
    cli.add_command(_module.command)
cli.add_command(schedule.schedules)
