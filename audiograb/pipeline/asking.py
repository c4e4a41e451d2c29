"""Asking a stage for blocking work in a way that a cancelled asker also stops the work."""

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio

from actors import ActorRef, Reply

T = TypeVar("T")
M = TypeVar("M")

#: Seconds a cancelled asker waits for the worker thread to notice and stop.
STOP_DEADLINE = 15.0


async def ask_cancellably(stage: ActorRef[M], make: Callable[[Reply[T], threading.Event], M]) -> T:
    """Send `make(reply, cancel)` to `stage` and wait for the answer.

    If the caller is cancelled meanwhile, the work's `cancel` event is set and the caller waits
    (shielded, up to `STOP_DEADLINE`) until the worker has let go of the job's files, so that
    cleaning up after the cancel never races a thread still writing.
    """
    cancel = threading.Event()
    reply: Reply[T] = Reply()
    try:
        await stage.tell(make(reply, cancel))
    except anyio.get_cancelled_exc_class():
        # A cancelled send withdraws the message (or, in a rare instant, it was taken just
        # then): there is no answer to wait for, but work that did start must stop at once.
        cancel.set()
        raise
    try:
        return await reply.wait()
    except anyio.get_cancelled_exc_class():
        cancel.set()
        with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_DEADLINE):
            await _settled(reply)
        raise


async def _settled(reply: Reply[T]) -> None:
    """Wait until `reply` has an answer, whatever it is."""
    try:
        await reply.wait()
    except Exception:  # the answer to abandoned work is of no use any more
        return
