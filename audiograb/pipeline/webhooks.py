"""Webhooks: the outbox written with each state change, and the notifier actor that delivers it.

Events: `job.started` (a job left the queue for its first working state), `job.completed`,
`job.failed` (final: a failure that is retried is not one), `batch.completed` (the last job of
a batch ended), and `webhook.test`. Each goes to the default URL (setting `webhook_url`) and
to the job's or batch's own URL, each with its own endpoint secret.

Transactional outbox: `Outbox.on_append` is an append hook of the job store, so a message is
written in the very transaction that records the state change; it exists if and only if the
change does. The `Notifier` actor then delivers due messages, signed the Standard Webhooks way:

    webhook-id: msg_…                (the same on every try: receivers de-duplicate by it)
    webhook-timestamp: 1800000000    (Unix seconds of this try)
    webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">

keyed by the endpoint secret (`whsec_` + base64 of the key). A try that does not get a 2xx in
`webhook_timeout` seconds is retried with exponential backoff and jitter until the message is
`webhook_max_age` old, then given up (`failed`). Every try is logged. Each try claims its
message for a while first, so a crash mid-try retries it after the restart: delivery is at
least once, and `webhook-id` makes it exactly once for a receiver that de-duplicates. The
claim is conditional (the message must still be due) and carries a token that the outcome
must match, so among several processes on one data folder one tries a message at a time and
its outcome is recorded once.

The SSRF guard applies: a webhook URL is checked when it is registered, and every connection a
delivery makes is checked against the address policy on its worker thread.
"""

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import httpx
import msgspec

from actors import Actor, ActorStopped
from audiograb.config import Settings
from audiograb.domain import (
    AudiograbError,
    ErrorCode,
    Job,
    JobCompleted,
    JobEvent,
    JobFailed,
    JobState,
    JobStateChanged,
)
from audiograb.engines import netguard
from audiograb.pipeline.clock import Alarm, Clock
from audiograb.pipeline.policy import address_policy
from audiograb.pipeline.retries import backoff
from audiograb.store import (
    Attempt,
    Delivery,
    Endpoint,
    JobStore,
    Message,
    MessageStatus,
    StoredEvent,
    Transaction,
    WebhookStore,
)
from audiograb.store.webhooks import SECRET_PREFIX

__all__ = [
    "NOTIFIER_MAILBOX",
    "Notifier",
    "NotifierMessage",
    "Outbox",
    "Ring",
    "WebhookPayload",
    "Webhooks",
    "sign",
    "verify",
]

JOB_STARTED = "job.started"
JOB_COMPLETED = "job.completed"
JOB_FAILED = "job.failed"
BATCH_COMPLETED = "batch.completed"
WEBHOOK_TEST = "webhook.test"

#: Messages for the notifier; a ring that finds it full is not needed (one is pending).
NOTIFIER_MAILBOX = 64
#: Deliveries tried at once.
MAX_IN_FLIGHT = 8
#: Seconds a try holds its message beyond the timeout: after a crash mid-try, the message is
#: tried again this long after the timeout would have ended the try.
CLAIM_SLACK = 15.0
USER_AGENT = "AudioGrab-Webhooks/1"

_WORKING = (JobState.DOWNLOADING, JobState.CONVERTING, JobState.TRANSCRIBING)
_encoder = msgspec.json.Encoder()


class WebhookPayload(msgspec.Struct, frozen=True, kw_only=True):
    """The body of every webhook: Standard Webhooks' recommended shape."""

    type: str
    timestamp: str
    """When the event happened, ISO 8601 in UTC."""
    data: dict[str, Any]


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one try."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float | None = 300.0,
    now: float | None = None,
) -> bool:
    """Whether a received webhook is authentic (what a receiver runs; tests use it too).

    Any of the space-separated `v1,` signatures may match; with `tolerance`, the timestamp
    must be within that many seconds of `now`.
    """
    try:
        message_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        signatures = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if tolerance is not None and abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat().replace("+00:00", "Z")


def webhook_type(event: JobEvent) -> str | None:
    """The webhook event a job event announces, if any."""
    if isinstance(event, JobStateChanged):
        starts = event.previous is JobState.QUEUED and event.state in _WORKING
        return JOB_STARTED if starts else None
    if isinstance(event, JobCompleted):
        return JOB_COMPLETED
    if isinstance(event, JobFailed):
        return JOB_FAILED
    return None


