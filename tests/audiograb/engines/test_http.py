"""`guarded_fetch` against a loopback server: types, redirects, limits and typed errors."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.engines.http import guarded_fetch
from audiograb.engines.netguard import AddressPolicy
from tests.mediaserver import MediaServer, media_server

OPEN = AddressPolicy(allow_private=True)
ONLY_LOOPBACK_ONE = AddressPolicy(allow=frozenset({"127.0.0.1/32"}))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MediaServer]:
    (tmp_path / "feed.xml").write_bytes(b"<?xml version='1.0'?><rss><channel/></rss>")
    (tmp_path / "big.mp3").write_bytes(b"\xff" * 50_000)
    with media_server(tmp_path) as running:
        yield running


def error_of(url: str, policy: AddressPolicy = OPEN, **kwargs: object) -> AudiograbError:
    with pytest.raises(AudiograbError) as caught:
        guarded_fetch(url, policy=policy, timeout=5, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_fetches_body_type_and_final_url(server: MediaServer) -> None:
    server.redirect("/moved", "/feed.xml", status=301)
    page = guarded_fetch(server.url("moved"), policy=OPEN, timeout=5, accept="text/xml")
    assert page.url == server.url("feed.xml")
    assert page.status == 200
    assert page.content_type == "application/rss+xml"
    assert page.body.startswith(b"<?xml")
    assert server.requests_for("/feed.xml")


def test_unwanted_types_are_not_read(server: MediaServer) -> None:
    page = guarded_fetch(server.url("big.mp3"), policy=OPEN, timeout=5, only=("text/",))
    assert (page.content_type, page.body) == ("audio/mpeg", b"")


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        ("attachment; filename*=UTF-8''Nice%20Episode%20%C3%BCber.mp3", "Nice Episode über.mp3"),
        ('attachment; filename="talk.mp3"', "talk.mp3"),
        ('attachment; filename="../../etc/evil.mp3"', "evil.mp3"),
        ('attachment; filename="C:\\Users\\me\\a.mp3"', "a.mp3"),
        ("inline", None),
    ],
)
def test_content_disposition_names_the_file(
    server: MediaServer, disposition: str, filename: str | None
) -> None:
    server.set_headers("big.mp3", Content_Disposition=disposition)
    page = guarded_fetch(server.url("big.mp3"), policy=OPEN, timeout=5, only=("text/",))
    assert page.filename == filename


def test_size_limit(server: MediaServer) -> None:
    assert error_of(server.url("big.mp3"), max_bytes=1000).code is ErrorCode.TOO_LARGE


def test_not_found(server: MediaServer) -> None:
    error = error_of(server.url("missing.xml"))
    assert error.code is ErrorCode.NOT_FOUND
    assert "404" in error.message


def test_loopback_refused_by_default(server: MediaServer) -> None:
    error = error_of(server.url("feed.xml"), AddressPolicy())
    assert error.code is ErrorCode.FORBIDDEN_ADDRESS


def test_redirect_to_a_forbidden_address_is_refused(server: MediaServer) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    server.redirect("/hop", f"http://127.0.0.2:{port}/feed.xml")
    assert guarded_fetch(server.url("feed.xml"), policy=ONLY_LOOPBACK_ONE, timeout=5).body
    error = error_of(server.url("hop"), ONLY_LOOPBACK_ONE)
    assert error.code is ErrorCode.FORBIDDEN_ADDRESS


def test_redirect_to_another_scheme_is_refused(server: MediaServer) -> None:
    server.redirect("/file", "ftp://127.0.0.1/etc/passwd")
    assert error_of(server.url("file")).code is ErrorCode.FORBIDDEN_ADDRESS


def test_connection_refused_is_network(server: MediaServer) -> None:
    error = error_of("http://127.0.0.1:9/feed.xml")
    assert error.code is ErrorCode.NETWORK
