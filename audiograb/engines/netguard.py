"""The SSRF guard: downloads may reach only public addresses unless a policy says otherwise.

A submitted URL is only the first of many connections a download makes: redirects, HLS
segments and keys, DASH fragments and the pages an extractor fetches all go to hosts the
remote side chooses. Checking the URL alone also leaves a DNS-rebinding gap (the name may
resolve to a public address when checked and to a private one when connected). So the guard
sits where the address is final, on the socket itself:

* `guarded(policy)` is a context manager that puts `policy` in force for the current thread.
* A process-wide audit hook (`sys.addaudithook`, installed once, on first use) sees every
  `socket.connect` of an INET socket and, on a thread with a policy in force, checks the IP
  literal actually being connected to; a host name that was not resolved first is refused,
  because the address it would reach cannot be known. Threads without a policy are untouched.

The yt-dlp engine puts the policy in force around each of its HTTP requests (on whatever thread
yt-dlp makes them), so the guard follows yt-dlp into its own worker threads. Downloads yt-dlp
hands to an external program (FFmpeg) make connections this process cannot see; the engine
refuses those while a restrictive policy is in force.

A proxy hides the final address: with one configured, only the proxy's own address is checked.
"""

import contextlib
import ipaddress
import socket
import sys
import threading
import urllib.parse
from collections.abc import Iterator

import msgspec

from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["AddressPolicy", "IPAddress", "check_url", "guarded"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEMES = frozenset({"http", "https"})
# Well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d reaches IPv4 a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Which addresses a download may connect to.

    By default only globally routable unicast addresses. `allow_private` lifts the guard (home
    use, tests against a loopback server). `allow` names single addresses or networks
    (`"127.0.0.1"`, `"10.0.0.0/8"`) allowed in addition, for a narrower exception.
    """

    allow_private: bool = False
    allow: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for network in self.allow:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as error:
                raise ValueError(f"not an IP address or network: {network!r}") from error

    @property
    def restrictive(self) -> bool:
        """Whether this policy refuses anything at all."""
        return not self.allow_private

    def check_ip(self, ip: IPAddress) -> None:
        """Raise `forbidden_address` unless connecting to `ip` is allowed."""
        if self.allow_private or self._explicitly_allowed(ip):
            return
        for candidate in _embedded_forms(ip):
            if _special(candidate):
                raise AudiograbError(
                    ErrorCode.FORBIDDEN_ADDRESS,
                    f"refusing to connect to a non-public address ({ip}); set"
                    " AUDIOGRAB_ALLOW_PRIVATE_NETWORKS=true where that is wanted",
                )

    def _explicitly_allowed(self, ip: IPAddress) -> bool:
        return any(ip in ipaddress.ip_network(network, strict=False) for network in self.allow)


def _embedded_forms(ip: IPAddress) -> list[IPAddress]:
    """The addresses to judge `ip` by: the IPv4 address it stands for, or it and its tunnels.

    An IPv4-mapped or NAT64 address reaches exactly its IPv4 address; 6to4 and Teredo
    addresses reach their own relay as well as the IPv4 address they carry.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return [ip.ipv4_mapped]
        if ip in _NAT64:
            return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
        if ip.sixtofour is not None:
            return [ip, ip.sixtofour]
        if ip.teredo is not None:
            return [ip, *ip.teredo]
    return [ip]


def _special(ip: IPAddress) -> bool:
    """Whether `ip` is anything but a globally routable unicast address.

    Private, loopback, link-local, shared (CGNAT), unspecified and documentation ranges are all
    non-global; multicast and reserved ranges may be marked global, so they are named too.
    """
    return not ip.is_global or ip.is_multicast or ip.is_reserved


#: getaddrinfo's answers that mean the name does not exist (not that DNS is unreachable).
_NO_SUCH_HOST = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


def check_url(url: str, policy: AddressPolicy) -> None:
    """Check a submitted URL before any work starts: a cheap, early, readable refusal.

    Raises `invalid_url` unless it is http(s) with a host and no credentials (a webhook URL's
    password would be shown wherever the URL is), `not_found` if the host name does not exist,
    `network` if it cannot be resolved now, and `forbidden_address` if any address it resolves
    to is refused. This does not replace the connection-time check of `guarded`, which also
    covers redirects and fragments.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise AudiograbError(ErrorCode.INVALID_URL, "not an http(s) URL with a host")
    if "@" in parts.netloc:
        raise AudiograbError(
            ErrorCode.INVALID_URL, "URLs with credentials (user@host) are not accepted"
        )
    if not policy.restrictive:
        return
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = socket.getaddrinfo(parts.hostname, port, 0, socket.SOCK_STREAM)
    except ValueError as error:  # a malformed port
        raise AudiograbError(ErrorCode.INVALID_URL, "not a valid URL (its port)") from error
    except OSError as error:
        if isinstance(error, socket.gaierror) and error.errno in _NO_SUCH_HOST:  # permanent
            raise AudiograbError(
                ErrorCode.NOT_FOUND, f"no such host: {parts.hostname!r} does not resolve"
            ) from error
        raise AudiograbError(
            ErrorCode.NETWORK, f"cannot resolve {parts.hostname!r}: {error}"
        ) from error
    for *_, sockaddr in addresses:
        policy.check_ip(ipaddress.ip_address(_strip_scope(str(sockaddr[0]))))


def _strip_scope(host: str) -> str:
    """Drop an IPv6 zone (`fe80::1%eth0`), which `ipaddress` does not take in Python 3.11."""
    return host.split("%", 1)[0]


class _ThreadPolicies(threading.local):
    """The policies in force on one thread, innermost last."""

    def __init__(self) -> None:
        self.stack: list[AddressPolicy] = []


_in_force = _ThreadPolicies()
_install_lock = threading.Lock()
_installed = False


@contextlib.contextmanager
def guarded(policy: AddressPolicy) -> Iterator[None]:
    """Check every socket connection this thread makes inside the block against `policy`."""
    _install_hook()
    _in_force.stack.append(policy)
    try:
        yield
    finally:
        _in_force.stack.pop()


def _install_hook() -> None:
    # An audit hook cannot be removed; it is installed once per process and is inert on any
    # thread without a policy in force. This is the one piece of process-wide state here.
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "socket.connect" or not _in_force.stack:
        return
    sock, address = args
    if not isinstance(sock, socket.socket) or sock.family not in (
        socket.AF_INET,
        socket.AF_INET6,
    ):
        return
    host = str(address[0]) if isinstance(address, tuple) and address else ""
    try:
        ip = ipaddress.ip_address(_strip_scope(host))
    except ValueError:
        raise AudiograbError(
            ErrorCode.FORBIDDEN_ADDRESS, f"refusing to connect to an unresolved host {host!r}"
        ) from None
    for policy in _in_force.stack:
        policy.check_ip(ip)
