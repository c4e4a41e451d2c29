"""Topics: broadcast events to any number of subscribers without ever waiting for them.

``Topic.publish`` is synchronous and O(subscribers): it appends the event to each subscriber's
bounded buffer and wakes the subscriber if it is waiting. When a buffer is full, the
subscriber's :class:`Overflow` policy decides what to give up, so a slow subscriber costs the
publisher nothing and never holds it back. A topic with a route serves subscribers of one key
(one job's events) without touching the subscribers of other keys.

Use a topic from the event loop's thread; from a worker thread go through
:class:`actors.offload.ThreadBridge` (``bridge.call_soon(topic.publish, event)``).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio

__all__ = ["Lagged", "Overflow", "Subscription", "Topic"]

E = TypeVar("E")


class Overflow(enum.Enum):
    """What a subscriber's full buffer gives up for a new event."""

    DROP_OLDEST = "drop_oldest"
    """Drop the oldest queued event."""
    COALESCE = "coalesce"
    """Replace the queued event with the same key in place, else drop the oldest."""
    LAG = "lag"
    """Drop everything queued and deliver a :class:`Lagged` marker, so the subscriber resyncs."""


@dataclass(frozen=True, slots=True)
class Lagged:
    """Marker item: the subscriber fell behind and ``dropped`` events were thrown away."""

    dropped: int


class Subscription(Generic[E]):
    """One subscriber's bounded buffer; iterate it (``async for``) to receive events.

    Iteration yields events and :class:`Lagged` markers, and ends once the topic is closed
    (after the buffered events) or the subscription is closed. Use it as a context manager
    (``with`` or ``async with``) to unsubscribe when done. Each overflow policy is a subclass
    with its own ``push`` (called by the topic) and ``_take`` (called by the iterator).
    """

    __slots__ = ("_buffer", "_closed", "_dropped", "_only", "_size", "_topic", "_waiter")

    def __init__(self, topic: Topic[E], buffer: int) -> None:
        if buffer < 1:
            raise ValueError("a subscription needs a buffer of at least 1")
        self._topic = topic
        self._buffer: deque[Any] = deque()  # events, or cells holding them (``_Coalesce``)
        self._size = buffer
        self._closed = False
        self._dropped = 0
        self._waiter: anyio.Event | None = None
        self._only: Hashable | None = None  # the one route key it receives, if any

    @property
    def dropped(self) -> int:
        """How many events this subscriber has lost to overflow so far."""
        return self._dropped

    def push(self, event: E) -> None:
        """Offer one event to this subscriber: never waits (the topic's hot path)."""
        raise NotImplementedError

    def _ready(self) -> bool:
        """Whether ``_take`` has an item to give."""
        return bool(self._buffer)

    def _take(self) -> E | Lagged:
        """The next item; only called when ``_ready()``."""
        return self._buffer.popleft()  # type: ignore[no-any-return]

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()

    def __aiter__(self) -> Subscription[E]:
        return self

    async def __anext__(self) -> E | Lagged:
        """Wait for the next event or :class:`Lagged` marker."""
        while True:
            if self._ready():
                return self._take()
            if self._closed:
                raise StopAsyncIteration
            waiter = self._waiter = anyio.Event()
            await waiter.wait()

    def close(self) -> None:
        """Unsubscribe: nothing new arrives; iteration ends once the buffer is empty."""
        if not self._closed:
            self._closed = True
            self._topic._remove(self)
            self._wake()

    def __enter__(self) -> Subscription[E]:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Subscription[E]:
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


class _DropOldest(Subscription[E]):
    __slots__ = ()

    def __init__(self, topic: Topic[E], buffer: int) -> None:
        super().__init__(topic, buffer)
        self._buffer = deque(maxlen=buffer)

    def push(self, event: E) -> None:
        if len(self._buffer) == self._size:
            self._dropped += 1
        self._buffer.append(event)  # a full deque with a maxlen drops its oldest item itself
        self._wake()


class _Lag(Subscription[E]):
    __slots__ = ("_unreported",)

    def __init__(self, topic: Topic[E], buffer: int) -> None:
        super().__init__(topic, buffer)
        self._unreported = 0  # dropped since the last Lagged marker was taken

    def push(self, event: E) -> None:
        if len(self._buffer) == self._size:
            lost = self._size + 1
            self._buffer.clear()
            self._dropped += lost
            self._unreported += lost
        else:
            self._buffer.append(event)
        self._wake()

    def _ready(self) -> bool:
        return bool(self._unreported or self._buffer)

    def _take(self) -> E | Lagged:
        if self._unreported:  # the marker precedes everything buffered since the overflow
            lagged = Lagged(self._unreported)
            self._unreported = 0
            return lagged
        return self._buffer.popleft()  # type: ignore[no-any-return]


