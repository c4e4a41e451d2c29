"""A token bucket per client: `rate_limit_per_minute` requests a minute, bursts up to that many.

Buckets live in memory on the app (not in a module), keyed by whoever the access guard says the
client is (an API key's index or the client address). Idle buckets refill to full and are then
indistinguishable from a new one, so they are dropped once the table grows past `max_clients`:
memory stays bounded whatever the number of addresses that knock.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter", "retry_after"]


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Decide whether one more request from a client fits its budget."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """A limit of 0 (or less) turns rate limiting off."""
        return self._capacity > 0

    def acquire(self, client: str) -> float | None:
        """Take a token for `client`: None when allowed, else seconds until one is free."""
        if not self.enabled:
            return None
        now = self._clock()
        bucket = self._buckets.pop(client, None)
        if bucket is None:
            bucket = _Bucket(tokens=self._capacity, stamp=now)
        else:
            elapsed = max(0.0, now - bucket.stamp)
            bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._rate)
            bucket.stamp = now
        self._buckets[client] = bucket  # most recently used last
        self._evict()
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self._rate

    def _evict(self) -> None:
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)


def retry_after(wait: float) -> str:
    """`wait` seconds as a `Retry-After` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
