"""Topics: publish never waits; each subscriber's overflow policy shapes what it sees."""

from __future__ import annotations

import inspect
from collections.abc import Hashable
from dataclasses import dataclass

import anyio
import pytest
from anyio.lowlevel import checkpoint

from actors import Lagged, Overflow, Subscription, Topic

pytestmark = pytest.mark.anyio

EVENTS = 10_000
JOBS = 4
SLOW_BUFFER = 8


@dataclass(frozen=True)
class Progress:
    job: int | None
    seq: int


def by_job(event: Progress) -> Hashable:
    return event.job


async def drain(subscription: Subscription[Progress]) -> list[Progress | Lagged]:
    with subscription:
        return [item async for item in subscription]


async def publish_to_fast_and_slow(
    overflow: Overflow,
) -> tuple[list[Progress | Lagged], list[Progress | Lagged], Subscription[Progress]]:
    """Publish EVENTS while a fast subscriber keeps up and a slow one reads only at the end."""
    topic: Topic[Progress] = Topic("progress")
    fast = topic.subscribe(buffer=64, overflow=Overflow.DROP_OLDEST)
    key = by_job if overflow is Overflow.COALESCE else None
    slow = topic.subscribe(buffer=SLOW_BUFFER, overflow=overflow, key=key)
    seen: dict[str, list[Progress | Lagged]] = {}
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:

            async def consume(name: str, subscription: Subscription[Progress]) -> None:
                seen[name] = await drain(subscription)

            tasks.start_soon(consume, "fast", fast)
            for seq in range(EVENTS):
                topic.publish(Progress(job=seq % JOBS, seq=seq))
                await checkpoint()  # lets the fast subscriber run; the slow one is not reading
            assert fast.dropped == 0
            topic.close()
            tasks.start_soon(consume, "slow", slow)
    assert seen["fast"] == [Progress(job=seq % JOBS, seq=seq) for seq in range(EVENTS)]
    return seen["fast"], seen["slow"], slow


async def test_publish_is_synchronous_and_never_yields() -> None:
    assert not inspect.iscoroutinefunction(Topic.publish)
    topic: Topic[Progress] = Topic("progress")
    subscriptions = [
        topic.subscribe(buffer=1, overflow=Overflow.DROP_OLDEST),
        topic.subscribe(buffer=1, overflow=Overflow.LAG),
        topic.subscribe(buffer=1, overflow=Overflow.COALESCE, key=by_job),
    ]
    ticks = 0
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await checkpoint()

            tasks.start_soon(ticker)
            while ticks < 3:  # the ticker runs whenever this task gives up control
                await checkpoint()
            before = ticks
            for seq in range(EVENTS):  # nobody reads: every buffer overflows all along
                topic.publish(Progress(job=seq % JOBS, seq=seq))
            assert ticks == before  # no other task ran: publish never gave up control
            tasks.cancel_scope.cancel()
    assert [s.dropped for s in subscriptions] == [EVENTS - 1, EVENTS, EVENTS - 1]


async def test_drop_oldest_keeps_the_newest_events() -> None:
    _, slow, subscription = await publish_to_fast_and_slow(Overflow.DROP_OLDEST)
    newest = range(EVENTS - SLOW_BUFFER, EVENTS)
    assert slow == [Progress(job=seq % JOBS, seq=seq) for seq in newest]
    assert subscription.dropped == EVENTS - SLOW_BUFFER


async def test_coalesce_keeps_the_latest_event_of_every_key() -> None:
    _, slow, subscription = await publish_to_fast_and_slow(Overflow.COALESCE)
    assert len(slow) == SLOW_BUFFER
    assert all(isinstance(item, Progress) for item in slow)
    latest = {item.job: item.seq for item in slow if isinstance(item, Progress)}
    assert latest == {job: EVENTS - JOBS + job for job in range(JOBS)}
    assert subscription.dropped == EVENTS - SLOW_BUFFER


async def test_lag_marks_the_gap_then_continues_with_new_events() -> None:
    _, slow, subscription = await publish_to_fast_and_slow(Overflow.LAG)
    marker, *rest = slow
    assert isinstance(marker, Lagged)
    assert marker.dropped + len(rest) == EVENTS
    assert rest == [Progress(job=seq % JOBS, seq=seq) for seq in range(marker.dropped, EVENTS)]
    assert subscription.dropped == marker.dropped


async def test_coalescing_replaces_in_place_and_never_merges_keyless_events() -> None:
    topic: Topic[Progress] = Topic("progress")
    subscription = topic.subscribe(buffer=3, overflow=Overflow.COALESCE, key=by_job)
    for event in [
        Progress(job=1, seq=0),
        Progress(job=None, seq=1),
        Progress(job=2, seq=2),
        Progress(job=1, seq=3),  # full: replaces seq 0 where it stood
        Progress(job=None, seq=4),  # full, no key: drops the oldest (seq 3)
        Progress(job=None, seq=5),  # drops seq 1
    ]:
        topic.publish(event)
    topic.close()
    with anyio.fail_after(5):
        assert [item.seq for item in await drain(subscription)] == [2, 4, 5]  # type: ignore[union-attr]


