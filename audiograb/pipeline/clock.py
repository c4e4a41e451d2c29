"""Wall-clock time for the actors that wait for a moment: the queue's retries, schedules and
webhook retries. Injected, so tests move time by hand instead of waiting for it.

Times are Unix timestamps (seconds, UTC). `Alarm` is the one waiting primitive built on a
clock: it rings once the clock has reached the earliest deadline it was last set to, so an
actor can keep "wake me at t" without a task per deadline.
"""

import time
from collections.abc import Callable
from typing import Protocol

import anyio

__all__ = ["Alarm", "Clock", "ManualClock", "SystemClock"]

#: The longest single sleep of the system clock: wall-clock jumps are noticed this soon.
MAX_NAP = 30.0


class Clock(Protocol):
    """Where an actor reads the time and waits for a moment."""

    def now(self) -> float:
        """Unix time now."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return no earlier than `deadline` (Unix time)."""
        ...


class SystemClock:
    """The real time. Sleeps in naps of at most `MAX_NAP`, re-reading the wall clock after each,
    so a deadline is never met early even if the clock is set back."""

    def now(self) -> float:
        """Unix time now."""
        return time.time()

    async def sleep_until(self, deadline: float) -> None:
        """Return no earlier than `deadline`."""
        while (left := deadline - time.time()) > 0:  # noqa: ASYNC110 - no event to wait for
            await anyio.sleep(min(left, MAX_NAP))


class ManualClock:
    """A clock that moves only when told (`advance`, `set`): for tests."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._moved: anyio.Event | None = None

    def now(self) -> float:
        """The clock's current time."""
        return self._now

    def set(self, moment: float) -> None:
        """Move to `moment` (never backwards) and wake every sleeper whose deadline passed."""
        self._now = max(self._now, moment)
        if self._moved is not None:
            self._moved.set()
            self._moved = None

    def advance(self, seconds: float) -> None:
        """Move `seconds` forward."""
        self.set(self._now + seconds)

    async def sleep_until(self, deadline: float) -> None:
        """Return once the clock has been moved to `deadline` or later."""
        while self._now < deadline:
            if self._moved is None:
                self._moved = anyio.Event()
            await self._moved.wait()


class Alarm:
    """Calls `ring()` once `clock` reaches the deadline last given to `set`.

    Run `run()` as a background task. `set(None)` disarms it; each ring disarms it too, so
    the owner sets the next deadline when it has handled the ring.
    """

    def __init__(self, clock: Clock, ring: Callable[[], object]) -> None:
        self._clock = clock
        self._ring = ring
        self._deadline: float | None = None
        self._changed: anyio.Event | None = None

    def set(self, deadline: float | None) -> None:
        """Ring at `deadline` (replacing any earlier setting); None: do not ring."""
        if deadline != self._deadline:
            self._deadline = deadline
            if self._changed is not None:
                self._changed.set()

    async def run(self) -> None:
        """Wait for deadlines and ring, until cancelled."""
        while True:
            changed = self._changed = anyio.Event()
            deadline = self._deadline
            async with anyio.create_task_group() as tasks:
                if deadline is not None:
                    tasks.start_soon(self._sound, deadline)
                await changed.wait()
                tasks.cancel_scope.cancel()

    async def _sound(self, deadline: float) -> None:
        await self._clock.sleep_until(deadline)
        if self._deadline == deadline:
            self._deadline = None
            self._ring()
