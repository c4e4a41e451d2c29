"""The token bucket: bursts up to the limit, refills over a minute, bounded memory."""

from audiograb.api.ratelimit import RateLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refusal_then_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    assert all(limiter.acquire("a") is None for _ in range(60))
    wait = limiter.acquire("a")
    assert wait is not None
    assert 0.9 < wait <= 1.0
    assert limiter.acquire("b") is None  # clients have their own buckets
    clock.now += 1.0
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None


def test_zero_disables() -> None:
    limiter = RateLimiter(0)
    assert not limiter.enabled
    assert all(limiter.acquire("a") is None for _ in range(1000))


def test_table_is_bounded() -> None:
    limiter = RateLimiter(10, max_clients=3)
    for client in "abcdef":
        limiter.acquire(client)
    assert len(limiter._buckets) == 3


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after(0.01) == "1"
    assert retry_after(1.2) == "2"
