"""Hand freed heap memory back to the system, so a server's memory follows its load.

A long-running `serve` allocates from many threads (yt-dlp, FFmpeg readers, SQLite), and
glibc's allocator keeps what those threads free in per-thread arenas for later, so the
process's RSS climbs for the first rounds of work and then stays at its high-water mark even
when idle. `bench/soak_bench.py` measured it: 10 rounds of 100 jobs with 200 SSE streams,
Python's own heap flat near 16.5 MB (no leak), RSS levelling off near 500 MB, and a
`malloc_trim(0)` bringing it back to 310-340 MB each time. So every `TRIM_INTERVAL` seconds
the server asks glibc to release its free pages. Elsewhere (musl, macOS) this does nothing.
"""

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

import anyio

__all__ = ["TRIM_INTERVAL", "heap_trimmer", "trim_heap_periodically"]

_log = logging.getLogger(__name__)

#: Seconds between two trims; one takes milliseconds, in a worker thread.
TRIM_INTERVAL = 60.0


def heap_trimmer() -> Callable[[], int] | None:
    """glibc's `malloc_trim(0)` as a call, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: int(trim(0))


async def trim_heap_periodically(interval: float = TRIM_INTERVAL) -> None:
    """Trim the heap every `interval` seconds until cancelled (returns at once without glibc)."""
    trim = heap_trimmer()
    if trim is None:
        _log.debug("no malloc_trim in this C library: freed memory stays with the allocator")
        return
    while True:
        await anyio.sleep(interval)
        await anyio.to_thread.run_sync(trim)
