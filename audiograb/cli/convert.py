"""`audiograb convert -f FORMAT FILE`: convert a local file, copying streams when they fit."""

import sys
from pathlib import Path

import anyio
import asyncclick as click

from audiograb.cli.common import fail, quality_option, reports_errors, settings_of
from audiograb.cli.download import FORMATS
from audiograb.cli.progress import ProgressLine
from audiograb.domain import AudioFormat, ConversionProgress, MediaKind, Quality
from audiograb.pipeline import open_audiograb


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def default_output(source: Path, target: AudioFormat) -> Path:
    """`space.m4a` -> `space.mp3`, beside the source."""
    return source.with_suffix(f".{target.value}")


@click.command("convert")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-f", "--format", "format_", type=click.Choice(FORMATS), required=True, help="Target format."
)
@quality_option()
@click.option("--video", is_flag=True, help="Keep the video stream (mp4 only).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file (default: FILE with the new extension).",
)
@click.option("--delete-original", is_flag=True, help="Remove FILE after a successful conversion.")
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    file: Path,
    format_: str,
    quality: str,
    video: bool,
    output: Path | None,
    delete_original: bool,
) -> None:
    """Convert FILE to another format (m4a -> mp4 is a remux, not an encode)."""
    target = AudioFormat(format_)
    dest = output or default_output(file, target)
    if _same_file(dest, file):
        fail(f"{dest} is the input file; choose another name with -o")
    line = ProgressLine(sys.stderr)

    def show(progress: ConversionProgress) -> None:
        line.show_conversion(progress)

    async with open_audiograb(settings_of(ctx), resume=False) as ag:
        try:
            await ag.convert_file(
                file,
                dest,
                format=target,
                quality=Quality(quality),
                media=MediaKind.VIDEO if video else MediaKind.AUDIO,
                on_progress=show,
            )
        finally:
            line.close()
    if delete_original:
        await anyio.Path(file).unlink()
    print(dest)
