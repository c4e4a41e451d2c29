"""Running the API under uvicorn inside our own event loop (never `uvicorn.run`).

We bind the listening socket ourselves, so port 0 works and the port is known before the server
starts (connections that arrive early wait in the listen backlog). `ApiServer` is uvicorn's
server with two changes: it leaves signal handling to us (uvicorn's own re-raises the signal
after shutdown, which would interrupt the pipeline's clean stop), and it ends every open event
stream as it starts shutting down, since uvicorn waits for open connections to finish first.
"""

import contextlib
import ipaddress
import logging
import signal
import socket
from collections.abc import Iterator
from contextlib import nullcontext

import anyio
import uvicorn
from litestar import Litestar

from audiograb.api import create_app, end_event_streams
from audiograb.config import Settings
from audiograb.pipeline import open_audiograb
from audiograb.server.bot_beside import bot_beside
from audiograb.server.head import HeadAsGet
from audiograb.server.limits import HeaderLimits
from audiograb.server.memory import trim_heap_periodically
from audiograb.server.probes import engine_probes
from audiograb.web import web_routes

__all__ = [
    "ApiServer",
    "api_server",
    "bind_socket",
    "exposure_problem",
    "is_loopback",
    "run_until_signalled",
    "serve",
]

_log = logging.getLogger("uvicorn.error")

#: Seconds uvicorn waits for open requests to finish on shutdown before cancelling them.
SHUTDOWN_GRACE = 10.0
_BACKLOG = 2048
#: A request head still incomplete at this many times `max_header_bytes` is cut off (400).
_INCOMPLETE_HEAD_FACTOR = 4


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (`localhost`, 127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(settings: Settings, *, insecure: bool) -> str | None:
    """Why serving with these settings is refused (an open API off loopback), or None."""
    if settings.api_keys or insecure or is_loopback(settings.host):
        return None
    return (
        f"refusing to serve on {settings.host} without an API key: anyone who can reach it "
        "could use it. Set AUDIOGRAB_API_KEYS (comma-separated), bind to 127.0.0.1, or pass "
        "--insecure to expose an open API on purpose"
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (port 0 picks a free one)."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it, uvicorn's separate writes of headers and
        # body meet the client's delayed ACK and every response waits ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((address, port))
        sock.listen(_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class ApiServer(uvicorn.Server):
    """uvicorn's server for one app: our signal handling, event streams ended on shutdown."""

    def __init__(self, config: uvicorn.Config, app: Litestar) -> None:
        super().__init__(config)
        self._app = app

    @property
    def app(self) -> Litestar:
        """The Litestar app it serves (`config.app` is that app inside our ASGI wrappers)."""
        return self._app

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave signals alone: `run_until_signalled` handles them inside the event loop."""
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """End the event streams first, so that their connections can close."""
        end_event_streams(self._app)
        await super().shutdown(sockets)


def api_server(app: Litestar, settings: Settings, *, log_level: str = "info") -> ApiServer:
    """A server for `app`; run it with `server.serve([sock])`, stop it with `should_exit`.

    `settings` give its limits on request heads and the proxies whose `X-Forwarded-For` it
    believes (none by default: uvicorn's own default trusts any process on loopback, which
    could then choose its rate-limit identity).
    """
    limited = HeaderLimits(
        HeadAsGet(app), max_count=settings.max_header_count, max_bytes=settings.max_header_bytes
    )
    proxies = [str(ipaddress.ip_network(p, strict=False)) for p in settings.trusted_proxies]
    config = uvicorn.Config(
        limited,
        lifespan="on",
        log_level=log_level,
        # h11, not httptools: only h11 bounds a request head that never ends.
        http="h11",
        h11_max_incomplete_event_size=_INCOMPLETE_HEAD_FACTOR * settings.max_header_bytes,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
        # None: uvicorn installs no handlers of its own, so its lines (access log included)
        # reach the root logger's, which `configure_logging` set: redacted, JSON when asked.
        log_config=None,
        timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
    )
    return ApiServer(config, app)


async def run_until_signalled(server: ApiServer, sock: socket.socket) -> None:
    """Serve until SIGINT or SIGTERM (a second one stops without waiting for requests),
    handing freed heap memory back to the system now and then meanwhile."""
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_exit_on_signal, server)
        tasks.start_soon(trim_heap_periodically)
        await server.serve(sockets=[sock])
        tasks.cancel_scope.cancel()


async def _exit_on_signal(server: ApiServer) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            server.force_exit = server.should_exit
            server.should_exit = True


async def serve(settings: Settings, *, with_bot: bool = False) -> None:
    """`audiograb serve`: the pipeline and the API (and the bot) in this loop, until a signal."""
    sock = bind_socket(settings.host, settings.port)
    with sock:
        async with open_audiograb(settings, serve=True, warm_up=True) as ag:
            app = create_app(
                ag, settings=settings, probes=engine_probes(settings), extra_routes=web_routes
            )
            server = api_server(app, settings)
            host, port = sock.getsockname()[:2]
            _log.info("AudioGrab API on http://%s:%d/api (docs: /api/schema)", host, port)
            async with bot_beside(app, ag, settings) if with_bot else nullcontext():
                await run_until_signalled(server, sock)
