"""Asking a stage cancellably: a cancelled asker stops the work and never waits in vain."""

import threading
from dataclasses import dataclass

import anyio
import pytest

from actors import Actor, ActorRef, ChildSpec, Reply, open_actor_system
from audiograb.pipeline.asking import STOP_DEADLINE, ask_cancellably

pytestmark = pytest.mark.anyio


@dataclass
class Work:
    reply: Reply[str]
    cancel: threading.Event


class Gated(Actor[Work]):
    """Answers each message once `gate` opens (or at once when its asker cancelled it)."""

    def __init__(self, gate: anyio.Event) -> None:
        self._gate = gate

    async def receive(self, msg: Work) -> None:
        if not msg.cancel.is_set():
            await self._gate.wait()
        msg.reply.set_result("cancelled" if msg.cancel.is_set() else "done")


async def test_an_asker_cancelled_before_its_message_went_out_returns_at_once() -> None:
    gate = anyio.Event()
    async with open_actor_system() as system:
        stage: ActorRef[Work] = await system.spawn(
            ChildSpec("gated", lambda: Gated(gate), mailbox_size=1)
        )
        cancels: list[threading.Event] = []

        def work(reply: Reply[str], cancel: threading.Event) -> Work:
            cancels.append(cancel)
            return Work(reply, cancel)

        async with anyio.create_task_group() as tasks:
            for _ in range(2):  # one being handled, one filling the mailbox
                tasks.start_soon(ask_cancellably, stage, work)
            await anyio.wait_all_tasks_blocked()
            with anyio.fail_after(STOP_DEADLINE / 5), anyio.CancelScope() as scope:
                tasks.start_soon(_cancel_when_blocked, scope)
                await ask_cancellably(stage, work)  # its send waits for room
            assert scope.cancelled_caught
            assert cancels[-1].is_set()
            gate.set()


async def test_an_asker_cancelled_while_the_stage_works_waits_for_it_to_let_go() -> None:
    gate = anyio.Event()
    async with open_actor_system() as system:
        stage: ActorRef[Work] = await system.spawn(ChildSpec("gated", lambda: Gated(gate)))
        seen: list[Work] = []

        def work(reply: Reply[str], cancel: threading.Event) -> Work:
            seen.append(Work(reply, cancel))
            return seen[-1]

        async def ask() -> None:
            with anyio.CancelScope() as scope:
                asking.append(scope)
                await ask_cancellably(stage, work)

        asking: list[anyio.CancelScope] = []
        with anyio.fail_after(STOP_DEADLINE / 5):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(ask)
                await anyio.wait_all_tasks_blocked()  # the stage is at work
                asking[0].cancel()
                await anyio.wait_all_tasks_blocked()  # the asker waits for the stage
                [asked] = seen
                assert asked.cancel.is_set()
                assert not asked.reply.done()
                gate.set()  # the stage lets go; then the asker leaves
        assert asked.reply.done()


async def _cancel_when_blocked(scope: anyio.CancelScope) -> None:
    await anyio.wait_all_tasks_blocked()
    scope.cancel()
