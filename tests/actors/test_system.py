"""The system: ordered start, reverse-order drain under a grace deadline, plain tasks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import anyio
import pytest

from actors import (
    Actor,
    ActorRef,
    ActorStopped,
    ChildSpec,
    Escalation,
    Reply,
    open_actor_system,
)
from tests.actors.support import Add, Block, Counter, Get, Msg

pytestmark = pytest.mark.anyio


@dataclass
class Note:
    text: str
    reply: Reply[None] | None = None


class Recorder(Actor[Note]):
    """Logs what it handles; on stop, asks the actor it depends on for a last favour."""

    def __init__(self, log: list[str], depends_on: ActorRef[Note] | None = None) -> None:
        self.log = log
        self.depends_on = depends_on

    async def on_start(self) -> None:
        self.log.append(f"start {self.context.name}")

    async def receive(self, msg: Note) -> None:
        self.log.append(f"{self.context.name}: {msg.text}")
        if msg.reply is not None:
            msg.reply.set_result(None)

    async def on_stop(self) -> None:
        if self.depends_on is not None:  # still up: it is drained after this one
            await self.depends_on.ask(lambda reply: Note(f"bye from {self.context.name}", reply))
        self.log.append(f"stop {self.context.name}")


async def test_start_in_order_and_drain_in_reverse() -> None:
    log: list[str] = []
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            a = await system.spawn(ChildSpec("a", lambda: Recorder(log)))
            b = await system.spawn(ChildSpec("b", lambda: Recorder(log, a)))
            c = await system.spawn(ChildSpec("c", lambda: Recorder(log, b)))
            for ref in (a, b, c):  # queued, not yet handled, when the drain begins
                assert ref.try_tell(Note("last words"))
    assert log[:3] == ["start a", "start b", "start c"]
    # c stops first (its on_stop can still ask b), then b (which can still ask a), then a.
    order = ["b: bye from c", "stop c", "a: bye from b", "stop b", "stop a"]
    assert [entry for entry in log if entry in order] == order
    for name in "abc":
        assert log.index(f"{name}: last words") < log.index(f"stop {name}")
    with pytest.raises(ActorStopped):
        await a.tell(Note("too late"))


async def test_what_outlives_the_grace_deadline_is_cancelled() -> None:
    log: list[str] = []
    stuck = Block()
    stuck_reply: Reply[str] = Reply()
    queued_reply: Reply[tuple[int, int]] = Reply()
    with anyio.fail_after(5):
        async with open_actor_system(grace=0.1) as system:
            first = await system.spawn(ChildSpec("first", lambda: Counter(itertools.count(1), log)))
            stuck_ref = await system.spawn(ChildSpec("stuck", lambda: Counter(itertools.count(1))))
            await stuck_ref.tell(Block(stuck.entered, stuck.gate, stuck_reply))
            await stuck.entered.wait()
            assert stuck_ref.try_tell(Get(queued_reply))
            await first.tell(Add(1))
        # The stuck actor used up the whole grace: it was cancelled, and so was "first",
        # which never got its turn to drain.
    assert log == ["start first #1"]
    with pytest.raises(ActorStopped):
        await stuck_reply.wait()  # the request it was handling
    with pytest.raises(ActorStopped):
        await queued_reply.wait()  # the request still queued


async def test_plain_tasks_are_cancelled_before_the_actors_drain() -> None:
    log: list[str] = []
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            ref = await system.spawn(ChildSpec("counter", lambda: Counter(itertools.count(1), log)))
            running = anyio.Event()

            async def feeder() -> None:
                try:
                    running.set()
                    await anyio.sleep_forever()
                finally:
                    log.append("feeder cancelled")
                    ref.try_tell(Add(1))  # the actor is still accepting mail

            system.start_soon(feeder)
            await running.wait()
    assert log == ["start counter #1", "feeder cancelled", "stop counter #1"]


async def test_a_failing_plain_task_escalates() -> None:
    async def broken() -> None:
        raise KeyError("lost")

    async def run_broken() -> None:
        async with open_actor_system() as system:
            system.start_soon(broken, name="broken task")
            await anyio.sleep_forever()

    with anyio.fail_after(5), pytest.raises(Escalation) as raised:
        await run_broken()
    assert raised.value.child == "broken task"
    assert isinstance(raised.value.error, KeyError)


async def test_errors_from_the_body_propagate_unchanged() -> None:
    async def fail_in_body() -> None:
        async with open_actor_system() as system:
            await system.spawn(ChildSpec("counter", lambda: Counter(itertools.count(1))))
            raise LookupError("mine")

    with anyio.fail_after(5), pytest.raises(LookupError, match="mine") as raised:
        await fail_in_body()
    assert type(raised.value) is LookupError  # not wrapped in an exception group


async def test_spawn_checks_names_and_refuses_once_closing() -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            await system.spawn(ChildSpec("counter", lambda: Counter(itertools.count(1))))
            with pytest.raises(ValueError, match="already exists"):
                await system.spawn(ChildSpec("counter", lambda: Counter(itertools.count(1))))
    with pytest.raises(RuntimeError, match="shutting down"):
        await system.spawn(ChildSpec("late", lambda: Counter(itertools.count(1))))


class Unused(Actor[Msg]):
    async def receive(self, msg: Msg) -> None:
        raise AssertionError("no messages are sent")


async def test_hooks_are_optional() -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            await system.spawn(ChildSpec("unused", Unused))
