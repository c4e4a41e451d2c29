"""The actor system: spawns supervised actors in order and drains them in reverse on exit.

    async with open_actor_system(grace=5.0) as system:
        store = await system.spawn(ChildSpec(name="store", factory=Store))
        api = await system.spawn(ChildSpec(name="api", factory=lambda: Api(store)))
        ...

On exit, plain background tasks are cancelled first (they are the system's inputs), then each
actor, the last started first, has its mailbox closed, finishes what is queued and runs
``on_stop``, all within ``grace`` seconds; whatever is still running then is cancelled. When a
child exceeds its restart intensity, the body of the ``async with`` is cancelled, the others are
drained, and :class:`Escalation` is raised from the ``async with``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar, TypeVarTuple

import anyio
from anyio.abc import TaskGroup

from actors.ref import ActorRef
from actors.supervisor import ChildSpec, Escalation, RestartIntensity, Supervised

__all__ = ["ActorSystem", "open_actor_system"]

M = TypeVar("M")
PosArgsT = TypeVarTuple("PosArgsT")

#: Restart intensity of every child unless :func:`open_actor_system` is given another.
DEFAULT_INTENSITY = RestartIntensity()


class ActorSystem:
    """Handle to a running actor system; obtained from :func:`open_actor_system`."""

    def __init__(
        self,
        task_group: TaskGroup,
        intensity: RestartIntensity,
        escalate: Callable[[Escalation], None],
    ) -> None:
        self._task_group = task_group
        self._intensity = intensity
        self._escalate = escalate
        self._children: dict[str, Supervised[Any]] = {}  # in start order
        self._task_scopes: set[anyio.CancelScope] = set()
        self._tasks_done: anyio.Event | None = None  # set during the drain, once none are left
        self._closing = False

    async def spawn(self, spec: ChildSpec[M]) -> ActorRef[M]:
        """Start a supervised actor and return its ref once its ``on_start`` has completed.

        Raises the error of a failing first start, ``ValueError`` for a name already in use and
        ``RuntimeError`` once the system is shutting down.
        """
        if self._closing:
            raise RuntimeError("the actor system is shutting down")
        if spec.name in self._children:
            raise ValueError(f"an actor named {spec.name!r} already exists")
        child = Supervised(spec, self._intensity, self._escalate)
        self._children[spec.name] = child  # listed before it starts, so a drain sees it
        started = False
        try:
            await self._task_group.start(child.run, name=f"actor {spec.name}")
            started = True
        finally:
            if not started:
                del self._children[spec.name]
        return child.ref

    def start_soon(
        self,
        fn: Callable[[*PosArgsT], Coroutine[Any, Any, Any]],
        *args: *PosArgsT,
        name: str | None = None,
    ) -> None:
        """Run ``fn(*args)`` as a background task that lives at most as long as the system.

        It is cancelled when the system shuts down, before the actors drain. An exception
        escaping it brings the system down as an :class:`Escalation` naming the task.
        """
        if self._closing:
            raise RuntimeError("the actor system is shutting down")
        label = name if name is not None else str(getattr(fn, "__qualname__", fn))
        self._task_group.start_soon(self._run_task, label, partial(fn, *args), name=label)

    async def _run_task(self, label: str, call: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        with anyio.CancelScope() as scope:
            self._task_scopes.add(scope)
            try:
                await call()
            except Exception as exc:
                self._escalate(Escalation(label, exc))
            finally:
                self._task_scopes.discard(scope)
                if not self._task_scopes and self._tasks_done is not None:
                    self._tasks_done.set()

    async def _drain(self, grace: float) -> None:
        """Stop tasks, then actors in reverse start order, within ``grace`` seconds."""
        self._closing = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(grace):
            if self._task_scopes:
                self._tasks_done = anyio.Event()
                for scope in self._task_scopes:
                    scope.cancel()
                await self._tasks_done.wait()
            for child in reversed(list(self._children.values())):
                child.stop()
                await child.stopped.wait()
        self._task_group.cancel_scope.cancel()  # whatever outlived the deadline


@asynccontextmanager
async def open_actor_system(
    *, grace: float = 5.0, intensity: RestartIntensity = DEFAULT_INTENSITY
) -> AsyncIterator[ActorSystem]:
    """Run an actor system for the duration of the ``async with`` block.

    ``grace`` bounds the drain on exit, in seconds; ``intensity`` is the restart intensity each
    child is allowed. Exceptions from the body propagate unchanged (after the drain).
    """
    escalations: list[Escalation] = []
    body_error: Exception | None = None
    async with anyio.create_task_group() as task_group:
        with anyio.CancelScope() as body:

            def escalate(escalation: Escalation) -> None:
                escalations.append(escalation)
                body.cancel()

            system = ActorSystem(task_group, intensity, escalate)
            try:
                yield system
            except Exception as exc:
                body_error = exc
            finally:
                await system._drain(grace)
    if escalations:
        raise escalations[0]
    if body_error is not None:
        raise body_error
