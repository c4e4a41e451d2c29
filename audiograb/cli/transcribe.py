"""`audiograb transcribe URL|FILE`: speech to text, with a progress bar while whisper works."""

import sys
from pathlib import Path

import anyio
import asyncclick as click

from audiograb.cli.common import overwrite_option, reports_errors, settings_of
from audiograb.cli.follow import finish, follow
from audiograb.cli.output import check_writable, pick_format, refuse_existing, split_output
from audiograb.domain import Job, JobRequest, JobState, TranscribeOptions, TranscriptFormat, render
from audiograb.pipeline import open_audiograb

FORMATS = [f.value for f in TranscriptFormat]


def is_local(target: str) -> bool:
    """A file path rather than a URL: anything without a scheme (a missing one is then said to
    be missing, rather than an unsupported URL)."""
    return "://" not in target


def destination(output: str, target: str, job: Job | None, format_: str) -> Path | None:
    """Where `-o` writes: the file named, or in a folder (existing, or written with a trailing
    slash) a file named after the input file or, for a URL, after the job's own output (None
    until the job has one)."""
    folder, named = split_output(output)
    if named is not None:
        return named
    if not is_local(target) and job is None:
        return None
    stem = Path(target if is_local(target) or job is None else job.output_path or job.id).stem
    return folder / f"{stem}.{format_}"


def check_destination(output: str | None, target: str, format_: str, overwrite: bool) -> None:
    """Before any work: the `-o` folder takes files and the file there is not replaced unless
    `--overwrite` says so."""
    if output is None:
        return
    check_writable(split_output(output)[0])
    dest = destination(output, target, None, format_)
    if dest is not None:
        refuse_existing(dest, overwrite)


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
    default=None,
    help="Transcript format (default: the -o file's extension, else txt).",
)
@click.option(
    "-o",
    "--output",
    type=str,
    default=None,
    help="Write to this file, or into this folder, instead of stdout.",
)
@overwrite_option()
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
    format_: str | None,
    output: str | None,
    overwrite: bool,
    beam_size: int,
    no_vad: bool,
    prompt: str | None,
) -> None:
    """Transcribe a URL's audio or a local FILE."""
    named = split_output(output)[1] if output is not None else None
    chosen = pick_format(TranscriptFormat, format_, named, TranscriptFormat.TXT)
    check_destination(output, target, chosen.value, overwrite)
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
        text = render(await ag.transcript(job.id), chosen) if completed else ""
    if not completed:
        finish(done)  # says why, and exits non-zero
    if done.output_path is not None:  # the job's own JSON copy: the user asked for `text`
        await anyio.Path(done.output_path).unlink(missing_ok=True)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    dest = destination(output, target, done, chosen.value) or Path(done.id)
    refuse_existing(dest, overwrite)
    await anyio.Path(dest).write_text(text, encoding="utf-8")  # Chinese in any locale
    click.echo(dest)
