"""Who may call the API, and how often: API keys and the per-client rate limit, as one guard.

Keys come from `Authorization: Bearer KEY` or `X-API-Key: KEY`; routes that browsers open with
`EventSource` or `WebSocket` (which cannot set headers) also take `?token=KEY`, and the live
WebSocket takes the `audiograb_key` cookie of a same-origin page. Keys are compared
in constant time with every configured key, so timing tells nothing about which one nearly
matched. Rate limiting runs first, keyed by the key presented (when valid) or the client
address, so guessing keys is rate limited too. With no keys configured the API is open; `serve`
then refuses to bind anywhere but loopback unless told `--insecure`.

Route handlers opt out with `opt={"public": True}` (health) and opt in to the query token with
`opt={"query_token": True}`.

A key's holder has an identity (`name:key` entries of `api_keys` name it; a plain key is known
by its fingerprint): the guard leaves it in the connection's state, where `identity_of` reads
it (annotations take their author from it). Without keys configured everyone is `anonymous`.
"""

import contextlib
import hmac
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import SecurityScheme
from litestar.types import Guard

from audiograb.api.errors import ApiCode, ApiError
from audiograb.api.ratelimit import RateLimiter, retry_after

__all__ = [
    "ANONYMOUS",
    "KEY_COOKIE",
    "KEY_SCHEMES",
    "PUBLIC",
    "QUERY_TOKEN",
    "Doorkeeper",
    "access_guard",
    "identity_of",
    "matching_key",
    "presented_key",
]

PUBLIC = "public"
"""Handler `opt` flag: no key and no rate limit (liveness probes)."""
QUERY_TOKEN = "query_token"
"""Handler `opt` flag: also accept the key as `?token=` (EventSource, WebSocket)."""

ANONYMOUS = "anonymous"
"""The identity of every caller when the API has no keys."""

KEY_SCHEMES: Mapping[str, SecurityScheme] = {
    "ApiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
    "Bearer": SecurityScheme(type="http", scheme="bearer", description="An API key"),
}
"""The two ways of presenting a key, as OpenAPI security schemes (either will do)."""

KEY_COOKIE = "audiograb_key"
"""The cookie a same-origin page may hold the key in (WebSocket handshakes only)."""

_BEARER = "bearer "
_IDENTITY = "api_identity"


def presented_key(
    connection: ASGIConnection[Any, Any, Any, Any], *, query: bool, cookie: bool = False
) -> str | None:
    """The key the client sent, from the headers (or, if `query`, the `token` parameter; if
    `cookie`, the `audiograb_key` cookie of a request from a page of this same origin)."""
    authorization = connection.headers.get("authorization", "")
    if authorization[: len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER) :].strip() or None
    header = connection.headers.get("x-api-key", "").strip()
    if header:
        return header
    if query:
        token = connection.query_params.get("token")
        if isinstance(token, str) and token.strip():
            return token.strip()
    if cookie and _same_origin(connection):
        return connection.cookies.get(KEY_COOKIE, "").strip() or None
    return None


def _same_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """No `Origin` (not a browser), or one naming this host: another site's page that opens a
    socket here must not ride on the cookie (cross-site WebSocket hijacking)."""
    origin = connection.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == connection.headers.get("host")


def matching_key(candidate: str, keys: Sequence[bytes]) -> int | None:
    """Index of the configured key equal to `candidate`, comparing with all in constant time."""
    given = candidate.encode()
    found: int | None = None
    for index, key in enumerate(keys):
        if hmac.compare_digest(given, key):
            found = index
    return found


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Who holds the key this request came with (set by the guard)."""
    return str(connection.state.get(_IDENTITY, ANONYMOUS))


class Doorkeeper:
    """The API keys and the per-client rate limit, for the guard and for routes that must
    check a key themselves (the live WebSocket takes it in its first message).

    `api_keys` are `(identity, key)` pairs (`Settings.named_api_keys`).
    """

    def __init__(self, api_keys: Sequence[tuple[str, str]], limiter: RateLimiter) -> None:
        self._keys = tuple(key.encode() for _, key in api_keys)
        self._identities = tuple(identity for identity, _ in api_keys)
        self._limiter = limiter
        self._waiting: Counter[str] = Counter()

    def admit(self, connection: ASGIConnection[Any, Any, Any, Any], presented: str | None) -> str:
        """The identity of a client that `presented` this key (None: no key).

        Raises ApiError `rate_limited` (with Retry-After) when the client, known by its valid
        key or else by its address, is over the limit, and `unauthorized` when keys are
        configured and `presented` is none of them.
        """
        keys = self._keys
        index = matching_key(presented, keys) if presented is not None and keys else None
        self._pace(f"key:{index}" if index is not None else f"addr:{_address(connection)}")
        if keys and index is None:
            message = "a valid API key is required" if presented else "an API key is required"
            raise ApiError(
                ApiCode.UNAUTHORIZED,
                f"{message} (Authorization: Bearer KEY or X-API-Key: KEY)",
                headers={"WWW-Authenticate": 'Bearer realm="audiograb"'},
            )
        return self._identities[index] if index is not None else ANONYMOUS

    def wait_for_key(
        self, connection: ASGIConnection[Any, Any, Any, Any], *, most: int
    ) -> contextlib.AbstractContextManager[None]:
        """Let a socket that will show its key only later wait for it, holding one of `most`
        places of its client address while the returned context lasts.

        The socket counts against the address's rate limit now, so opening sockets without a
        key is paced like guessing keys. Raises ApiError `rate_limited` when over the rate
        limit or when the address holds `most` places already.
        """
        address = f"addr:{_address(connection)}"
        self._pace(address)
        if self._waiting[address] >= most:
            raise ApiError(
                ApiCode.RATE_LIMITED,
                f"{most} sockets from this address are waiting for their key already",
                headers={"Retry-After": "1"},
            )
        self._waiting[address] += 1
        return self._place(address)

    @contextlib.contextmanager
    def _place(self, address: str) -> Iterator[None]:
        try:
            yield
        finally:
            self._waiting[address] -= 1
            if self._waiting[address] <= 0:
                del self._waiting[address]

    def _pace(self, client: str) -> None:
        """Take one request from `client`'s budget, or raise ApiError `rate_limited`."""
        wait = self._limiter.acquire(client)
        if wait is not None:
            raise ApiError(
                ApiCode.RATE_LIMITED,
                "too many requests; slow down",
                headers={"Retry-After": retry_after(wait)},
            )


def access_guard(doorkeeper: Doorkeeper) -> Guard:
    """A guard that rate limits every non-public route and, with keys configured, needs one."""

    def guard(
        connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
    ) -> None:
        if route_handler.opt.get(PUBLIC):
            return
        presented = presented_key(connection, query=bool(route_handler.opt.get(QUERY_TOKEN)))
        connection.state[_IDENTITY] = doorkeeper.admit(connection, presented)

    return guard


def _address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    client = connection.client
    return client.host if client is not None else "unknown"
