"""Every resolver flow end to end: fake sites and media on loopback, real yt-dlp and FFmpeg.

The resolvers' base URLs (iTunes API, Spotify, 小宇宙) point at `tests.fakesites`, enclosures at
the loopback media server; each job must end in a valid file with the right tags and, where the
format holds one, the cover picture. The `network` tests at the end try one real public URL per
platform and run only with `--network`.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import av
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.domain import AudioFormat, ErrorCode, Job, JobRequest, JobState, MediaResolved
from audiograb.pipeline import Audiograb, open_audiograb, resolving
from audiograb.platforms.resolve import SearchHit
from tests.fakesites import (
    FakeSites,
    RssItem,
    fake_sites,
    rss_feed,
    spotify_embed_page,
    xiaoyuzhou_episode,
    xiaoyuzhou_episode_page,
)
from tests.media import make_tone, read_tags, run_ffmpeg
from tests.mediaserver import MediaServer, media_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SHOW_ID = 1200361736
EID = "6695e5c7f4d1c2b3a4958677"
SPOTIFY_EPISODE = "5Xt5DXGzch68nYYamXrNxZ"
SPOTIFY_TRACK = "4cOdK2wGLETKBW3PvgPWqT"


@pytest.fixture(scope="module")
def episodes_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("episodes")
    make_tone(root / "ep1.mp3", seconds=3.0, frequency=330.0)
    make_tone(root / "ep2.mp3", seconds=3.0, frequency=550.0)
    make_tone(root / "ep.m4a", seconds=3.0)
    run_ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x96", "-frames:v", "1", str(root / "c.jpg"))
    return root


@pytest.fixture
def media(episodes_root: Path) -> Iterator[MediaServer]:
    with media_server(episodes_root) as running:
        yield running


@pytest.fixture
def sites(episodes_root: Path) -> Iterator[FakeSites]:
    with fake_sites() as running:
        running.serve("/cover.jpg", (episodes_root / "c.jpg").read_bytes(), "image/jpeg")
        yield running


@pytest.fixture
def site_settings(settings: Settings, sites: FakeSites) -> Settings:
    return msgspec.structs.replace(
        settings,
        itunes_api_base=sites.base_url,
        spotify_base=sites.base_url,
        xiaoyuzhou_base=sites.base_url,
    )


def publish_daily(sites: FakeSites, media: MediaServer) -> dict[str, object]:
    """The Daily: two episodes in its feed, listed on the fake iTunes API."""
    items = [
        RssItem(
            title="Tuesday news",
            guid="guid-2",
            published=datetime(2024, 5, 7, 9, tzinfo=UTC),
            enclosure_url=media.url("ep2.mp3"),
            image=sites.url("cover.jpg"),
        ),
        RssItem(
            title="Monday news",
            guid="guid-1",
            published=datetime(2024, 5, 6, 9, tzinfo=UTC),
            enclosure_url=media.url("ep1.mp3"),
            image=sites.url("cover.jpg"),
        ),
    ]
    sites.serve("/daily.xml", rss_feed("The Daily", items), "application/rss+xml")
    show = sites.itunes.add_show(SHOW_ID, "The Daily", feed_url=sites.url("daily.xml"))
    sites.itunes.add_episode(
        show, 1000001, "Monday news", guid="guid-1",
        release_date="2024-05-06T09:00:00Z", episode_url=media.url("ep1.mp3"),
    )  # fmt: skip
    return show


async def run(settings: Settings, request: JobRequest) -> tuple[Job, list[object]]:
    async with open_audiograb(settings) as ag:
        job = await ag.submit(request)
        events = await _events(ag, job.id)
        return await ag.get(job.id), events


async def _events(ag: Audiograb, job_id: str) -> list[object]:
    with anyio.fail_after(60):
        async with ag.subscribe(job_id) as feed:
            return [recorded.event async for recorded in feed]


def has_cover(path: Path) -> bool:
    with av.open(str(path)) as container:
        return any(
            stream.disposition & av.stream.Disposition.attached_pic
            for stream in container.streams.video
        )


def finished(job: Job) -> Path:
    assert job.state is JobState.COMPLETED, job.error
    assert job.output_path is not None
    return Path(job.output_path)


async def test_apple_episode_to_mp3_with_tags_and_cover(
    site_settings: Settings, sites: FakeSites, media: MediaServer
) -> None:
    publish_daily(sites, media)
    url = f"https://podcasts.apple.com/us/podcast/the-daily/id{SHOW_ID}?i=1000001"
    job, events = await run(site_settings, JobRequest(url=url, format=AudioFormat.MP3))
    output = finished(job)
    tags = read_tags(output)
    assert (tags["title"], tags["artist"], tags["date"]) == (
        "Monday news",
        "The Daily",
        "2024-05-06",
    )
    assert has_cover(output)
    assert media.requests_for("/ep1.mp3")
    assert not media.requests_for("/ep2.mp3")
    resolved = [event for event in events if isinstance(event, MediaResolved)]
    assert resolved[0].media.uploader == "The Daily"


async def test_apple_episode_not_found_is_a_clear_error(
    site_settings: Settings, sites: FakeSites, media: MediaServer
) -> None:
    publish_daily(sites, media)
    url = f"https://podcasts.apple.com/us/podcast/the-daily/id{SHOW_ID}?i=42"
    job, _ = await run(site_settings, JobRequest(url=url))
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert job.error.code is ErrorCode.NOT_FOUND
    assert "does not list episode 42" in job.error.message
    assert not media.requests


async def test_apple_show_and_generic_feed_give_latest_episode(
    site_settings: Settings, sites: FakeSites, media: MediaServer
) -> None:
    publish_daily(sites, media)
    show = f"https://podcasts.apple.com/us/podcast/the-daily/id{SHOW_ID}"
    for url in (show, sites.url("daily.xml")):
        job, _ = await run(site_settings, JobRequest(url=url, format=AudioFormat.M4A))
        output = finished(job)
        assert read_tags(output)["title"] == "Tuesday news"
        assert has_cover(output)


async def test_feed_with_relative_links(
    settings: Settings, episodes_root: Path, tmp_path: Path
) -> None:
    # Self-hosted feeds may link their files relative to the feed, or without a scheme: they
    # failed as "not an http(s) URL".
    root = tmp_path / "site"
    (root / "audio").mkdir(parents=True)
    (root / "feeds").mkdir()
    (root / "audio" / "ep.m4a").write_bytes((episodes_root / "ep.m4a").read_bytes())
    (root / "art.jpg").write_bytes((episodes_root / "c.jpg").read_bytes())
    with media_server(root) as site:
        item = RssItem(
            title="Relative",
            guid="rel-1",
            published=datetime(2024, 5, 6, 9, tzinfo=UTC),
            enclosure_url="../audio/ep.m4a",
            image=site.url("art.jpg").removeprefix("http:"),
        )
        (root / "feeds" / "show.xml").write_bytes(rss_feed("Self-hosted", [item]))
        job, _ = await run(
            settings, JobRequest(url=site.url("feeds/show.xml"), format=AudioFormat.MP3)
        )
        output = finished(job)
        assert site.requests_for("/audio/ep.m4a")
    assert read_tags(output)["title"] == "Relative"
    assert has_cover(output)


async def test_xiaoyuzhou_episode(
    site_settings: Settings, sites: FakeSites, media: MediaServer
) -> None:
    podcast = {
        "pid": "5e280fab418a84a0461fa49a",
        "title": "声东击西",
        "author": "声东击西",
        "image": {"picUrl": sites.url("cover.jpg")},
    }
    episode = xiaoyuzhou_episode(
        EID, "第一期：你好", media.url("ep.m4a"), pub_date="2024-07-16T03:00:00.000Z",
        podcast=podcast,
    )  # fmt: skip
    sites.serve(f"/episode/{EID}", xiaoyuzhou_episode_page(episode), "text/html; charset=utf-8")
    url = f"https://www.xiaoyuzhoufm.com/episode/{EID}"
    job, _ = await run(site_settings, JobRequest(url=url, format=AudioFormat.MP3))
    output = finished(job)
    tags = read_tags(output)
    assert (tags["title"], tags["artist"], tags["date"]) == (
        "第一期：你好",
        "声东击西",
        "2024-07-16",
    )
    assert has_cover(output)
    assert output.name.startswith("第一期：你好")


async def test_spotify_episode_through_its_public_feed(
    site_settings: Settings, sites: FakeSites, media: MediaServer
) -> None:
    publish_daily(sites, media)
    entity = {
        "type": "episode",
        "name": "Tuesday news",
        "subtitle": "The Daily",
        "releaseDate": {"isoString": "2024-05-07T00:00:00Z"},
        "duration": 3000,
    }
    sites.serve(f"/embed/episode/{SPOTIFY_EPISODE}", spotify_embed_page(entity), "text/html")
    url = f"https://open.spotify.com/episode/{SPOTIFY_EPISODE}"
    job, _ = await run(site_settings, JobRequest(url=url, format=AudioFormat.M4A))
    tags = read_tags(finished(job))
    assert (tags["title"], tags["artist"], tags["date"]) == (
        "Tuesday news",
        "The Daily",
        "2024-05-07",
    )


async def test_spotify_track_through_a_matched_video(
    site_settings: Settings,
    sites: FakeSites,
    media: MediaServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entity = {
        "type": "track",
        "name": "Blinding Lights",
        "artists": [{"name": "The Weeknd"}],
        "releaseDate": {"isoString": "2019-11-29T00:00:00Z"},
        "duration": 3000,
        "coverArt": {"sources": [{"url": sites.url("cover.jpg"), "width": 640}]},
    }
    sites.serve(f"/embed/track/{SPOTIFY_TRACK}", spotify_embed_page(entity), "text/html")
    queries: list[str] = []

    def fake_search(query: str, options: object) -> list[SearchHit]:
        queries.append(query)
        return [
            SearchHit(url=media.url("ep1.mp3"), title="Blinding Lights (Live)",
                      uploader="The Weeknd", duration=3.0),
            SearchHit(url=media.url("ep2.mp3"), title="The Weeknd - Blinding Lights (Audio)",
                      uploader="The Weeknd", duration=3.0),
        ]  # fmt: skip

    monkeypatch.setattr(resolving, "search_youtube", fake_search)
    url = f"https://open.spotify.com/track/{SPOTIFY_TRACK}"
    job, _ = await run(site_settings, JobRequest(url=url, format=AudioFormat.MP3))
    output = finished(job)
    assert queries == ["The Weeknd - Blinding Lights"]
    tags = read_tags(output)
    assert (tags["title"], tags["artist"], tags["date"]) == (
        "Blinding Lights", "The Weeknd", "2019-11-29",
    )  # fmt: skip
    assert job.media is not None
    assert job.media.description is not None
    assert f"matched YouTube video {media.url('ep2.mp3')}" in job.media.description
    assert has_cover(output)


async def test_discord_expired_link(site_settings: Settings) -> None:
    url = (
        "https://cdn.discordapp.com/attachments/1012345678901234567/1123456789012345678/"
        "voice-message.ogg?ex=65000000&is=64f00000&hm=0123abcd"
    )
    job, _ = await run(site_settings, JobRequest(url=url))
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert job.error.code is ErrorCode.NOT_FOUND
    assert "expired" in job.error.message
    assert "fresh link" in job.error.message


REAL_URLS = [
    "https://podcasts.apple.com/us/podcast/the-daily/id1200361736",
    "https://open.spotify.com/show/3IM0lmZxpFAY7CwMuv9H4g",
    "https://www.xiaoyuzhoufm.com/podcast/5e280fab418a84a0461fa49a",
    "https://feeds.simplecast.com/54nAGcIl",
    "https://x.com/i/spaces/1YqKDqDXAbwKV",
    "https://www.youtube.com/watch?v=jNQXAC9IVRw",
    "https://www.instagram.com/reel/C9xQ3sVvJkL/",
    "https://www.xiaohongshu.com/explore/66a1b2c3d4e5f60718293a4b",
    "https://x.com/NASA/status/1795524440221262263",
]


@pytest.mark.network
@pytest.mark.parametrize("url", REAL_URLS)
async def test_real_public_url(settings: Settings, url: str) -> None:
    """One real link per platform; needs the internet (`--network`) and may rot over time."""
    public = msgspec.structs.replace(settings, allow_private_networks=False)
    job, _ = await run(public, JobRequest(url=url, format=AudioFormat.MP3))
    assert job.state is JobState.COMPLETED, job.error