async def test_lag_reports_once_per_gap() -> None:
    topic: Topic[Progress] = Topic("progress")
    subscription = topic.subscribe(buffer=2, overflow=Overflow.LAG)
    for seq in range(4):  # overflow at seq 2 drops seq 0..2; seq 3 is kept
        topic.publish(Progress(job=None, seq=seq))
    with anyio.fail_after(5):
        assert await subscription.__anext__() == Lagged(dropped=3)
        assert await subscription.__anext__() == Progress(job=None, seq=3)
        topic.publish(Progress(job=None, seq=4))
        assert await subscription.__anext__() == Progress(job=None, seq=4)


async def test_a_waiting_subscriber_is_woken_and_unsubscribing_stops_delivery() -> None:
    topic: Topic[Progress] = Topic("progress")
    with anyio.fail_after(5):
        async with topic.subscribe(buffer=4, overflow=Overflow.DROP_OLDEST) as subscription:
            assert topic.subscribers == 1
            async with anyio.create_task_group() as tasks:
                got: list[Progress | Lagged] = []

                async def first() -> None:
                    got.append(await subscription.__anext__())

                tasks.start_soon(first)
                await anyio.wait_all_tasks_blocked()
                topic.publish(Progress(job=1, seq=1))
            assert got == [Progress(job=1, seq=1)]
        assert topic.subscribers == 0
        topic.publish(Progress(job=1, seq=2))
        assert await drain(subscription) == []


async def test_closing_the_topic_ends_every_subscription() -> None:
    topic: Topic[Progress] = Topic("progress")
    subscriptions = [topic.subscribe(buffer=4, overflow=Overflow.LAG) for _ in range(3)]
    topic.publish(Progress(job=1, seq=1))
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            results: list[list[Progress | Lagged]] = []

            async def read(subscription: Subscription[Progress]) -> None:
                results.append(await drain(subscription))

            for subscription in subscriptions:
                tasks.start_soon(read, subscription)
            await anyio.wait_all_tasks_blocked()
            topic.close()
    assert results == [[Progress(job=1, seq=1)]] * 3
    late = topic.subscribe(buffer=1, overflow=Overflow.DROP_OLDEST)
    with anyio.fail_after(5):
        assert await drain(late) == []


def test_coalesce_needs_a_key_and_buffers_a_size() -> None:
    topic: Topic[Progress] = Topic("progress")
    with pytest.raises(ValueError, match="key"):
        topic.subscribe(buffer=4, overflow=Overflow.COALESCE)
    with pytest.raises(ValueError, match="buffer"):
        topic.subscribe(buffer=0, overflow=Overflow.LAG)


async def test_none_is_an_event_like_any_other() -> None:
    topic: Topic[None] = Topic("nothing")
    subscription = topic.subscribe(buffer=2, overflow=Overflow.DROP_OLDEST)
    topic.publish(None)
    topic.close()
    with anyio.fail_after(5):
        assert [item async for item in subscription] == [None]


async def test_a_routed_subscription_gets_its_key_only_and_others_are_never_touched() -> None:
    topic: Topic[Progress] = Topic("progress", route=by_job)
    everything = topic.subscribe(buffer=64, overflow=Overflow.LAG)
    job_one = topic.subscribe(buffer=64, overflow=Overflow.LAG, only=1)
    job_two = topic.subscribe(buffer=4, overflow=Overflow.LAG, only=2)
    assert topic.subscribers == 3
    for seq in range(12):
        topic.publish(Progress(job=seq % 3, seq=seq))
    assert job_two.dropped == 0  # its buffer of 4 holds its own 4; all 12 would overflow it
    topic.close()
    assert await drain(job_one) == [Progress(job=1, seq=seq) for seq in (1, 4, 7, 10)]
    assert await drain(job_two) == [Progress(job=2, seq=seq) for seq in (2, 5, 8, 11)]
    assert len(await drain(everything)) == 12
    assert topic.subscribers == 0


async def test_unsubscribing_a_routed_subscription_stops_its_delivery() -> None:
    topic: Topic[Progress] = Topic("progress", route=by_job)
    with topic.subscribe(buffer=8, overflow=Overflow.DROP_OLDEST, only=0) as leaving:
        topic.publish(Progress(job=0, seq=0))
    topic.publish(Progress(job=0, seq=1))
    assert topic.subscribers == 0
    assert await drain(leaving) == [Progress(job=0, seq=0)]


def test_only_needs_a_route() -> None:
    with pytest.raises(ValueError, match="no route"):
        Topic[Progress]("progress").subscribe(buffer=1, overflow=Overflow.LAG, only=1)
