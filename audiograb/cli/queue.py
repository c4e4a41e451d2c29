"""`audiograb queue`: the jobs that have not ended, in the order the queue runs them."""

import asyncclick as click

from audiograb.cli.common import reports_errors, settings_of
from audiograb.domain import Job
from audiograb.pipeline import open_audiograb


def row(position: int, job: Job) -> str:
    """One line: place, id, priority, state, platform, title or URL."""
    title = job.media.title if job.media and job.media.title else job.request.url
    return (
        f"{position:>4}  {job.id}  p{job.request.priority:<2} {job.state.value:<12} "
        f"{job.platform:<12} {title}"
    )


@click.command("queue")
@click.pass_context
@reports_errors
async def command(ctx: click.Context) -> None:
    """Show running and waiting jobs: by priority (higher first), then arrival."""
    async with open_audiograb(settings_of(ctx)) as ag:
        jobs = await ag.stored_queue()
    for position, job in enumerate(jobs, start=1):
        click.echo(row(position, job))
    if not jobs:
        click.echo("the queue is empty", err=True)
