"""Blocking work in threads and processes, and calls from threads back into the loop."""

from __future__ import annotations

import operator
import threading

import anyio
import anyio.from_thread
import pytest

from actors import CancelToken, ThreadBridge, WorkCancelled, run_in_process, run_in_thread

pytestmark = pytest.mark.anyio


async def test_run_in_thread_returns_the_result_and_raises_the_error() -> None:
    def work(token: CancelToken) -> str:
        return f"{threading.current_thread() is not threading.main_thread()}"

    def broken(token: CancelToken) -> str:
        raise OSError("disk full")

    limiter = anyio.CapacityLimiter(1)
    with anyio.fail_after(5):
        assert await run_in_thread(work, limiter=limiter) == "True"
        with pytest.raises(OSError, match="disk full"):
            await run_in_thread(broken)


async def test_cancelling_sets_the_token_waits_for_the_thread_and_propagates() -> None:
    entered = anyio.Event()
    seen: list[str] = []

    def work(token: CancelToken) -> None:
        anyio.from_thread.run_sync(entered.set)
        while not token.wait(timeout=5):
            seen.append("timed out")  # pragma: no cover - the test failed if this runs
        seen.append("token set")
        token.raise_if_cancelled()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            with anyio.CancelScope() as scope:
                tasks.start_soon(lambda: _cancel_when(entered, scope))
                await run_in_thread(work)
                seen.append("not cancelled")  # pragma: no cover
            seen.append("cancellation propagated")
    assert scope.cancelled_caught
    assert seen == ["token set", "cancellation propagated"]  # the thread had returned first


async def _cancel_when(event: anyio.Event, scope: anyio.CancelScope) -> None:
    await event.wait()
    scope.cancel()


def test_cancel_token_is_a_thread_safe_flag() -> None:
    token = CancelToken()
    assert not token.cancelled
    assert not token.wait(timeout=0)
    token.raise_if_cancelled()
    threading.Thread(target=token.cancel).start()
    assert token.wait(timeout=5)
    assert token.cancelled
    with pytest.raises(WorkCancelled):
        token.raise_if_cancelled()


async def test_run_in_process() -> None:
    with anyio.fail_after(20):
        assert await run_in_process(operator.mul, 6, 7) == 42


async def test_the_bridge_delivers_calls_from_a_plain_thread_without_blocking_it() -> None:
    bridge = ThreadBridge()
    received: list[int] = []
    done = anyio.Event()

    def produce() -> None:  # a thread anyio knows nothing about, like yt-dlp's own
        for number in range(1000):
            assert bridge.call_soon(received.append, number)
        bridge.call_soon(_fail)  # an error is logged, and later calls still arrive
        bridge.call_soon(done.set)

    thread = threading.Thread(target=produce)
    thread.start()
    # Block the event loop on purpose: if call_soon waited for the loop, this would deadlock.
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert received == []
    with anyio.fail_after(5):
        await done.wait()
    assert received == list(range(1000))


def _fail() -> None:
    raise RuntimeError("bridged call failed")


async def test_a_closed_bridge_drops_calls() -> None:
    bridge = ThreadBridge()
    bridge.close()
    assert not bridge.call_soon(print, "never")
