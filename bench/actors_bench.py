"""Throughput and latency of the actor runtime against a raw anyio memory stream.

Run with ``uv run python bench/actors_bench.py`` (asyncio). Everything is measured in the same
run and compared with the raw stream, since machines are noisy; each figure is the best of a few
repetitions. Goals: ``tell`` at least 50 % of the raw stream's messages/s, ``ask`` round trips
at least 25 %. Exits non-zero when a goal is missed.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from actors import Actor, ChildSpec, Overflow, Reply, Subscription, Topic, open_actor_system

MESSAGES = 50_000
ROUND_TRIPS = 25_000
BUFFER = 64
REPEATS = 5
SUBSCRIBERS = 1_000
EVENTS = 100
TELL_GOAL = 0.50
ASK_GOAL = 0.25


@dataclass(slots=True)
class Ping:
    reply: Reply[int]


class Sink(Actor["int | Ping"]):
    """Counts told messages; answers a ``Ping`` with the count."""

    def __init__(self) -> None:
        self.count = 0

    async def receive(self, msg: int | Ping) -> None:
        if isinstance(msg, int):
            self.count += 1
        else:
            msg.reply.set_result(self.count)


async def raw_stream() -> float:
    """Seconds to pass MESSAGES through a bare memory object stream."""
    send, receive = anyio.create_memory_object_stream[int](BUFFER)

    async def consume() -> None:
        async with receive:
            async for _ in receive:
                pass

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consume)
        async with send:
            for number in range(MESSAGES):
                await send.send(number)
    return time.perf_counter() - started


async def tell_throughput() -> float:
    """Seconds to tell MESSAGES to an actor and have it handle them all."""
    async with open_actor_system() as system:
        ref = await system.spawn(ChildSpec("sink", Sink, mailbox_size=BUFFER))
        started = time.perf_counter()
        for number in range(MESSAGES):
            await ref.tell(number)
        assert await ref.ask(Ping) == MESSAGES
        return time.perf_counter() - started


async def ask_round_trips() -> float:
    """Seconds for ROUND_TRIPS sequential asks."""
    async with open_actor_system() as system:
        ref = await system.spawn(ChildSpec("sink", Sink, mailbox_size=BUFFER))
        started = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            await ref.ask(Ping)
        return time.perf_counter() - started


async def publish_latency() -> list[float]:
    """Seconds from publish to delivery, for every event at every one of SUBSCRIBERS."""
    topic: Topic[float] = Topic("bench")
    latencies: list[float] = []
    pending = SUBSCRIBERS
    all_delivered = anyio.Event()

    async def subscriber(subscription: Subscription[float]) -> None:
        nonlocal pending, all_delivered
        with subscription:
            async for sent_at in subscription:
                assert isinstance(sent_at, float)
                latencies.append(time.perf_counter() - sent_at)
                pending -= 1
                if pending == 0:
                    all_delivered.set()

    async with anyio.create_task_group() as tasks:
        for _ in range(SUBSCRIBERS):
            subscription = topic.subscribe(buffer=16, overflow=Overflow.DROP_OLDEST)
            tasks.start_soon(subscriber, subscription)
        await anyio.wait_all_tasks_blocked()
        for _ in range(EVENTS):
            pending, all_delivered = SUBSCRIBERS, anyio.Event()
            topic.publish(time.perf_counter())
            await all_delivered.wait()
        topic.close()
    return latencies


async def best_rates(
    measures: dict[str, tuple[Callable[[], Awaitable[float]], int]],
) -> dict[str, float]:
    """Best rate (count per second) of each measure, interleaving the repetitions so that a
    noisy moment on the machine hits every measure alike rather than one of them."""
    best = dict.fromkeys(measures, 0.0)
    for _ in range(REPEATS):
        for name, (measure, count) in measures.items():
            best[name] = max(best[name], count / await measure())
    return best


def verdict(ratio: float, goal: float) -> str:
    return "PASS" if ratio >= goal else "FAIL"


async def main() -> int:
    rates = await best_rates(
        {
            "raw": (raw_stream, MESSAGES),
            "tell": (tell_throughput, MESSAGES),
            "ask": (ask_round_trips, ROUND_TRIPS),
        }
    )
    raw, tell, ask = rates["raw"], rates["tell"], rates["ask"]
    latencies = sorted(await publish_latency())
    p50 = statistics.median(latencies) * 1e6
    p99 = latencies[int(len(latencies) * 0.99)] * 1e6
    tell_ratio, ask_ratio = tell / raw, ask / raw
    print(f"raw memory stream   {raw:12,.0f} msg/s   1.00x")
    print(
        f"tell via actor      {tell:12,.0f} msg/s   {tell_ratio:.2f}x  goal >= {TELL_GOAL:.2f}x "
        f"{verdict(tell_ratio, TELL_GOAL)}"
    )
    print(
        f"ask round trips     {ask:12,.0f} req/s   {ask_ratio:.2f}x  goal >= {ASK_GOAL:.2f}x "
        f"{verdict(ask_ratio, ASK_GOAL)}"
    )
    print(
        f"publish->delivery   p50 {p50:,.0f} us  p99 {p99:,.0f} us  "
        f"({SUBSCRIBERS:,} subscribers, {EVENTS} events)"
    )
    return 0 if tell_ratio >= TELL_GOAL and ask_ratio >= ASK_GOAL else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main, backend="asyncio"))
