"""Shared by the fixtures that start a real server for tests (S3, PostgreSQL).

A server that cannot start skips its tests on a developer's machine, saying why, and fails
them under CI (`CI=true`): CI must never pass by skipping what it was meant to test.
"""

import os
import socket
from collections.abc import Callable
from typing import NoReturn

import pytest

__all__ = ["free_ports", "unavailable"]


def unavailable(reason: str) -> NoReturn:
    """Fail under CI, skip elsewhere, because the server a test needs is not there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing server fails the run)")
    pytest.skip(reason)


def free_ports(count: int, *, also_free: Callable[[int], int | None] = lambda _: None) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 now (and, for each, `also_free(port)` too).

    Another process may take one before the server binds it: callers retry on a failed start.
    """
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
            port = sock.getsockname()[1]
            partner = also_free(port)
            if partner is not None:
                try:
                    twin = socket.socket()
                    twin.bind(("127.0.0.1", partner))
                except (OSError, OverflowError):  # taken, or past the last port
                    twin.close()
                    continue
                held.append(twin)
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports
