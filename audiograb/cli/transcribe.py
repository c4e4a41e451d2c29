"""`audiograb transcribe URL|FILE`: speech to text, with a progress bar while whisper works."""

import sys
from pathlib import Path

import anyio
import asyncclick as click

from audiograb.cli.common import reports_errors, settings_of
from audiograb.cli.follow import finish, follow
from audiograb.cli.output import split_output
from audiograb.domain import Job, JobRequest, JobState, TranscribeOptions, TranscriptFormat, render
from audiograb.pipeline import open_audiograb

FORMATS = [f.value for f in TranscriptFormat]


def is_local(target: str) -> bool:
    """A file path rather than a URL: anything without a scheme (a missing one is then said to
    be missing, rather than an unsupported URL)."""
    return "://" not in target


def destination(output: str, target: str, job: Job, format_: str) -> Path:
    """Where `-o` writes: the file named, or in a folder (existing, or written with a trailing
    slash) a file named after the input file or, for a URL, after the job's own output."""
    folder, named = split_output(output)
    if named is not None:
        return named
    stem = Path(target if is_local(target) else job.output_path or job.id).stem
    return folder / f"{stem}.{format_}"


@click.command("transcribe")
@click.argument("target", metavar="URL|FILE")
@click.option(
    "--model",
    default=None,
    help="Model name or folder; default: tiny.en, or for other languages a multilingual "
    "model (`audiograb models` lists what is installed).",
)
@click.option(
    "--language",
    default=None,
    help="Language code such as en or zh; default: detect (`audiograb models` lists them).",
)
@click.option("--translate", is_flag=True, help="Translate the speech into English.")
@click.option(
    "-f",
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default=TranscriptFormat.TXT.value,
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=str,
    default=None,
    help="Write to this file, or into this folder, instead of stdout.",
)
@click.option("--beam-size", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--no-vad", is_flag=True, help="Transcribe silence too (no voice detection).")
@click.option("--prompt", default=None, help="Initial prompt: names, jargon, spelling hints.")
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    target: str,
    model: str | None,
    language: str | None,
    translate: bool,
    format_: str,
    output: str | None,
    beam_size: int,
    no_vad: bool,
    prompt: str | None,
) -> None:
    """Transcribe a URL's audio or a local FILE."""
    options = TranscribeOptions(
        language=language,
        task="translate" if translate else "transcribe",
        beam_size=beam_size,
        vad_filter=not no_vad,
        initial_prompt=prompt,
        model=model,
    )
    request = JobRequest(url=target, transcribe=True, keep_media=False, transcription=options)
    async with open_audiograb(settings_of(ctx)) as ag:
        if is_local(target):
            job = await ag.submit_file(Path(target), request)
        else:
            job = await ag.submit(request)
        done = await follow(ag, job.id)
        completed = done.state is JobState.COMPLETED
        text = render(await ag.transcript(job.id), TranscriptFormat(format_)) if completed else ""
    if not completed:
        finish(done)  # says why, and exits non-zero
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        dest = anyio.Path(destination(output, target, done, format_))
        await dest.parent.mkdir(parents=True, exist_ok=True)
        await dest.write_text(text, encoding="utf-8")  # Chinese in any locale
        click.echo(dest)
