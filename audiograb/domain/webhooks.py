"""Webhooks: endpoints, outbox messages, their delivery attempts."""

from enum import StrEnum

import msgspec

__all__ = ["Attempt", "Delivery", "Endpoint", "Message", "MessageStatus"]


class MessageStatus(StrEnum):
    """Where a message stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Given up: no try succeeded within the maximum age."""


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A URL webhooks go to, and the secret its messages are signed with."""

    id: str
    url: str
    secret: str
    created_at: float


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One try to deliver a message."""

    at: float
    status_code: int | None
    """The HTTP status the endpoint answered; None when it could not be reached."""
    error: str | None
    duration: float


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A webhook message and its delivery log."""

    id: str
    """Also its `webhook-id` header: the same on every try."""
    endpoint_id: str
    url: str
    type: str
    body: str
    job_id: str | None
    batch_id: str | None
    created_at: float
    status: MessageStatus
    attempts: int
    next_attempt_at: float | None
    delivered_at: float | None
    log: list[Attempt] = msgspec.field(default_factory=list)


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """What the notifier needs to try one message."""

    id: str
    url: str
    secret: str
    body: str
    created_at: float
    attempts: int
