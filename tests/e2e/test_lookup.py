"""The link look-up end to end: the route, `audiograb info`, and the optional metadata fetch.

The fetch goes through the same guarded path a download starts with, against loopback
servers: generated media and a fake podcast feed.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.domain import AudiograbError, ErrorCode, LinkKind
from audiograb.pipeline import Audiograb, look_up_link
from tests.e2e.test_cli import run_cli
from tests.fakesites import RssItem, fake_sites, rss_feed
from tests.mediaserver import MediaServer

pytestmark = pytest.mark.anyio

SPACE = "https://twitter.com/i/spaces/1YqKDqDXAbwKV?s=20"


async def test_route_answers_from_the_shape_and_makes_no_job(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/resolve", json={"url": SPACE})
    jobs = (await client.get("/api/jobs")).json()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["platform"] == "x_spaces"
    assert body["kind"] == "space"
    assert body["url"] == "https://x.com/i/spaces/1YqKDqDXAbwKV"
    assert body["playlist"] == "none"
    assert body["media_kinds"] == ["audio"]
    assert body["fetched"] is False
    assert jobs["total"] == 0


async def test_route_tells_a_refused_playlist(client: httpx.AsyncClient) -> None:
    url = "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"
    refused = (await client.post("/api/resolve", json={"url": url})).json()
    expanded = (await client.post("/api/resolve", json={"url": url, "playlist": True})).json()
    assert (refused["kind"], refused["playlist"]) == ("playlist", "refused")
    assert expanded["playlist"] == "expanded"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"url": "https://x.com/NASA/likes"}, 422, "unsupported_url"),
        ({"url": "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"}, 422, "unsupported_yet"),
        ({"url": "ftp://example.com/a.mp3"}, 422, "invalid_url"),
        ({"url": SPACE, "download": True}, 422, "validation_failed"),
    ],
)
async def test_route_refuses_with_a_stable_code(
    client: httpx.AsyncClient, body: dict[str, object], status: int, code: str
) -> None:
    answer = await client.post("/api/resolve", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


async def test_route_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/schema/openapi.json")).json()
    operation = schema["paths"]["/api/resolve"]["post"]
    assert operation["tags"] == ["links"]
    assert "422" in operation["responses"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/LinkInfo"
    )


async def test_fetch_reads_the_served_file(
    ag: Audiograb, client: httpx.AsyncClient, server: MediaServer
) -> None:
    answer = await client.post("/api/resolve", json={"url": server.url("tone.mp3"), "fetch": True})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["kind"], body["fetched"]) == ("file", True)
    assert body["media"]["title"] == "tone"  # a bare file tells its name, not its duration
    assert (await ag.count()) == 0


async def test_fetch_names_a_feed_and_its_latest_episode(
    settings: Settings, server: MediaServer
) -> None:
    item = RssItem(
        title="Episode two",
        guid="ep-2",
        published=datetime(2026, 5, 1, tzinfo=UTC),
        enclosure_url=server.url("tone.mp3"),
    )
    with fake_sites() as sites:
        sites.serve("/shows/daily", rss_feed("Daily", [item]), "application/rss+xml")
        offline = await look_up_link(settings, sites.url("/shows/daily"))
        fetched = await look_up_link(settings, sites.url("/shows/daily"), fetch=True)
    assert offline.kind is LinkKind.PAGE
    assert fetched.kind is LinkKind.FEED
    assert fetched.media is not None
    assert (fetched.media.title, fetched.media.uploader) == ("Episode two", "Daily")
    assert fetched.media.duration == pytest.approx(4.0)


async def test_fetch_keeps_to_the_address_policy(settings: Settings, server: MediaServer) -> None:
    closed = msgspec.structs.replace(settings, allow_private_networks=False)
    offline = await look_up_link(closed, server.url("tone.mp3"))  # no network: no refusal
    assert offline.platform == "generic"
    with pytest.raises(AudiograbError) as caught:
        await look_up_link(closed, server.url("tone.mp3"), fetch=True)
    assert caught.value.code is ErrorCode.FORBIDDEN_ADDRESS
    assert server.requests_for("tone.mp3") == []


@pytest.mark.slow
def test_cli_info_offline_and_fetched(server: MediaServer, tmp_path: Path) -> None:
    shown = run_cli("info", "x.com/i/spaces/1YqKDqDXAbwKV", data=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "X Spaces (x_spaces)" in shown.stdout
    assert "space" in shown.stdout.splitlines()[1]
    fetched = run_cli("info", "--fetch", "--json", server.url("tone.m4a"), data=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    body = json.loads(fetched.stdout)
    assert (body["kind"], body["fetched"]) == ("file", True)
    assert body["media"]["title"] == "tone"
    assert not (tmp_path / "audiograb.db").exists()  # nothing opened, nothing stored


@pytest.mark.slow
def test_cli_info_refuses_an_unsupported_link_in_one_line(tmp_path: Path) -> None:
    result = run_cli("info", "https://x.com/NASA/likes", data=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert result.stderr.strip().endswith("[unsupported_url]")
    assert "Traceback" not in result.stderr
