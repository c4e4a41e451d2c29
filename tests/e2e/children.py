"""A child process killed hard: how the crash-and-resume tests simulate a dying server."""

import contextlib
import os
import signal
import sys
from pathlib import Path

import anyio
from anyio.streams.buffered import BufferedByteReceiveStream


async def first_line_then_kill(script: str, *args: str, within: float) -> str:
    """Run `python -c script *args`, wait for its first line of output, then SIGKILL it.

    A child that kills itself after printing is fine too. Returns the line, stripped; fails
    unless the child ended by SIGKILL, so no cleanup of any kind ran in it.
    """
    argv = [sys.executable, "-c", script, *args]
    async with await anyio.open_process(
        argv, env={**os.environ, "PYTHONPATH": str(Path.cwd())}, stderr=None
    ) as child:
        assert child.stdout is not None
        with anyio.fail_after(within):
            line = await BufferedByteReceiveStream(child.stdout).receive_until(b"\n", 4096)
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    return line.decode().strip()