def job_data(job: Job) -> dict[str, Any]:
    """What a job webhook says about the job: no server paths, links to the API instead."""
    data: dict[str, Any] = {
        "job_id": job.id,
        "state": job.state.value,
        "url": job.request.url,
        "platform": job.platform,
        "priority": job.request.priority,
        "batch_id": job.batch_id,
        "schedule_id": job.schedule_id,
        "attempts": job.attempts,
        "title": job.media.title if job.media else None,
        "duration": job.media.duration if job.media else None,
        "error": msgspec.to_builtins(job.error) if job.error else None,
        "job_url": f"/api/jobs/{job.id}",
    }
    if job.state is JobState.COMPLETED:
        data["file_url"] = f"/api/jobs/{job.id}/file"
    return data


class Outbox:
    """Writes webhook messages inside the store's transactions and rings the notifier."""

    def __init__(self, *, default_url: str | None, clock: Clock) -> None:
        self._default_url = default_url
        self._clock = clock
        self._ring: Callable[[], object] = lambda: None

    def connect(self, ring: Callable[[], object]) -> None:
        """Call `ring()` whenever messages were added (the notifier, once it runs)."""
        self._ring = ring

    async def on_append(self, tx: Transaction, stored: StoredEvent, job: Job) -> None:
        """The append hook: a message for each job event that is a webhook event."""
        kind = webhook_type(stored.event)
        if kind is not None:
            await self.add(
                tx,
                kind,
                job_data(job),
                url=job.request.webhook_url,
                job_id=job.id,
                batch_id=job.batch_id,
            )

    async def add(
        self,
        tx: Transaction,
        kind: str,
        data: dict[str, Any],
        *,
        url: str | None = None,
        default: bool = True,
        job_id: str | None = None,
        batch_id: str | None = None,
    ) -> list[str]:
        """Queue `kind` for `url` and (with `default`) the default URL; the new message ids."""
        now = self._clock.now()
        urls = dict.fromkeys(u for u in (self._default_url if default else None, url) if u)
        body = _encoder.encode(WebhookPayload(type=kind, timestamp=_iso(now), data=data))
        ids = []
        for target in urls:
            endpoint = await tx.endpoint(target, now)
            ids.append(
                await tx.add_message(
                    endpoint_id=endpoint.id,
                    type=kind,
                    body=body.decode(),
                    now=now,
                    job_id=job_id,
                    batch_id=batch_id,
                )
            )
        if ids:
            self._ring()
        return ids


class Ring(msgspec.Struct, frozen=True, kw_only=True):
    """New messages are in the outbox."""


class _Tried(msgspec.Struct, frozen=True, kw_only=True):
    message_id: str


NotifierMessage = Ring | _Tried

Sender = Callable[[str, bytes, dict[str, str], float, netguard.AddressPolicy], int]
"""Posts a body to a URL with headers, under a timeout and address policy; the status code."""


def post_webhook(
    url: str, body: bytes, headers: dict[str, str], timeout: float, policy: netguard.AddressPolicy
) -> int:
    """POST on a worker thread, every connection checked by the SSRF guard; no redirects.

    Straight through httpx's transport, not a client: the client logs every request's full URL,
    and a webhook URL's path or query often holds a token.
    """
    request = httpx.Request(
        "POST",
        url,
        content=body,
        headers=headers,
        extensions={"timeout": httpx.Timeout(timeout).as_dict()},
    )
    with netguard.guarded(policy):
        netguard.check_url(url, policy)
        with httpx.HTTPTransport() as transport:
            response = transport.handle_request(request)
            response.close()
            return response.status_code


