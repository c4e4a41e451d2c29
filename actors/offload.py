"""Blocking work off the event loop: worker threads, worker processes, and a way back in.

* :func:`run_in_thread` runs ``fn(token)`` in a worker thread. Cancelling the caller sets the
  :class:`CancelToken`; the caller then waits for ``fn`` to notice and return (threads cannot be
  killed), so nothing outlives the scope that started it, and then cancellation propagates.
* :func:`run_in_process` runs a picklable function in a worker process (killed on cancel).
* :class:`ThreadBridge` lets any thread, including ones anyio did not start, schedule a call on
  the event loop without waiting for it: the way worker threads publish progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple

import anyio
import anyio.to_process
import anyio.to_thread
from anyio.lowlevel import current_token

__all__ = [
    "CancelToken",
    "ThreadBridge",
    "WorkCancelled",
    "run_in_process",
    "run_in_thread",
]

T = TypeVar("T")
PosArgsT = TypeVarTuple("PosArgsT")

logger = logging.getLogger(__name__)


class WorkCancelled(Exception):  # noqa: N818 - reads as what happened
    """Raised inside a worker by :meth:`CancelToken.raise_if_cancelled`."""


class CancelToken:
    """A thread-safe, one-way cancellation flag handed to blocking work.

    The event loop sets it; the worker polls :attr:`cancelled`, calls
    :meth:`raise_if_cancelled` between steps, or sleeps with :meth:`wait` so it wakes early.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def cancelled(self) -> bool:
        """True once cancellation was requested."""
        return self._event.is_set()

    def cancel(self) -> None:
        """Request cancellation (idempotent, callable from any thread)."""
        self._event.set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`WorkCancelled` if cancellation was requested."""
        if self._event.is_set():
            raise WorkCancelled

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds for cancellation; True if it was requested."""
        return self._event.wait(timeout)


async def run_in_thread(
    fn: Callable[[CancelToken], T], *, limiter: anyio.CapacityLimiter | None = None
) -> T:
    """Run ``fn(token)`` in a worker thread (under ``limiter``) and return its result.

    If the caller is cancelled meanwhile, ``token`` is set, the caller waits until ``fn`` has
    returned (``fn`` must check the token), and then the cancellation propagates; whatever
    ``fn`` returned or raised after being cancelled is discarded.
    """
    token = CancelToken()
    value: T | None = None
    error: Exception | None = None
    finished = anyio.Event()

    async def work() -> None:
        nonlocal value, error
        # Not abandoned on cancel: this waits, shielded, for the thread to return.
        try:
            value = await anyio.to_thread.run_sync(fn, token, limiter=limiter)
        except Exception as exc:
            error = exc
        finally:
            finished.set()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(work)
        try:
            await finished.wait()
        finally:
            if not finished.is_set():  # the caller was cancelled: ask the thread to stop
                token.cancel()
    if error is not None:
        raise error
    return value  # type: ignore[return-value]


async def run_in_process(
    fn: Callable[[*PosArgsT], T],
    *args: *PosArgsT,
    limiter: anyio.CapacityLimiter | None = None,
) -> T:
    """Run the picklable ``fn(*args)`` in a worker process; cancelling kills the process."""
    return await anyio.to_process.run_sync(fn, *args, cancellable=True, limiter=limiter)


class ThreadBridge:
    """Schedules calls on the event loop it was created in, from any thread, without blocking.

    Create it inside the loop (``bridge = ThreadBridge()``); then ``bridge.call_soon(fn, *args)``
    from any thread queues ``fn(*args)`` to run on the loop and returns at once. Calls run in
    the order they were made from one thread. An exception from ``fn`` is logged (it has no one
    to go back to). After :meth:`close`, or once the loop has finished, calls are dropped.
    """

    __slots__ = ("_closed", "_native", "_run_sync_soon")

    def __init__(self) -> None:
        token = current_token()
        # anyio's own non-blocking primitive (what its portals are built on): asyncio's
        # call_soon_threadsafe or trio's TrioToken.run_sync_soon behind one interface.
        self._run_sync_soon = token.backend_class.run_sync_soon
        self._native = token.native_token
        self._closed = False

    def call_soon(self, fn: Callable[[*PosArgsT], Any], *args: *PosArgsT) -> bool:
        """Queue ``fn(*args)`` on the loop; False if the bridge is closed or the loop is gone."""
        if self._closed:
            return False
        try:
            self._run_sync_soon(_guarded, (fn, args), self._native)
        except anyio.RunFinishedError:
            return False
        return True

    def close(self) -> None:
        """Drop every later call (calls already queued still run)."""
        self._closed = True


def _guarded(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Run a bridged call; an error must not reach the loop (trio would crash on it)."""
    try:
        fn(*args)
    except Exception:
        logger.exception("call bridged from a thread failed: %r", fn)
