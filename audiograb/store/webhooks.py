"""The webhook outbox: endpoints with their signing secrets, messages, and the delivery log.

Messages are written by `add_message` inside the transaction of the state change they report
(an append hook), so an event is announced if and only if it happened. The notifier then
claims due messages, tries them, and records every attempt here.
"""

import base64
import secrets
import uuid

import msgspec

from audiograb.domain.webhooks import Attempt, Delivery, Endpoint, Message, MessageStatus
from audiograb.store.connection import Connection, Row
from audiograb.store.store import JobStore

__all__ = [
    "Attempt",
    "Delivery",
    "Endpoint",
    "Message",
    "MessageStatus",
    "WebhookStore",
    "add_message",
    "endpoint_in",
    "new_secret",
]

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh endpoint secret: `whsec_` and 24 random bytes in base64 (Standard Webhooks)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


async def endpoint_in(conn: Connection, url: str, now: float) -> Endpoint:
    """The endpoint for `url`, made (with a fresh secret) if it is new; on `conn`."""
    await conn.execute(
        "INSERT INTO webhook_endpoints (id, url, secret, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (url) DO NOTHING",
        ("ep_" + uuid.uuid4().hex, url, new_secret(), now),
    )
    async with conn.execute(
        "SELECT id, url, secret, created_at FROM webhook_endpoints WHERE url = ?", (url,)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _endpoint(row)


async def add_message(
    conn: Connection,
    *,
    endpoint_id: str,
    type: str,
    body: str,
    now: float,
    job_id: str | None = None,
    batch_id: str | None = None,
) -> str:
    """Queue a message for delivery now; returns its id."""
    message_id = "msg_" + uuid.uuid4().hex
    await conn.execute(
        "INSERT INTO webhook_messages (id, endpoint_id, type, body, job_id, batch_id, "
        "created_at, status, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
        (message_id, endpoint_id, type, body, job_id, batch_id, now, now),
    )
    return message_id


def _endpoint(row: Row) -> Endpoint:
    return msgspec.convert(dict(row), Endpoint)


class WebhookStore:
    """Endpoints, messages and attempts in the job store's database."""

    def __init__(self, db: JobStore) -> None:
        self._db = db

    async def ensure_endpoint(self, url: str, now: float, secret: str | None = None) -> Endpoint:
        """The endpoint for `url`, made if new; `secret`, when given, replaces the stored one."""

        async def body(conn: Connection) -> Endpoint:
            endpoint = await endpoint_in(conn, url, now)
            if secret is None or secret == endpoint.secret:
                return endpoint
            await conn.execute(
                "UPDATE webhook_endpoints SET secret = ? WHERE id = ?", (secret, endpoint.id)
            )
            return msgspec.structs.replace(endpoint, secret=secret)

        return await self._db.transaction(body)

    async def endpoints(self) -> list[Endpoint]:
        """Every endpoint, oldest first."""
        rows = await self._db.read(
            "SELECT id, url, secret, created_at FROM webhook_endpoints ORDER BY created_at, rowid"
        )
        return [_endpoint(row) for row in rows]

    async def due(self, now: float, limit: int) -> list[Delivery]:
        """Pending messages whose next try is due, oldest first."""
        rows = await self._db.read(
            "SELECT m.id, e.url, e.secret, m.body, m.created_at, m.attempts "
            "FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id "
            "WHERE m.status = 'pending' AND m.next_attempt_at <= ? "
            "ORDER BY m.next_attempt_at, m.rowid LIMIT ?",
            (now, limit),
        )
        return [msgspec.convert(dict(row), Delivery) for row in rows]

    async def next_attempt_at(self) -> float | None:
        """When the next pending message is due."""
        rows = await self._db.read(
            "SELECT MIN(next_attempt_at) FROM webhook_messages WHERE status = 'pending'"
        )
        return float(rows[0][0]) if rows and rows[0][0] is not None else None

    async def claim(self, message_id: str, now: float, until: float) -> str | None:
        """Hold a message that is due at `now` off until `until` while one try runs (a crash
        retries it then). Returns the claim's token, or None when the message is not due any
        more (another process claimed or delivered it)."""
        token = uuid.uuid4().hex
        changed = await self._db.execute(
            "UPDATE webhook_messages SET next_attempt_at = ?, claimed_by = ? "
            "WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?",
            (until, token, message_id, now),
        )
        return token if changed else None

    async def record(
        self,
        message_id: str,
        token: str,
        attempt: Attempt,
        *,
        delivered: bool,
        retry_at: float | None,
    ) -> None:
        """Log one try and its outcome: delivered, to be tried at `retry_at`, or given up.

        Only under the claim `token`: a try whose claim lapsed and was taken over records
        nothing, so a message is acknowledged once."""
        status = (
            MessageStatus.DELIVERED
            if delivered
            else (MessageStatus.PENDING if retry_at is not None else MessageStatus.FAILED)
        )

        async def body(conn: Connection) -> None:
            cursor = await conn.execute(
                "UPDATE webhook_messages SET status = ?, attempts = attempts + 1, "
                "next_attempt_at = ?, delivered_at = ?, claimed_by = NULL "
                "WHERE id = ? AND claimed_by = ?",
                (
                    status.value,
                    retry_at,
                    attempt.at if delivered else None,
                    message_id,
                    token,
                ),
            )
            if cursor.rowcount == 0:
                return
            await conn.execute(
                "INSERT INTO webhook_attempts (message_id, at, status_code, error, duration) "
                "VALUES (?, ?, ?, ?, ?)",
                (message_id, attempt.at, attempt.status_code, attempt.error, attempt.duration),
            )

        await self._db.transaction(body)

    async def messages(
        self,
        *,
        job_id: str | None = None,
        batch_id: str | None = None,
        status: MessageStatus | None = None,
        message_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Message]:
        """The delivery log: messages, newest first, each with its attempts."""
        filters = {
            "m.job_id": job_id,
            "m.batch_id": batch_id,
            "m.status": status.value if status else None,
            "m.id": message_id,
        }
        chosen = {column: value for column, value in filters.items() if value is not None}
        where = " AND ".join(f"{column} = ?" for column in chosen) or "1 = 1"
        rows = await self._db.read(
            "SELECT m.id, m.endpoint_id, e.url, m.type, m.body, m.job_id, m.batch_id, "
            "m.created_at, m.status, m.attempts, m.next_attempt_at, m.delivered_at "
            "FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id "
            f"WHERE {where} ORDER BY m.created_at DESC, m.rowid DESC LIMIT ? OFFSET ?",
            (*chosen.values(), limit, offset),
        )
        found = []
        for row in rows:
            log = await self._db.read(
                "SELECT at, status_code, error, duration FROM webhook_attempts "
                "WHERE message_id = ? ORDER BY id",
                (row["id"],),
            )
            attempts = [dict(attempt) for attempt in log]
            found.append(msgspec.convert({**dict(row), "log": attempts}, Message))
        return found
