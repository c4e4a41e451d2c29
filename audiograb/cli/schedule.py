"""`audiograb schedule URL --at TIME` and `audiograb schedules`: plan downloads for later.

Schedules are kept in the job database; a running `audiograb serve` on the same data folder
starts them on time (never early, also after a restart).
"""

import datetime as dt

import asyncclick as click

from audiograb.cli.common import priority_option, quality_option, reports_errors, settings_of
from audiograb.cli.download import FORMATS
from audiograb.domain import (
    AudioFormat,
    AudiograbError,
    ErrorCode,
    JobRequest,
    Quality,
)
from audiograb.pipeline import open_audiograb
from audiograb.pipeline.cron import CronExpression
from audiograb.pipeline.schedules import parse_time
from audiograb.store import Schedule, ScheduleState


def when(moment: float | None) -> str:
    """A run time in UTC and in the local zone."""
    if moment is None:
        return "no further run"
    utc = dt.datetime.fromtimestamp(moment, dt.UTC)
    local = utc.astimezone()
    return f"{utc:%Y-%m-%d %H:%M:%S} UTC ({local:%Y-%m-%d %H:%M %Z})"


def check_timing(at: str | None, cron: str | None) -> None:
    """Refuse a bad `--at` or `--cron` in words that name the option to fix."""
    if at is None and cron is None:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, "when? give --at TIME, --cron EXPRESSION, or both"
        )
    try:
        if at is not None:
            parse_time(at)
    except AudiograbError as error:
        raise AudiograbError(error.code, f"--at: {error.message}") from None
    try:
        if cron is not None:
            CronExpression.parse(cron)
    except ValueError as error:
        raise AudiograbError(ErrorCode.INVALID_REQUEST, f"--cron {cron!r}: {error}") from None


def summary(schedule: Schedule) -> str:
    """One line about a schedule."""
    repeat = f"  cron {schedule.cron!r} ({schedule.timezone})" if schedule.cron else ""
    return (
        f"{schedule.id}  {schedule.state.value:<9} {when(schedule.run_at)}  "
        f"{schedule.request.url}{repeat}"
    )


@click.command("schedule")
@click.argument("url")
@click.option(
    "--at",
    "at",
    default=None,
    help="ISO 8601 time with a zone: 2030-01-31T09:30:00+08:00 or 2030-01-31T01:30Z.",
)
@click.option("--cron", default=None, help="Repeat by a 5-field cron expression, e.g. '0 6 * * *'.")
@click.option("--timezone", default="UTC", show_default=True, help="Zone the cron is read in.")
@click.option("-f", "--format", "format_", type=click.Choice(FORMATS), default="m4a")
@quality_option()
@priority_option()
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    url: str,
    at: str | None,
    cron: str | None,
    timezone: str,
    format_: str,
    quality: str,
    priority: int,
) -> None:
    """Download URL at a time (--at), or again and again (--cron), via `audiograb serve`."""
    check_timing(at, cron)
    request = JobRequest(
        url=url, format=AudioFormat(format_), quality=Quality(quality), priority=priority
    )
    async with open_audiograb(settings_of(ctx)) as ag:
        schedule = await ag.schedules.create(request, at=at, cron=cron, timezone=timezone)
    click.echo(summary(schedule))


@click.group("schedules", invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Also done and cancelled schedules.")
@click.pass_context
@reports_errors
async def schedules(ctx: click.Context, show_all: bool) -> None:
    """List planned downloads (or use a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    states = () if show_all else (ScheduleState.ACTIVE,)
    async with open_audiograb(settings_of(ctx)) as ag:
        found = await ag.schedules.recent(states=states)
    for schedule in found:
        click.echo(summary(schedule))
    if not found:
        click.echo("no schedules", err=True)


@schedules.command("move")
@click.argument("schedule_id")
@click.option("--at", "at", required=True, help="The new time (ISO 8601 with a zone).")
@click.pass_context
@reports_errors
async def move(ctx: click.Context, schedule_id: str, at: str) -> None:
    """Move a schedule's next run."""
    check_timing(at, None)
    async with open_audiograb(settings_of(ctx)) as ag:
        click.echo(summary(await ag.schedules.move(schedule_id, at)))


@schedules.command("cancel")
@click.argument("schedule_id")
@click.pass_context
@reports_errors
async def cancel(ctx: click.Context, schedule_id: str) -> None:
    """Cancel a schedule."""
    async with open_audiograb(settings_of(ctx)) as ag:
        click.echo(summary(await ag.schedules.cancel(schedule_id)))
