"""A small, generic actor runtime on anyio: runs on asyncio and trio.

Actors with bounded mailboxes (:class:`ActorRef` ``tell`` / ``try_tell`` / ``ask``), supervised
with restart policies and restart intensity inside an :func:`open_actor_system`; topics that
broadcast events without ever waiting for subscribers; and helpers that move blocking work to
threads or processes and let threads call back into the loop. See ``docs/actors.md``.
"""

from actors.actor import Actor, ActorContext
from actors.mailbox import ActorStopped, Mailbox
from actors.offload import CancelToken, ThreadBridge, WorkCancelled, run_in_process, run_in_thread
from actors.pubsub import Lagged, Overflow, Subscription, Topic
from actors.ref import ActorRef, AskTimeout, Reply, fail_request
from actors.supervisor import ChildSpec, Escalation, Restart, RestartIntensity
from actors.system import ActorSystem, open_actor_system

__all__ = [
    "Actor",
    "ActorContext",
    "ActorRef",
    "ActorStopped",
    "ActorSystem",
    "AskTimeout",
    "CancelToken",
    "ChildSpec",
    "Escalation",
    "Lagged",
    "Mailbox",
    "Overflow",
    "Reply",
    "Restart",
    "RestartIntensity",
    "Subscription",
    "ThreadBridge",
    "Topic",
    "WorkCancelled",
    "fail_request",
    "open_actor_system",
    "run_in_process",
    "run_in_thread",
]
