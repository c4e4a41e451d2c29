"""`audiograb download URL`: grab one URL to a file, with a live progress bar."""

import asyncclick as click

from audiograb.cli.common import (
    overwrite_option,
    priority_option,
    quality_option,
    reports_errors,
    settings_of,
    with_scheme,
)
from audiograb.cli.follow import finish, follow
from audiograb.cli.output import check_writable, choose_format, refuse_existing, split_output
from audiograb.domain import AudioFormat, JobRequest, MediaKind, Quality
from audiograb.pipeline import open_audiograb

FORMATS = [f.value for f in AudioFormat]


@click.command("download")
@click.argument("url")
@click.option(
    "-f",
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format (default: the -o file's extension, else m4a; mp4 with --video).",
)
@quality_option()
@priority_option()
@click.option("--video", is_flag=True, help="Keep the video too (saved as mp4).")
@click.option("--playlist", is_flag=True, help="Download a whole playlist when the URL names one.")
@click.option(
    "-o",
    "--output",
    type=str,
    default=None,
    help="Output file, or folder (default: the current folder).",
)
@overwrite_option()
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    url: str,
    format_: str | None,
    quality: str,
    priority: int,
    video: bool,
    playlist: bool,
    output: str | None,
    overwrite: bool,
) -> None:
    """Download URL and save it as audio (or video with --video)."""
    media = MediaKind.VIDEO if video else MediaKind.AUDIO
    folder, dest = split_output(output)
    chosen = choose_format(format_, dest, AudioFormat.M4A, video=video)
    if dest is not None:
        refuse_existing(dest, overwrite)
    settings = settings_of(ctx, output_dir=folder)
    request = JobRequest(
        url=with_scheme(url),
        format=chosen,
        quality=Quality(quality),
        priority=priority,
        media=media,
        playlist=playlist,
    )
    async with open_audiograb(settings) as ag:
        job = await ag.prepare(request, dest=dest)  # a bad URL is refused first
        check_writable(folder)  # then the destination, before anything is fetched
        job = await ag.enqueue(job)
        done = await follow(ag, job.id)
    finish(done)
