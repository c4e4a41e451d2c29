"""Restarts keep the mailbox; policies decide what comes back; intensity escalates."""

from __future__ import annotations

import itertools

import anyio
import pytest

from actors import (
    Actor,
    ActorStopped,
    ChildSpec,
    Escalation,
    Restart,
    RestartIntensity,
    open_actor_system,
)
from tests.actors.support import Add, Block, Counter, Crash, Get, Msg, Stop

pytestmark = pytest.mark.anyio


async def test_a_failed_tell_restarts_the_actor_and_keeps_its_mailbox() -> None:
    log: list[str] = []
    serial = itertools.count(1)
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            ref = await system.spawn(ChildSpec("counter", lambda: Counter(serial, log)))
            block = Block()
            await ref.tell(block)
            await block.entered.wait()
            # Queued while the first instance is busy: one crash, then work for the next one.
            assert ref.try_tell(Add(1))
            assert ref.try_tell(Crash())
            assert ref.try_tell(Add(10))
            assert ref.try_tell(Add(20))
            block.gate.set()
            assert await ref.ask(Get) == (30, 2)
    assert log == [
        "start counter #1",
        "stop counter #1",  # on_stop runs after a crash too
        "start counter #2",
        "stop counter #2",
    ]


async def test_exceeding_the_restart_intensity_escalates() -> None:
    serial = itertools.count(1)

    async def crash_three_times() -> None:
        async with open_actor_system(intensity=RestartIntensity(2, 60.0)) as system:
            ref = await system.spawn(ChildSpec("counter", lambda: Counter(serial)))
            for attempt in range(3):
                await ref.tell(Crash(f"crash {attempt}"))
            await anyio.sleep_forever()  # cancelled by the escalation

    with anyio.fail_after(5), pytest.raises(Escalation) as raised:
        await crash_three_times()
    assert raised.value.child == "counter"
    assert isinstance(raised.value.error, RuntimeError)
    assert str(raised.value.error) == "crash 2"
    assert next(serial) == 4  # three instances: the first and two restarts


async def test_the_others_drain_when_one_escalates() -> None:
    log: list[str] = []

    async def crash_once() -> None:
        async with open_actor_system(intensity=RestartIntensity(0, 60.0)) as system:
            await system.spawn(ChildSpec("steady", lambda: Counter(itertools.count(1), log)))
            flaky = await system.spawn(ChildSpec("flaky", lambda: Counter(itertools.count(1))))
            await flaky.tell(Crash())
            await anyio.sleep_forever()

    with anyio.fail_after(5), pytest.raises(Escalation):
        await crash_once()
    assert log == ["start steady #1", "stop steady #1"]


@pytest.mark.parametrize(
    ("policy", "comes_back"),
    [(Restart.PERMANENT, True), (Restart.TRANSIENT, False), (Restart.TEMPORARY, False)],
)
async def test_an_instance_that_stops_itself(policy: Restart, comes_back: bool) -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            serial = itertools.count(1)
            spec = ChildSpec("counter", lambda: Counter(serial), restart=policy)
            ref = await system.spawn(spec)
            await ref.tell(Stop())
            if comes_back:
                assert await ref.ask(Get) == (0, 2)
            else:
                with pytest.raises(ActorStopped):
                    await ref.ask(Get)


@pytest.mark.parametrize(
    ("policy", "comes_back"),
    [(Restart.PERMANENT, True), (Restart.TRANSIENT, True), (Restart.TEMPORARY, False)],
)
async def test_an_instance_that_crashes(policy: Restart, comes_back: bool) -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            serial = itertools.count(1)
            spec = ChildSpec("counter", lambda: Counter(serial), restart=policy)
            ref = await system.spawn(spec)
            await ref.tell(Crash())
            if comes_back:
                assert await ref.ask(Get) == (0, 2)
            else:
                with pytest.raises(ActorStopped):
                    await ref.ask(Get)
                with pytest.raises(ActorStopped):
                    await ref.tell(Add(1))


class Unstartable(Actor[Msg]):
    async def on_start(self) -> None:
        raise OSError("no database")

    async def receive(self, msg: Msg) -> None:
        raise AssertionError("never started")


async def test_spawn_raises_when_the_first_start_fails() -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            with pytest.raises(OSError, match="no database"):
                await system.spawn(ChildSpec("db", Unstartable))
            ref = await system.spawn(ChildSpec("db", lambda: Counter(itertools.count(1))))
            assert await ref.ask(Get) == (0, 1)  # the name is free again


class Spawner(Actor[Msg]):
    """Its background task fails as soon as it is asked to block."""

    def __init__(self, serial: itertools.count[int]) -> None:
        self.instance = next(serial)

    async def receive(self, msg: Msg) -> None:
        if isinstance(msg, Block):
            self.context.start_soon(self._fail, msg)
            await msg.gate.wait()  # interrupted by the failing task
        elif isinstance(msg, Get):
            msg.reply.set_result((0, self.instance))

    async def _fail(self, msg: Block) -> None:
        msg.entered.set()
        raise ValueError("background failure")


async def test_a_failing_background_task_restarts_the_actor() -> None:
    serial = itertools.count(1)
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            ref = await system.spawn(ChildSpec("spawner", lambda: Spawner(serial)))
            with pytest.raises(ValueError, match="background failure"):
                await ref.ask(lambda reply: Block(reply=reply))  # the crash reaches the asker
            assert await ref.ask(Get) == (0, 2)
