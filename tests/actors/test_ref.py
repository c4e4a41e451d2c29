"""tell, try_tell and ask through a ref: replies, timeouts, errors and backpressure."""

import itertools

import anyio
import pytest

from actors import AskTimeout, ChildSpec, open_actor_system
from tests.actors.support import Add, Block, Counter, Crash, Get

pytestmark = pytest.mark.anyio


async def test_ask_gets_the_reply() -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            ref = await system.spawn(ChildSpec("counter", lambda: Counter(itertools.count(1))))
            await ref.tell(Add(2))
            assert ref.try_tell(Add(3))
            assert await ref.ask(Get) == (5, 1)


async def test_ask_times_out_and_the_actor_carries_on() -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            ref = await system.spawn(ChildSpec("counter", lambda: Counter(itertools.count(1))))
            block = Block()
            with pytest.raises(AskTimeout):
                await ref.ask(lambda reply: Block(block.entered, block.gate, reply), timeout=0.05)
            assert block.entered.is_set()
            block.gate.set()  # the actor now answers an asker that has gone away
            await ref.tell(Add(1))
            assert await ref.ask(Get) == (1, 1)  # same instance: no restart


async def test_an_error_while_asking_goes_to_the_asker_only() -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system:
            ref = await system.spawn(ChildSpec("counter", lambda: Counter(itertools.count(1))))
            await ref.tell(Add(7))
            with pytest.raises(RuntimeError, match="bad request"):
                await ref.ask(lambda reply: Crash("bad request", reply))
            assert await ref.ask(Get) == (7, 1)  # state kept, instance not restarted


async def test_a_full_mailbox_makes_tell_wait_and_try_tell_fail() -> None:
    with anyio.fail_after(5):
        async with open_actor_system() as system, anyio.create_task_group() as tasks:
            spec = ChildSpec("counter", lambda: Counter(itertools.count(1)), mailbox_size=2)
            ref = await system.spawn(spec)
            block = Block()
            await ref.tell(block)
            await block.entered.wait()  # the actor is busy; its mailbox is empty
            assert ref.try_tell(Add(1))
            assert ref.try_tell(Add(2))
            assert not ref.try_tell(Add(4))
            told = anyio.Event()

            async def tell_one_more() -> None:
                await ref.tell(Add(8))
                told.set()

            tasks.start_soon(tell_one_more)
            await anyio.wait_all_tasks_blocked()
            assert not told.is_set()  # waiting for room
            assert ref.statistics().tasks_waiting_send == 1
            block.gate.set()
            await told.wait()
            assert await ref.ask(Get) == (11, 1)
