"""`audiograb batch FILE`: download every URL of a text file (one a line, `#` comments)."""

import sys
from pathlib import Path

import anyio
import asyncclick as click

from audiograb.cli.common import (
    CANCELLED,
    EXIT_INTERRUPTED,
    ReadableFile,
    fail,
    priority_option,
    quality_option,
    reports_errors,
    settings_of,
)
from audiograb.cli.download import FORMATS
from audiograb.domain import (
    AudioFormat,
    Job,
    JobRequest,
    JobState,
    Quality,
)
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.pipeline.batches import parse_lines


def outcome(job: Job) -> str:
    """One line on how a job of the batch ended."""
    if job.state is JobState.COMPLETED:
        return f"done    {job.output_path}"
    if job.error is not None:
        return f"failed  {job.request.url}: {job.error.message} [{job.error.code.value}]"
    return f"{job.state.value:<7} {job.request.url}"


async def _wait_all(ag: Audiograb, job_ids: list[str]) -> list[Job]:
    ended: list[Job] = []

    async def wait(job_id: str) -> None:
        job = await ag.wait(job_id)
        ended.append(job)
        click.echo(outcome(job))

    async with anyio.create_task_group() as tasks:
        for job_id in job_ids:
            tasks.start_soon(wait, job_id)
    return ended


@click.command("batch")
@click.argument("file", type=ReadableFile())
@click.option("-f", "--format", "format_", type=click.Choice(FORMATS), default="m4a")
@quality_option()
@priority_option()
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Only queue the jobs (a running `audiograb serve` on this data folder runs them).",
)
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    file: click.utils.LazyFile,
    format_: str,
    quality: str,
    priority: int,
    output: Path | None,
    no_wait: bool,
) -> None:
    """Download every URL in FILE (one a line; blank lines and `#` comments skipped; `-` reads
    stdin). Lines that are not usable URLs are reported with their number."""
    entries = parse_lines(file.read())
    settings = settings_of(ctx, output_dir=output or Path.cwd())
    template = JobRequest(
        url="", format=AudioFormat(format_), quality=Quality(quality), priority=priority
    )
    async with open_audiograb(settings, run_submitted=not no_wait) as ag:
        result = await ag.batches.submit(entries, template)
        for rejected in result.batch.rejected:
            click.echo(
                f"line {rejected.line}: {rejected.text}: {rejected.message} [{rejected.code}]",
                err=True,
            )
        click.echo(f"batch {result.batch.id}: {len(result.jobs)} jobs queued", err=True)
        if no_wait:
            return
        try:
            ended = await _wait_all(ag, [job.id for job in result.jobs])
        except anyio.get_cancelled_exc_class():  # Ctrl-C: see `reports_errors`
            with anyio.CancelScope(shield=True):
                await ag.batches.cancel(result.batch.id)
            raise
    if any(job.state is JobState.CANCELLED for job in ended):
        fail(CANCELLED, EXIT_INTERRUPTED)
    if any(job.state is not JobState.COMPLETED for job in ended) or result.batch.rejected:
        sys.exit(1)
