"""A small counter actor and its messages, shared by the actor runtime tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import anyio

from actors import Actor, Reply


@dataclass
class Add:
    """Tell: add ``amount``."""

    amount: int


@dataclass
class Get:
    """Ask: the total and the number of the instance that answers."""

    reply: Reply[tuple[int, int]]


@dataclass
class Crash:
    """Tell or ask: raise ``RuntimeError(why)``."""

    why: str = "boom"
    reply: Reply[None] | None = None


@dataclass
class Block:
    """Tell or ask: set ``entered``, then wait for ``gate`` before answering."""

    entered: anyio.Event = field(default_factory=anyio.Event)
    gate: anyio.Event = field(default_factory=anyio.Event)
    reply: Reply[str] | None = None


@dataclass
class Stop:
    """Tell: stop this instance normally (``context.stop()``)."""


Msg = Add | Get | Crash | Block | Stop


class Counter(Actor[Msg]):
    """Sums ``Add`` messages; each instance gets the next number from ``serial``."""

    def __init__(self, serial: itertools.count[int], log: list[str] | None = None) -> None:
        self.instance = next(serial)
        self.total = 0
        self.log = log if log is not None else []

    async def on_start(self) -> None:
        self.log.append(f"start {self.context.name} #{self.instance}")

    async def receive(self, msg: Msg) -> None:
        if isinstance(msg, Add):
            self.total += msg.amount
        elif isinstance(msg, Get):
            msg.reply.set_result((self.total, self.instance))
        elif isinstance(msg, Crash):
            raise RuntimeError(msg.why)
        elif isinstance(msg, Block):
            msg.entered.set()
            await msg.gate.wait()
            if msg.reply is not None:
                msg.reply.set_result("released")
        else:
            self.context.stop()

    async def on_stop(self) -> None:
        self.log.append(f"stop {self.context.name} #{self.instance}")
