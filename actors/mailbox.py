"""Bounded mailboxes: the queue in front of every actor.

A :class:`Mailbox` wraps one anyio memory object stream with a finite buffer. It belongs to the
actor's supervision slot, not to the actor instance, so a restarted instance keeps reading the
same queue and nothing sent to it is lost across a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectStreamStatistics

__all__ = ["ActorStopped", "Mailbox"]

M = TypeVar("M")


class ActorStopped(Exception):  # noqa: N818 - reads as what happened
    """The actor behind a mailbox has stopped and accepts no more messages.

    Raised to senders (``tell``, ``try_tell``, ``ask``) and delivered to the replies of requests
    that were still queued when the actor went away for good.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"actor {name!r} has stopped")
        self.name = name


class Mailbox(Generic[M]):
    """A bounded FIFO of messages for one actor.

    Senders go through an :class:`~actors.ref.ActorRef` (``tell`` waits for space, ``try_tell``
    does not); the actor's run loop reads the receiving end. ``close`` stops new messages while
    the reader drains what is queued; ``discard`` is the final teardown that drops the rest.
    """

    __slots__ = ("_closed", "_recv", "_send", "capacity", "name")

    def __init__(self, name: str, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a mailbox needs a capacity of at least 1")
        self.name = name
        self.capacity = capacity
        self._closed = False
        self._send, self._recv = anyio.create_memory_object_stream[M](max_buffer_size=capacity)

    @property
    def closed(self) -> bool:
        """True once no more messages are accepted."""
        return self._closed

    def close(self) -> None:
        """Accept no more messages; the reader still gets what is already queued."""
        self._closed = True
        self._send.close()

    def discard(self, on_dropped: Callable[[M], object] | None = None) -> None:
        """Close both ends, handing every message still queued to ``on_dropped``.

        Used when the actor is gone for good, so that askers waiting on queued requests are
        told instead of waiting for their timeout.
        """
        self.close()
        while True:
            try:
                msg = self._recv.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
            if on_dropped is not None:
                on_dropped(msg)
        self._recv.close()

    def statistics(self) -> MemoryObjectStreamStatistics:
        """Buffer use and waiting tasks, straight from the underlying stream."""
        return self._send.statistics()
