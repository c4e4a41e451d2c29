"""The manual clock and the alarm: deadlines are met exactly when time reaches them."""

import anyio
import pytest

from audiograb.pipeline.clock import Alarm, ManualClock, SystemClock

pytestmark = pytest.mark.anyio


async def test_alarm_rings_only_once_the_clock_reaches_its_deadline() -> None:
    clock = ManualClock(start=1000.0)
    rang: list[float] = []
    ringing = anyio.Event()

    def ring() -> None:
        rang.append(clock.now())
        ringing.set()

    alarm = Alarm(clock, ring)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(alarm.run)
        alarm.set(1060.0)
        clock.advance(30)
        alarm.set(1050.0)  # moved earlier
        clock.advance(19.5)
        await anyio.wait_all_tasks_blocked()
        assert rang == []
        clock.advance(0.5)
        with anyio.fail_after(5):
            await ringing.wait()
        assert rang == [1050.0]
        tasks.cancel_scope.cancel()


async def test_system_clock_never_returns_early() -> None:
    clock = SystemClock()
    deadline = clock.now() + 0.05
    await clock.sleep_until(deadline)
    assert clock.now() >= deadline
