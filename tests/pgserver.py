"""A real PostgreSQL server for tests: Debian's `postgresql-15` (or any version found), run in a
temp folder on a free port of 127.0.0.1, with password (SCRAM) authentication.

PostgreSQL refuses to run as root: when the tests run as root (CI), `initdb` and `postgres` run
as the `postgres` user, in a folder that user owns. Durability is off (`fsync=off`), as it
never matters for a server that lives as long as a test session. Each test that wants a clean
slate asks for a database of its own:

    with postgres_server() as pg:
        url = pg.create_database()    # postgresql://audiograb:…@127.0.0.1:PORT/test_1
"""

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import psycopg
from psycopg import sql

from tests.servers import free_ports, unavailable

__all__ = ["PgServer", "find_pg_bin", "postgres_server"]

#: Where Debian and Ubuntu install each PostgreSQL version's programs.
DEBIAN_PREFIX = Path("/usr/lib/postgresql")
#: Seconds `postgres` gets to accept connections.
START_DEADLINE = 60.0
USER = "audiograb"


@dataclass
class PgServer:
    """A running server: its superuser's URL, and a maker of fresh databases."""

    host: str
    port: int
    password: str
    _made: Iterator[int] = field(default_factory=lambda: count(1), repr=False)

    def url(self, database: str = "postgres") -> str:
        """A `postgresql://` URL of `database` as the superuser (`AUDIOGRAB_DATABASE_URL`)."""
        return f"postgresql://{USER}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database of its own; returns its URL."""
        name = f"test_{next(self._made)}_{secrets.token_hex(3)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def find_pg_bin() -> Path | None:
    """The folder of `initdb` and `postgres`: `AUDIOGRAB_TEST_PG_BIN`, else the newest
    Debian-installed version, else `pg_config --bindir`."""
    if configured := os.environ.get("AUDIOGRAB_TEST_PG_BIN"):
        return Path(configured)
    versions = sorted(
        DEBIAN_PREFIX.glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(found.stdout.strip())
        if (bindir / "initdb").is_file():
            return bindir
    return None


def _run_as() -> str | None:
    """The user to run PostgreSQL as: `postgres` when we are root (it refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("running as root and there is no `postgres` user to run PostgreSQL as")
    return "postgres"


@contextlib.contextmanager
def postgres_server() -> Iterator[PgServer]:
    """Start PostgreSQL in a temp folder; stop it and remove the folder on exit."""
    bindir = find_pg_bin()
    if bindir is None or not (bindir / "initdb").is_file():
        unavailable(
            f"no PostgreSQL found ({bindir or 'nothing'} has no initdb; "
            "install it: apt-get install postgresql-15)"
        )
    user = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="audiograb-pg-"))
    try:
        password = secrets.token_urlsafe(18)
        (folder / "pw").write_text(password)
        if user is not None:  # the folder must be the server's own
            entry = pwd.getpwnam(user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            os.chown(folder / "pw", entry.pw_uid, entry.pw_gid)
        initdb = [
            str(bindir / "initdb"),
            "--pgdata", str(folder / "data"),
            "--username", USER,
            "--pwfile", str(folder / "pw"),
            "--auth", "scram-sha-256",
            "--encoding", "UTF8",
            "--no-sync",
        ]  # fmt: skip
        done = subprocess.run(initdb, user=user, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            unavailable(f"initdb failed: {(done.stderr or done.stdout).strip()[-1500:]}")
        yield from _serve(bindir, folder, user, password)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(bindir: Path, folder: Path, user: str | None, password: str) -> Iterator[PgServer]:
    """Start `postgres` on a free port (choosing again if another process took it)."""
    log = folder / "postgres.log"
    for _ in range(3):
        [port] = free_ports(1)
        argv = [
            str(bindir / "postgres"),
            "-D", str(folder / "data"),
            "-h", "127.0.0.1",
            "-p", str(port),
            "-k", str(folder),  # its Unix socket stays in the temp folder too
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=200",
        ]  # fmt: skip
        with log.open("ab") as out:
            process = subprocess.Popen(argv, user=user, stdout=out, stderr=subprocess.STDOUT)
        server = PgServer(host="127.0.0.1", port=port, password=password)
        try:
            if _wait_until_serving(server, process):
                yield server
                return
        finally:
            _stop(process)
    unavailable(f"postgres did not start; its log ends:\n{log.read_text(errors='replace')[-2000:]}")


def _wait_until_serving(server: PgServer, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT: disconnect clients, no waiting); kill if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