class Notifier(Actor[NotifierMessage]):
    """Delivers due outbox messages, at most `MAX_IN_FLIGHT` at once, retrying with backoff."""

    def __init__(
        self,
        store: WebhookStore,
        settings: Settings,
        clock: Clock,
        *,
        send: Sender = post_webhook,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._policy = address_policy(settings)
        self._clock = clock
        self._send = send
        self._rng = rng or random.Random()
        self._in_flight: set[str] = set()
        self._limiter = anyio.CapacityLimiter(MAX_IN_FLIGHT)
        self._alarm = Alarm(clock, self._wake)

    async def on_start(self) -> None:
        self.context.start_soon(self._alarm.run)
        await self._pump()

    async def receive(self, msg: NotifierMessage) -> None:
        if isinstance(msg, _Tried):
            self._in_flight.discard(msg.message_id)
        await self._pump()

    def _wake(self) -> None:
        with contextlib.suppress(ActorStopped):
            self.context.ref.try_tell(Ring())

    async def _pump(self) -> None:
        """Start tries of the due messages there is room for; set the alarm for the next."""
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room > 0:
            now = self._clock.now()
            hold = now + self._settings.webhook_timeout + CLAIM_SLACK
            for delivery in await self._store.due(now, room + len(self._in_flight)):
                if delivery.id in self._in_flight or len(self._in_flight) >= MAX_IN_FLIGHT:
                    continue
                token = await self._store.claim(delivery.id, now, hold)
                if token is None:  # another process took it first
                    continue
                self._in_flight.add(delivery.id)
                self.context.start_soon(self._try, delivery, token)
        self._alarm.set(await self._store.next_attempt_at())

    async def _try(self, delivery: Delivery, token: str) -> None:
        """One try, shielded: a shutdown waits for it (at most the timeout) and its outcome is
        always recorded, so a clean stop never leaves a message claimed or sent twice."""
        try:
            with anyio.CancelScope(shield=True):
                attempt = await self._post(delivery)
                delivered = attempt.status_code is not None and 200 <= attempt.status_code < 300
                await self._store.record(
                    delivery.id,
                    token,
                    attempt,
                    delivered=delivered,
                    retry_at=None if delivered else self._retry_at(delivery),
                )
        finally:
            with contextlib.suppress(ActorStopped):
                self.context.ref.try_tell(_Tried(message_id=delivery.id))

    async def _post(self, delivery: Delivery) -> Attempt:
        body = delivery.body.encode()
        timestamp = int(self._clock.now())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": delivery.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(delivery.secret, delivery.id, timestamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            status = await anyio.to_thread.run_sync(
                self._send,
                delivery.url,
                body,
                headers,
                self._settings.webhook_timeout,
                self._policy,
                limiter=self._limiter,
            )
        except AudiograbError as refused:
            error = f"{refused.message} [{refused.code.value}]"
        except Exception as failure:  # any transport error: log it, try again later
            error = str(failure) or type(failure).__name__
        if status is not None and not 200 <= status < 300:
            error = f"HTTP {status}"
        return Attempt(
            at=self._clock.now(),
            status_code=status,
            error=error,
            duration=time.monotonic() - started,
        )

    def _retry_at(self, delivery: Delivery) -> float | None:
        settings = self._settings
        delay = backoff(
            delivery.attempts + 1,
            settings.webhook_retry_base_delay,
            settings.webhook_retry_max_delay,
            self._rng,
        )
        at = self._clock.now() + delay
        return at if at - delivery.created_at <= settings.webhook_max_age else None


class Webhooks:
    """Webhook endpoints, the delivery log and test messages (`Audiograb.webhooks`)."""

    def __init__(self, store: JobStore, outbox: Outbox, settings: Settings, clock: Clock) -> None:
        self._db = store
        self._store = WebhookStore(store)
        self._outbox = outbox
        self._settings = settings
        self._clock = clock

    async def set_up_default(self) -> Endpoint | None:
        """Make sure the default URL (if configured) has an endpoint with the configured secret."""
        url = self._settings.webhook_url
        if url is None:
            return None
        return await self._store.ensure_endpoint(
            url, self._clock.now(), self._settings.webhook_secret
        )

    async def register(self, url: str) -> Endpoint:
        """The endpoint for `url` (made with a fresh secret if new), after the SSRF check."""
        await anyio.to_thread.run_sync(netguard.check_url, url, address_policy(self._settings))
        return await self._store.ensure_endpoint(url, self._clock.now())

    async def endpoints(self) -> list[Endpoint]:
        """Every endpoint, with its secret."""
        return await self._store.endpoints()

    async def deliveries(
        self,
        *,
        job_id: str | None = None,
        batch_id: str | None = None,
        status: MessageStatus | None = None,
        message_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Message]:
        """The delivery log: messages, newest first, each with its tries."""
        return await self._store.messages(
            job_id=job_id,
            batch_id=batch_id,
            status=status,
            message_id=message_id,
            limit=limit,
            offset=offset,
        )

    async def send_test(self, url: str | None = None) -> list[Message]:
        """Queue a `webhook.test` message to `url`, or to the default URL; the messages."""
        if url is not None:
            await self.register(url)
        elif self._settings.webhook_url is None:
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST, "give a URL, or set webhook_url for a default one"
            )
        data = {"message": "a test from AudioGrab"}
        ids = await self._db.within(
            lambda tx: self._outbox.add(tx, WEBHOOK_TEST, data, url=url, default=url is None)
        )
        return [found for id_ in ids for found in await self.deliveries(message_id=id_)]