class _Coalesce(Subscription[E]):
    """Buffers one-item cells so that a queued event can be replaced in place in O(1)."""

    __slots__ = ("_key", "_newest")

    def __init__(self, topic: Topic[E], buffer: int, key: Callable[[E], Hashable]) -> None:
        super().__init__(topic, buffer)
        self._key = key
        self._newest: dict[Hashable, list[E]] = {}  # the newest queued cell of each key

    def push(self, event: E) -> None:
        key = self._key(event)
        if len(self._buffer) == self._size:
            self._dropped += 1
            cell = self._newest.get(key) if key is not None else None
            if cell is not None:
                cell[0] = event
                return
            self._forget(self._buffer.popleft())
        cell = [event]
        self._buffer.append(cell)
        if key is not None:
            self._newest[key] = cell
        self._wake()

    def _take(self) -> E:
        cell: list[E] = self._buffer.popleft()
        self._forget(cell)
        return cell[0]

    def _forget(self, cell: list[E]) -> None:
        """Drop the cell's coalescing entry as it leaves the buffer."""
        key = self._key(cell[0])
        if key is not None and self._newest.get(key) is cell:
            del self._newest[key]


class Topic(Generic[E]):
    """A named broadcast point: every subscription receives every event published after it.

    With a ``route`` (an event's key, such as the id of the job it belongs to), a subscription
    may ask for one key only (``subscribe(..., only=k)``): ``publish`` then offers the event to
    the subscribers of its key and to those of every key, and never touches the others. A
    topic with thousands of one-key subscribers costs each event only its own readers.
    """

    __slots__ = ("_closed", "_keyed", "_pushes", "_route", "name")

    def __init__(self, name: str, *, route: Callable[[E], Hashable] | None = None) -> None:
        self.name = name
        self._closed = False
        self._route = route
        self._pushes: dict[Subscription[E], Callable[[E], None]] = {}
        self._keyed: dict[Hashable, dict[Subscription[E], Callable[[E], None]]] = {}

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open."""
        return len(self._pushes) + sum(len(pushes) for pushes in self._keyed.values())

    def publish(self, event: E) -> None:
        """Offer ``event`` to its subscribers; never waits, never fails (no-op once closed)."""
        for push in self._pushes.values():
            push(event)
        if self._keyed and self._route is not None:
            keyed = self._keyed.get(self._route(event))
            if keyed:
                for push in keyed.values():
                    push(event)

    def subscribe(
        self,
        *,
        buffer: int,
        overflow: Overflow,
        key: Callable[[E], Hashable] | None = None,
        only: Hashable | None = None,
    ) -> Subscription[E]:
        """Subscribe now, with a buffer of ``buffer`` events and the given overflow policy.

        ``key`` (required for ``COALESCE``) says which events supersede each other; events
        whose key is None are never coalesced. ``only`` (on a topic with a ``route``) limits
        the subscription to the events routed to that key. On a closed topic the
        subscription is already at its end.
        """
        if only is not None and self._route is None:
            raise ValueError(f"topic {self.name!r} has no route: it cannot filter by key")
        subscription: Subscription[E]
        if overflow is Overflow.COALESCE:
            if key is None:
                raise ValueError("Overflow.COALESCE needs a key function")
            subscription = _Coalesce(self, buffer, key)
        elif overflow is Overflow.LAG:
            subscription = _Lag(self, buffer)
        else:
            subscription = _DropOldest(self, buffer)
        if self._closed:
            subscription._closed = True
        elif only is None:
            self._pushes[subscription] = subscription.push
        else:
            subscription._only = only
            self._keyed.setdefault(only, {})[subscription] = subscription.push
        return subscription

    def close(self) -> None:
        """End every subscription (each still yields what it has buffered) and refuse new ones."""
        self._closed = True
        for subscription in list(self._pushes):
            subscription.close()
        for pushes in list(self._keyed.values()):
            for subscription in list(pushes):
                subscription.close()

    def _remove(self, subscription: Subscription[E]) -> None:
        if subscription._only is None:
            self._pushes.pop(subscription, None)
            return
        pushes = self._keyed.get(subscription._only)
        if pushes is not None:
            pushes.pop(subscription, None)
            if not pushes:
                del self._keyed[subscription._only]
