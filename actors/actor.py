"""The actor base class, its context, and the run loop of one actor instance.

An actor handles the messages of its mailbox one at a time, so its state needs no locks. Work
that must overlap (a download per job, say) goes to background tasks started with
``self.context.start_soon``; they belong to the instance and are cancelled when it stops or is
replaced by a restart.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any, Generic, TypeVar, TypeVarTuple, cast

import anyio
from anyio.abc import TaskGroup

from actors.mailbox import ActorStopped, Mailbox
from actors.ref import ActorRef, fail_request

__all__ = ["Actor", "ActorContext", "run_instance"]

M = TypeVar("M")
PosArgsT = TypeVarTuple("PosArgsT")

logger = logging.getLogger(__name__)

#: Queued by :meth:`ActorContext.stop` to wake an idle run loop; skipped by the loop.
_WAKE = object()


class ActorContext(Generic[M]):
    """What a running actor instance knows about itself: its name, its ref, its tasks."""

    __slots__ = ("_current", "_mailbox", "_stop_requested", "_task_group", "name", "ref")

    def __init__(self, ref: ActorRef[M], mailbox: Mailbox[M]) -> None:
        self.name = ref.name
        self.ref = ref
        self._mailbox = mailbox
        self._task_group: TaskGroup | None = None
        self._stop_requested = False
        # The message being handled, so a crash in a background task can still fail it.
        self._current: object = None

    def start_soon(
        self,
        fn: Callable[[*PosArgsT], Coroutine[Any, Any, Any]],
        *args: *PosArgsT,
        name: object = None,
    ) -> None:
        """Run ``fn(*args)`` as a background task of this instance.

        The task is cancelled when the instance stops or restarts. An exception escaping it
        crashes the instance, which then goes to supervision like a failed tell.
        """
        if self._task_group is None:
            raise RuntimeError(f"actor {self.name!r} is not running")
        self._task_group.start_soon(fn, *args, name=name)

    def stop(self) -> None:
        """End this instance normally once the message being handled is done.

        A ``PERMANENT`` child is then started afresh; ``TRANSIENT`` and ``TEMPORARY`` children
        stay stopped and their queued requests get :class:`ActorStopped`.
        """
        self._stop_requested = True
        # Wakes the loop if it waits for mail; a full mailbox means it is busy and sees the flag.
        with suppress(anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._mailbox._send.send_nowait(cast(M, _WAKE))


class Actor(ABC, Generic[M]):
    """Base class of actors handling messages of type ``M``.

    Subclasses implement :meth:`receive` and may override :meth:`on_start` and
    :meth:`on_stop`. The runtime sets :attr:`context` before ``on_start`` runs. A subclass's
    ``__init__`` needs no ``super().__init__()`` call: the factory in the child spec builds a
    fresh instance for every (re)start.
    """

    context: ActorContext[M]

    async def on_start(self) -> None:
        """Called before the first message; :meth:`ActorSystem.spawn` waits for it."""

    @abstractmethod
    async def receive(self, msg: M) -> None:
        """Handle one message.

        An exception raised while handling a request (a message with a ``reply``) goes to its
        asker and the actor carries on; any other exception crashes the instance.
        """

    async def on_stop(self) -> None:
        """Called after the last message and after the background tasks were cancelled.

        Runs on a normal stop and after a crash, but not when the instance is cancelled.
        """


async def run_instance(
    actor: Actor[M], context: ActorContext[M], started: Callable[[], object]
) -> Exception | None:
    """Run one actor instance until its mailbox is closed and drained, or it stops or fails.

    Calls ``started()`` once ``on_start`` has returned. Returns the exception that crashed the
    instance, or None when it ended normally; cancellation propagates.
    """
    actor.context = context
    error: Exception | None = None
    running = False
    try:
        async with anyio.create_task_group() as task_group:
            context._task_group = task_group
            try:
                await actor.on_start()
                running = True
                started()
                await _serve(actor, context)
            except Exception as exc:
                error = exc
            task_group.cancel_scope.cancel()
    except Exception as exc:
        error = error or _unwrap(exc)
    finally:
        context._task_group = None
        if context._current is not None:  # cut short by a crash or by cancellation
            fail_request(context._current, error or ActorStopped(context.name))
            context._current = None
    if running:
        try:
            await actor.on_stop()
        except Exception as exc:
            if error is None:
                error = exc
            else:
                logger.exception("on_stop of crashed actor %r failed too", context.name)
    return error


async def _serve(actor: Actor[M], context: ActorContext[M]) -> None:
    """The message loop: the runtime's hottest path, so lookups are hoisted out of it."""
    receive = actor.receive
    get = context._mailbox._recv.receive
    while not context._stop_requested:
        try:
            msg = await get()
        except anyio.EndOfStream:
            return
        if msg is _WAKE:
            continue
        context._current = msg
        try:
            await receive(msg)
        except Exception as exc:
            if not fail_request(msg, exc):
                raise
        context._current = None


def _unwrap(error: Exception) -> Exception:
    """The first leaf of an exception group (the error that crashed the instance)."""
    while isinstance(error, ExceptionGroup):
        error = error.exceptions[0]
    return error
