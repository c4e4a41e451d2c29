"""Addresses of actors: :class:`ActorRef` with ``tell``, ``try_tell`` and ``ask``.

Requests follow one convention: a request message carries a ``reply`` attribute holding a
:class:`Reply`, a one-shot future the actor completes with ``set_result`` or ``set_exception``.
Both are synchronous and never block, and both are harmless once the asker has gone away, so a
slow or impatient asker can never wedge the actor that answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectStreamStatistics

from actors.mailbox import ActorStopped, Mailbox

__all__ = ["ActorRef", "AskTimeout", "Reply", "fail_request"]

M = TypeVar("M")
T = TypeVar("T")

#: Seconds an ``ask`` waits by default (queueing plus the answer).
DEFAULT_ASK_TIMEOUT = 10.0


class AskTimeout(TimeoutError):  # noqa: N818 - reads as what happened
    """An ``ask`` got no answer within its timeout."""

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(f"no reply from actor {name!r} within {timeout:g} s")
        self.name = name
        self.timeout = timeout


class Reply(Generic[T]):
    """A one-shot reply slot shared by an asker and the actor that answers.

    The first ``set_result``/``set_exception`` wins and returns True; later calls return False.
    Neither ever blocks or raises, and an answer nobody waits for any more is simply dropped.
    Use it from the event loop thread only.
    """

    __slots__ = ("_done", "_error", "_event", "_value")

    def __init__(self) -> None:
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None
        # Created lazily: most answers arrive before the asker starts waiting.
        self._event: anyio.Event | None = None

    def done(self) -> bool:
        """True once a result or an exception has been set."""
        return self._done

    def set_result(self, value: T) -> bool:
        """Complete with ``value``; False (and no effect) if already completed."""
        return self._complete(value, None)

    def set_exception(self, error: BaseException) -> bool:
        """Complete with ``error``, raised to the asker; False if already completed."""
        return self._complete(None, error)

    def _complete(self, value: T | None, error: BaseException | None) -> bool:
        if self._done:
            return False
        self._value, self._error, self._done = value, error, True
        if self._event is not None:
            self._event.set()
        return True

    async def wait(self) -> T:
        """Wait for the answer and return it (or raise the error that was set)."""
        if not self._done:
            if self._event is None:
                self._event = anyio.Event()
            await self._event.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def fail_request(msg: object, error: BaseException) -> bool:
    """Deliver ``error`` to ``msg.reply`` if ``msg`` is a request still waiting for its answer.

    Returns True when the error went to an asker. The runtime uses this both for errors raised
    while handling a request and for requests dropped from the mailbox of a stopped actor.
    """
    reply = getattr(msg, "reply", None)
    return isinstance(reply, Reply) and reply.set_exception(error)


class ActorRef(Generic[M]):
    """The handle other code uses to send messages of type ``M`` to one actor.

    A ref stays valid across restarts of the actor because it points at the supervision slot's
    mailbox, not at an actor instance.
    """

    __slots__ = ("_mailbox", "_send", "name")

    def __init__(self, mailbox: Mailbox[M]) -> None:
        self.name = mailbox.name
        self._mailbox = mailbox
        # Bound once: ``tell`` is the hottest path in the runtime.
        self._send = mailbox._send.send

    def __repr__(self) -> str:
        return f"<ActorRef {self.name!r}>"

    async def tell(self, msg: M) -> None:
        """Send ``msg``, waiting while the mailbox is full (backpressure).

        Raises :class:`ActorStopped` if the actor has stopped. Errors the actor raises while
        handling a told message go to its supervisor, never back here.
        """
        try:
            await self._send(msg)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise ActorStopped(self.name) from None

    def try_tell(self, msg: M) -> bool:
        """Send ``msg`` if there is room right now; return False when the mailbox is full.

        Never waits. Raises :class:`ActorStopped` if the actor has stopped.
        """
        try:
            self._mailbox._send.send_nowait(msg)
        except anyio.WouldBlock:
            return False
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise ActorStopped(self.name) from None
        return True

    async def ask(
        self,
        make_request: Callable[[Reply[T]], M],
        *,
        timeout: float | None = DEFAULT_ASK_TIMEOUT,  # noqa: ASYNC109 - raises AskTimeout
    ) -> T:
        """Send the request built by ``make_request(reply)`` and wait for its answer.

        ``timeout`` (seconds, or None for no limit) covers waiting for mailbox space as well as
        the answer; on expiry :class:`AskTimeout` is raised and the actor, which may still
        answer later, is unaffected. An exception raised by the actor while handling the
        request is raised here, and does not restart the actor.
        """
        reply: Reply[T] = Reply()
        msg = make_request(reply)
        if timeout is None:
            return await self._request(msg, reply)
        with anyio.move_on_after(timeout):
            return await self._request(msg, reply)
        raise AskTimeout(self.name, timeout)

    async def _request(self, msg: M, reply: Reply[T]) -> T:
        # Queue without a trip through the scheduler when there is room: waiting for the
        # reply yields anyway, and this halves the task switches of a round trip.
        if not self.try_tell(msg):
            await self.tell(msg)
        return await reply.wait()

    def statistics(self) -> MemoryObjectStreamStatistics:
        """Mailbox statistics of the actor (see :meth:`Mailbox.statistics`)."""
        return self._mailbox.statistics()
