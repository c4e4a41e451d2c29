"""The SSRF guard: address rules, URL checks, and the connection-time check on real sockets."""

import ipaddress
import socket
import threading
from collections.abc import Iterator

import pytest

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.engines.netguard import AddressPolicy, check_url, guarded

FORBIDDEN = [
    "127.0.0.1",
    "127.0.0.2",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space (CGNAT)
    "0.0.0.0",
    "224.0.1.1",  # multicast, though marked global
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2001:db8::1",  # documentation
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_default_policy_refuses_non_public_addresses(address: str) -> None:
    with pytest.raises(AudiograbError) as refused:
        AddressPolicy().check_ip(ipaddress.ip_address(address))
    assert refused.value.code is ErrorCode.FORBIDDEN_ADDRESS


@pytest.mark.parametrize("address", ALLOWED)
def test_default_policy_allows_public_addresses(address: str) -> None:
    AddressPolicy().check_ip(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", FORBIDDEN)
def test_allow_private_lifts_the_guard(address: str) -> None:
    AddressPolicy(allow_private=True).check_ip(ipaddress.ip_address(address))


def test_allow_names_exact_exceptions() -> None:
    policy = AddressPolicy(allow=frozenset({"127.0.0.1", "10.0.0.0/8"}))

    policy.check_ip(ipaddress.ip_address("127.0.0.1"))
    policy.check_ip(ipaddress.ip_address("10.9.8.7"))
    with pytest.raises(AudiograbError):
        policy.check_ip(ipaddress.ip_address("127.0.0.2"))


def test_allow_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not an IP"):
        AddressPolicy(allow=frozenset({"localhost"}))


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.mp3", "file:///etc/passwd", "javascript:alert(1)", "http://", ""]
)
def test_check_url_wants_http_with_a_host(url: str) -> None:
    with pytest.raises(AudiograbError) as refused:
        check_url(url, AddressPolicy(allow_private=True))
    assert refused.value.code is ErrorCode.INVALID_URL


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/a.mp3",
        "http://localhost/a.mp3",
        "https://[::1]/",
        "http://[::ffff:7f00:1]/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/",
    ],
)
def test_check_url_resolves_and_refuses_loopback(url: str) -> None:
    with pytest.raises(AudiograbError) as refused:
        check_url(url, AddressPolicy())
    assert refused.value.code is ErrorCode.FORBIDDEN_ADDRESS


def test_check_url_passes_public_literals() -> None:
    check_url("https://8.8.8.8/audio.mp3", AddressPolicy())


@pytest.fixture
def listener() -> Iterator[tuple[str, int]]:
    """A loopback TCP listener; the connection-time tests connect to it for real."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()


def test_guard_refuses_a_real_connection(listener: tuple[str, int]) -> None:
    with guarded(AddressPolicy()), pytest.raises(AudiograbError) as refused:
        socket.create_connection(listener, timeout=5)
    assert refused.value.code is ErrorCode.FORBIDDEN_ADDRESS


def test_guard_refuses_an_unresolved_host_name(listener: tuple[str, int]) -> None:
    # A name resolved inside connect() could reach anything: only checked literals pass.
    policy = AddressPolicy(allow=frozenset({"127.0.0.1"}))
    with socket.socket() as sock, guarded(policy), pytest.raises(AudiograbError) as refused:
        sock.connect(("localhost", listener[1]))
    assert refused.value.code is ErrorCode.FORBIDDEN_ADDRESS


def test_guard_allows_what_the_policy_allows(listener: tuple[str, int]) -> None:
    with guarded(AddressPolicy(allow=frozenset({"127.0.0.1"}))):
        socket.create_connection(listener, timeout=5).close()


def test_guard_applies_only_inside_the_block_and_thread(listener: tuple[str, int]) -> None:
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            socket.create_connection(listener, timeout=5).close()
        except OSError as error:
            errors.append(error)

    with guarded(AddressPolicy()):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    socket.create_connection(listener, timeout=5).close()
    assert errors == []


def test_nested_policies_all_apply(listener: tuple[str, int]) -> None:
    loose = AddressPolicy(allow_private=True)
    with guarded(AddressPolicy()), guarded(loose), pytest.raises(AudiograbError):
        socket.create_connection(listener, timeout=5)


def test_a_host_name_that_does_not_exist_is_not_found_not_a_network_hiccup() -> None:
    with pytest.raises(AudiograbError) as caught:
        check_url("https://no-such-host.invalid/a.mp3", AddressPolicy())
    assert caught.value.code is ErrorCode.NOT_FOUND
    assert caught.value.message == "no such host: 'no-such-host.invalid' does not resolve"
