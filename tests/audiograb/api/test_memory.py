"""The server's heap trimmer really hands freed memory back to the system (glibc)."""

from pathlib import Path

from audiograb.server.memory import heap_trimmer

MB = 1024 * 1024


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_trimming_returns_freed_heap_pages() -> None:
    trim = heap_trimmer()
    assert trim is not None  # glibc, on every machine this project runs on
    blocks = [bytearray(4096) for _ in range(16_384)]  # 64 MB from malloc, below its mmap size
    keep = bytearray(4096)  # above them: their pages cannot simply be cut off the heap's top
    blocks.clear()
    before = rss()
    trim()
    assert rss() < before - 32 * MB
    assert len(keep) == 4096
