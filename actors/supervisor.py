"""Supervision: child specs, restart policies, restart intensity and escalation.

A :class:`Supervised` slot owns a child's mailbox and ref and runs one actor instance after
another: when an instance crashes, the slot builds a fresh one from the spec's factory and
points it at the same mailbox, so refs stay valid and queued messages are kept. A child that
crashes more often than the :class:`RestartIntensity` allows is given up on, and the failure
escalates as :class:`Escalation` out of the actor system.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskStatus

from actors.actor import Actor, ActorContext, run_instance
from actors.mailbox import ActorStopped, Mailbox
from actors.ref import ActorRef, fail_request

__all__ = ["DEFAULT_MAILBOX_SIZE", "ChildSpec", "Escalation", "Restart", "RestartIntensity"]

M = TypeVar("M")

#: Messages a child's mailbox holds unless its spec says otherwise.
DEFAULT_MAILBOX_SIZE = 64

logger = logging.getLogger(__name__)


class Restart(enum.Enum):
    """When a stopped child is started again (unless the system is shutting down)."""

    PERMANENT = "permanent"
    """Always: after a crash and after the instance stopped itself."""
    TRANSIENT = "transient"
    """Only after a crash; an instance that calls ``context.stop()`` stays stopped."""
    TEMPORARY = "temporary"
    """Never: the first stop, for whatever reason, is final."""


@dataclass(frozen=True, slots=True)
class RestartIntensity:
    """At most ``max_restarts`` restarts of one child within ``within_seconds``."""

    max_restarts: int = 3
    within_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class ChildSpec(Generic[M]):
    """How to build, and rebuild, one supervised actor."""

    name: str
    factory: Callable[[], Actor[M]]
    restart: Restart = Restart.PERMANENT
    mailbox_size: int = DEFAULT_MAILBOX_SIZE


class Escalation(Exception):  # noqa: N818 - an event, not an error of the caller
    """A child failed more often than its restart intensity allows, so it was given up on."""

    def __init__(self, child: str, error: BaseException | None) -> None:
        super().__init__(f"actor {child!r} keeps failing; gave up after: {error!r}")
        self.child = child
        self.error = error
        self.__cause__ = error


class Supervised(Generic[M]):
    """The supervision slot of one child: its mailbox, its ref and its restart bookkeeping."""

    def __init__(
        self,
        spec: ChildSpec[M],
        intensity: RestartIntensity,
        escalate: Callable[[Escalation], None],
    ) -> None:
        self.spec = spec
        self.mailbox: Mailbox[M] = Mailbox(spec.name, spec.mailbox_size)
        self.ref = ActorRef(self.mailbox)
        #: Set once the child has stopped for good.
        self.stopped = anyio.Event()
        self._intensity = intensity
        self._escalate = escalate
        self._restarts: deque[float] = deque()

    def stop(self) -> None:
        """Begin a graceful stop: no new messages; the instance finishes what is queued."""
        self.mailbox.close()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the child until it stops for good; ``task_status`` reports the first start.

        If the very first instance fails to start, its error is raised (to the spawner).
        """
        try:
            await self._supervise(task_status)
        finally:
            self.mailbox.discard(self._refuse)
            self.stopped.set()

    async def _supervise(self, task_status: TaskStatus[None]) -> None:
        started = False

        def mark_started() -> None:
            nonlocal started
            if not started:
                started = True
                task_status.started()

        while True:
            context = ActorContext(self.ref, self.mailbox)
            error: Exception | None
            try:
                actor = self.spec.factory()
            except Exception as exc:
                error = exc
            else:
                error = await run_instance(actor, context, mark_started)
            if not started:
                raise error or RuntimeError(f"actor {self.spec.name!r} ended before starting")
            if not self._should_restart(error):
                if error is not None:
                    logger.error(
                        "actor %r failed and stays stopped", self.spec.name, exc_info=error
                    )
                return
            if not self._admit_restart():
                self._escalate(Escalation(self.spec.name, error))
                return
            logger.warning("restarting actor %r", self.spec.name, exc_info=error)

    def _should_restart(self, error: Exception | None) -> bool:
        if self.mailbox.closed:  # the system is draining: stop, do not come back
            return False
        policy = self.spec.restart
        return policy is Restart.PERMANENT or (policy is Restart.TRANSIENT and error is not None)

    def _admit_restart(self) -> bool:
        """Record a restart; False when it would exceed the restart intensity."""
        now = anyio.current_time()
        while self._restarts and now - self._restarts[0] > self._intensity.within_seconds:
            self._restarts.popleft()
        if len(self._restarts) >= self._intensity.max_restarts:
            return False
        self._restarts.append(now)
        return True

    def _refuse(self, msg: M) -> None:
        fail_request(msg, ActorStopped(self.spec.name))
