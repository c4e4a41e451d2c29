"""Scheduled downloads with a controllable clock: on time, never early, across a restart."""

import datetime as dt
from collections.abc import Callable

import anyio
import pytest
from asyncclick.testing import CliRunner

from audiograb.cli.app import cli
from audiograb.config import Settings
from audiograb.domain import JobRequest, JobState, JobSubmitted
from audiograb.pipeline import Audiograb, open_audiograb
from audiograb.pipeline.clock import ManualClock
from audiograb.store import ScheduleState
from tests.e2e.api_support import running_api
from tests.mediaserver import MediaServer

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("database")]  # SQLite and PostgreSQL


#: 2027-01-15T08:00:00Z
START = 1_800_000_000.0


def local(moment: float, offset_hours: int) -> str:
    zone = dt.timezone(dt.timedelta(hours=offset_hours))
    return dt.datetime.fromtimestamp(moment, zone).isoformat()


async def nothing_fired(ag: Audiograb) -> bool:
    await anyio.wait_all_tasks_blocked()
    return await ag.count() == 0


async def next_scheduled_job(ag: Audiograb, after: int = 0) -> tuple[str, int]:
    """The id (and log position) of the next job a schedule submits."""
    async with ag.subscribe(after=after) as events:
        async for recorded in events:
            event = recorded.event
            if isinstance(event, JobSubmitted):
                job = await ag.get(event.job_id)
                if job.schedule_id is not None:
                    return job.id, recorded.id
    raise AssertionError("the feed ended")


async def fire(ag: Audiograb, move_clock: Callable[[], object], after: int = 0) -> tuple[str, int]:
    """Move the clock once we are listening; the job the schedule then submits."""
    found: list[tuple[str, int]] = []

    async def catch() -> None:
        found.append(await next_scheduled_job(ag, after))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(catch)
        await anyio.wait_all_tasks_blocked()
        move_clock()
    return found[0]


async def test_a_download_starts_on_time_never_early_also_across_a_restart(
    settings: Settings, server: MediaServer
) -> None:
    clock = ManualClock(start=START)
    due = START + 3600
    async with open_audiograb(settings, serve=True, clock=clock) as ag:
        schedule = await ag.schedules.create(
            JobRequest(url=server.url("tone.mp3")), at=local(due, +8)
        )
        assert schedule.run_at == due  # +08:00 converted to UTC
        clock.advance(1800)
        assert await nothing_fired(ag)
    async with open_audiograb(settings, serve=True, clock=clock) as ag:  # a restart, half way
        clock.advance(1799)
        assert await nothing_fired(ag)
        with anyio.fail_after(30):
            job_id, _ = await fire(ag, lambda: clock.advance(1))
            job = await ag.wait(job_id)
        assert job.state is JobState.COMPLETED, job.error
        assert job.scheduled_for == due
        assert job.created_at >= due
        done = await ag.schedules.get(schedule.id)
        assert done.state is ScheduleState.DONE
        assert done.runs == 1
        assert done.last_job_id == job.id
        assert await ag.count() == 1


async def test_a_recurring_schedule_runs_once_per_occurrence_and_can_be_moved_and_cancelled(
    settings: Settings, server: MediaServer
) -> None:
    clock = ManualClock(start=START)  # 16:00 in Shanghai
    async with open_audiograb(settings, serve=True, clock=clock) as ag:
        schedule = await ag.schedules.create(
            JobRequest(url=server.url("tone.mp3")), cron="30 16 * * *", timezone="Asia/Shanghai"
        )
        assert schedule.run_at == START + 1800
        cursor = 0
        for day in range(2):
            with anyio.fail_after(30):
                due = START + 1800 + day * 86400
                job_id, cursor = await fire(ag, lambda: clock.set(due), cursor)  # noqa: B023
                assert (await ag.wait(job_id)).state is JobState.COMPLETED
            assert await ag.count() == day + 1
            current = await ag.schedules.get(schedule.id)
            assert current.run_at == START + 1800 + (day + 1) * 86400
        moved = await ag.schedules.move(schedule.id, local(START + 10 * 86400, 0))
        assert moved.run_at == START + 10 * 86400
        cancelled = await ag.schedules.cancel(schedule.id)
        assert cancelled.state is ScheduleState.CANCELLED
        clock.set(START + 20 * 86400)
        await anyio.wait_all_tasks_blocked()
        assert await ag.count() == 2


async def test_schedules_over_http(settings: Settings, server: MediaServer) -> None:
    async with running_api(settings) as api, api.client() as http:
        later = "2031-06-01T12:00:00+02:00"
        created = await http.post(
            "/api/schedules", json={"url": server.url("tone.mp3"), "at": later, "priority": 8}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["run_at_utc"] == "2031-06-01T10:00:00+00:00"
        assert body["request"]["priority"] == 8
        naive = await http.post(
            "/api/schedules", json={"url": server.url("tone.mp3"), "at": "2031-06-01T12:00"}
        )
        assert naive.status_code == 400
        assert "time zone" in naive.json()["error"]["message"]
        bad_cron = await http.post(
            "/api/schedules", json={"url": server.url("tone.mp3"), "cron": "61 * * * *"}
        )
        assert bad_cron.status_code == 400
        listed = (await http.get("/api/schedules", params={"state": "active"})).json()
        assert [s["id"] for s in listed] == [body["id"]]
        moved = await http.patch(
            f"/api/schedules/{body['id']}", json={"at": "2031-06-02T00:00:00Z"}
        )
        assert moved.json()["run_at_utc"] == "2031-06-02T00:00:00+00:00"
        assert (await http.delete(f"/api/schedules/{body['id']}")).json()["state"] == "cancelled"
        again = await http.delete(f"/api/schedules/{body['id']}")
        assert again.status_code == 409
        missing = await http.get("/api/schedules/nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "schedule_not_found"
        assert (await http.get("/api/jobs")).json()["total"] == 0


async def test_cli_schedules_and_lists(settings: Settings, server: MediaServer) -> None:
    runner = CliRunner()
    env = {"AUDIOGRAB_ALLOW_PRIVATE_NETWORKS": "true"}
    base = ["--data-dir", str(settings.data_dir)]
    made = await runner.invoke(
        cli,
        [*base, "schedule", server.url("tone.mp3"), "--at", "2031-01-01T09:00:00+01:00"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert "2031-01-01 08:00:00 UTC" in made.output
    listed = await runner.invoke(cli, [*base, "schedules"], env=env)
    assert "active" in listed.output
    schedule_id = listed.output.split()[0]
    cancelled = await runner.invoke(cli, [*base, "schedules", "cancel", schedule_id], env=env)
    assert "cancelled" in cancelled.output
    refused = await runner.invoke(
        cli, [*base, "schedule", server.url("tone.mp3"), "--at", "noon"], env=env
    )
    assert refused.exit_code == 1
    assert "not an ISO 8601 time" in refused.output
