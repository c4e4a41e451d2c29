"""`audiograb jobs`: list, show, cancel and retry the jobs in the local database."""

import time

import asyncclick as click

from audiograb.cli.common import reports_errors, settings_of
from audiograb.cli.follow import finish, follow
from audiograb.domain import Job, JobState
from audiograb.pipeline import open_audiograb

STATES = [s.value for s in JobState]


def summary(job: Job) -> str:
    """One line: id, state, age, title or URL."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
    title = job.media.title if job.media and job.media.title else job.request.url
    return f"{job.id}  {job.state.value:<12} {when}  {title}"


def details(job: Job) -> str:
    """Several lines about one job."""
    rows = [
        ("id", job.id),
        ("state", job.state.value),
        ("url", job.request.url),
        ("platform", job.platform),
        ("format", f"{job.request.format.value} ({job.request.quality.value})"),
        ("title", job.media.title if job.media else None),
        ("output", job.output_path),
        ("error", f"{job.error.message} [{job.error.code.value}]" if job.error else None),
    ]
    return "\n".join(f"{name:>9}: {value}" for name, value in rows if value)


@click.group("jobs", invoke_without_command=True)
@click.option(
    "--state",
    "states",
    type=click.Choice(STATES),
    multiple=True,
    help="Only jobs in this state (repeatable).",
)
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.pass_context
@reports_errors
async def command(ctx: click.Context, states: tuple[str, ...], limit: int) -> None:
    """List recent jobs (or use a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    async with open_audiograb(settings_of(ctx)) as ag:
        found = await ag.list(states={JobState(s) for s in states} or None, limit=limit)
    for job in found:
        click.echo(summary(job))
    if not found:
        click.echo("no jobs", err=True)


@command.command("show")
@click.argument("job_id")
@click.pass_context
@reports_errors
async def show(ctx: click.Context, job_id: str) -> None:
    """Show one job."""
    async with open_audiograb(settings_of(ctx)) as ag:
        click.echo(details(await ag.get(job_id)))


@command.command("cancel")
@click.argument("job_id")
@click.pass_context
@reports_errors
async def cancel(ctx: click.Context, job_id: str) -> None:
    """Cancel a job that has not finished."""
    async with open_audiograb(settings_of(ctx)) as ag:
        job = await ag.cancel(job_id)
    click.echo(summary(job))


@command.command("retry")
@click.argument("job_id")
@click.pass_context
@reports_errors
async def retry(ctx: click.Context, job_id: str) -> None:
    """Run a failed, cancelled or interrupted job again and follow it."""
    async with open_audiograb(settings_of(ctx)) as ag:
        job = await ag.retry(job_id)
        done = await follow(ag, job.id)
    finish(done)
