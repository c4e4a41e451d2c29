"""`audiograb download URL`: grab one URL to a file, with a live progress bar."""

from pathlib import Path

import asyncclick as click

from audiograb.cli.common import fail, quality_option, reports_errors, settings_of
from audiograb.cli.follow import finish, follow
from audiograb.domain import AudioFormat, JobRequest, MediaKind, Quality
from audiograb.pipeline import open_audiograb

FORMATS = [f.value for f in AudioFormat]


def split_output(output: str | None) -> tuple[Path, Path | None]:
    """`-o` names a folder (existing, or written with a trailing slash) or a file."""
    if output is None:
        return Path.cwd(), None
    path = Path(output)
    if output.endswith(("/", "\\")) or path.is_dir():
        return path, None
    return path.parent, path


@click.command("download")
@click.argument("url")
@click.option(
    "-f",
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format (default m4a; mp4 with --video).",
)
@quality_option()
@click.option("--video", is_flag=True, help="Keep the video too (saved as mp4).")
@click.option("--playlist", is_flag=True, help="Download a whole playlist when the URL names one.")
@click.option(
    "-o",
    "--output",
    type=str,
    default=None,
    help="Output file, or folder (default: the current folder).",
)
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    url: str,
    format_: str | None,
    quality: str,
    video: bool,
    playlist: bool,
    output: str | None,
) -> None:
    """Download URL and save it as audio (or video with --video)."""
    media = MediaKind.VIDEO if video else MediaKind.AUDIO
    chosen = AudioFormat(format_ or (AudioFormat.MP4 if video else AudioFormat.M4A))
    if video and chosen is not AudioFormat.MP4:
        fail("video downloads are saved as mp4; drop -f or use -f mp4")
    folder, dest = split_output(output)
    settings = settings_of(ctx, output_dir=folder)
    request = JobRequest(
        url=url, format=chosen, quality=Quality(quality), media=media, playlist=playlist
    )
    async with open_audiograb(settings, resume=False) as ag:
        job = await ag.submit(request, dest=dest)
        done = await follow(ag, job.id)
    finish(done)
