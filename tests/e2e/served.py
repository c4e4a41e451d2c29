"""`audiograb serve` as a child process, as an operator runs it, for tests that need the whole
server: its logging, its uvicorn settings, its limits.

with served(tmp_path, {"AUDIOGRAB_API_KEYS": KEY}) as server:
    httpx.get(server.url("/api/health"))
server.lines  # everything it wrote (stdout and stderr), once it has stopped
"""

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ServedApi", "served"]

_LISTENING = re.compile(r"AudioGrab API on (http://[0-9.]+:[0-9]+)/api")
_START_TIMEOUT = 120.0


@dataclass
class ServedApi:
    """A running `audiograb serve`: its base URL and the lines it wrote so far
    (stdout and stderr together)."""

    base_url: str = ""
    lines: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path


@contextmanager
def served(data: Path, env: Mapping[str, str] = {}, *args: str) -> Iterator[ServedApi]:
    """Start `audiograb serve --port 0 ARGS` with `env`; stop it with SIGTERM afterwards."""
    argv = [str(Path(sys.executable).parent / "audiograb"), "serve", "--port", "0", *args]
    environ = {**os.environ, "AUDIOGRAB_DATA_DIR": str(data), "AUDIOGRAB_API_KEYS": "", **env}
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ
    )
    server = ServedApi()
    listening = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            server.lines.append(line.rstrip("\n"))
            found = _LISTENING.search(line)
            if found and not listening.is_set():
                server.base_url = found.group(1)
                listening.set()
        listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        listening.wait(_START_TIMEOUT)
        assert server.base_url, "serve did not start:\n" + "\n".join(server.lines)
        yield server
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            reader.join(10)
