"""`audiograb convert -f FORMAT FILE`: convert a local file, copying streams when they fit."""

import sys
from pathlib import Path

import anyio
import asyncclick as click

from audiograb.cli.common import (
    ExistingFile,
    overwrite_option,
    quality_option,
    reports_errors,
    settings_of,
)
from audiograb.cli.download import FORMATS
from audiograb.cli.output import check_writable, choose_format, refuse_existing, split_output
from audiograb.cli.progress import ProgressLine
from audiograb.domain import (
    AudioFormat,
    AudiograbError,
    ConversionProgress,
    ErrorCode,
    MediaKind,
    Quality,
)
from audiograb.pipeline import open_audiograb


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def default_output(source: Path, target: AudioFormat) -> Path:
    """`space.m4a` -> `space.mp3`, beside the source."""
    return source.with_suffix(f".{target.value}")


@click.command("convert")
@click.argument("file", type=ExistingFile())
@click.option(
    "-f",
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default=None,
    help="Target format (default: the -o file's extension; mp4 with --video).",
)
@quality_option()
@click.option("--video", is_flag=True, help="Keep the video stream (mp4 only).")
@click.option(
    "-o",
    "--output",
    type=str,
    default=None,
    help="Output file, or folder (default: FILE with the new extension, beside FILE).",
)
@overwrite_option()
@click.option("--delete-original", is_flag=True, help="Remove FILE after a successful conversion.")
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    file: Path,
    format_: str | None,
    quality: str,
    video: bool,
    output: str | None,
    overwrite: bool,
    delete_original: bool,
) -> None:
    """Convert FILE to another format (m4a -> mp4 is a remux, not an encode)."""
    folder, named = split_output(output) if output is not None else (file.parent, None)
    target = choose_format(format_, named, None, video=video)
    dest = named or folder / default_output(file, target).name
    if _same_file(dest, file):
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, f"{dest} is the input file; choose another name with -o"
        )
    refuse_existing(dest, overwrite)
    check_writable(dest.parent)
    line = ProgressLine(sys.stderr)

    def show(progress: ConversionProgress) -> None:
        line.show_conversion(progress)

    async with open_audiograb(settings_of(ctx)) as ag:
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
