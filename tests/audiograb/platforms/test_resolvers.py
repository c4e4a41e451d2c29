"""Each resolver against recorded-shape fake responses, answered in memory."""

from datetime import UTC, datetime

import pytest

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.platforms import default_registry
from audiograb.platforms.resolve import FetchedPage, ResolveContext, Resolved, SearchHit
from tests.audiograb.platforms.conftest import BASE, FakeSearch, MemoryFetch
from tests.fakesites import (
    FakeSites,
    RssItem,
    rss_feed,
    spotify_embed_page,
    spotify_meta_page,
    xiaoyuzhou_episode,
    xiaoyuzhou_episode_page,
    xiaoyuzhou_podcast_page,
)

REGISTRY = default_registry()
SHOW_ID = 1200361736
RSS = "application/rss+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"


def resolve(url: str, ctx: ResolveContext) -> Resolved | None:
    matched = REGISTRY.match(url)
    resolver = REGISTRY.resolver_for(matched.platform.id)
    assert resolver is not None
    return resolver(matched, ctx)


def resolved(url: str, ctx: ResolveContext) -> Resolved:
    result = resolve(url, ctx)
    assert result is not None
    return result


def error_of(url: str, ctx: ResolveContext) -> AudiograbError:
    with pytest.raises(AudiograbError) as caught:
        resolve(url, ctx)
    return caught.value


def when(day: int, hour: int = 9) -> datetime:
    return datetime(2024, 5, day, hour, 0, tzinfo=UTC)


ITEMS = [
    RssItem(
        title="Monday news", guid="guid-1", published=when(6), enclosure_url="https://cdn/1.mp3"
    ),
    RssItem(
        title="Tuesday news",
        guid="guid-2",
        published=when(7),
        enclosure_url="https://cdn/2.mp3",
        image="https://img/2.jpg",
    ),
    RssItem(title="Old news", guid="guid-0", published=when(1), enclosure_url="https://cdn/0.mp3"),
]


def daily(sites: FakeSites, items: list[RssItem] = ITEMS) -> dict[str, object]:
    """The Daily: a show with a feed of `items` (deliberately not sorted by date)."""
    show = sites.itunes.add_show(SHOW_ID, "The Daily", feed_url=f"{BASE}/daily.xml")
    sites.serve("/daily.xml", rss_feed("The Daily", items, image="https://img/show.jpg"), RSS)
    return show


def apple(episode: int | None = None) -> str:
    url = f"https://podcasts.apple.com/us/podcast/the-daily/id{SHOW_ID}"
    return url if episode is None else f"{url}?i={episode}"


class TestApplePodcasts:
    def test_episode_by_guid(self, sites: FakeSites, ctx: ResolveContext) -> None:
        show = daily(sites)
        sites.itunes.add_episode(
            show, 1000001, "Tuesday news", guid="guid-2",
            release_date="2024-05-07T09:00:00Z", episode_url="https://apple/2.mp3",
        )  # fmt: skip
        result = resolved(apple(1000001), ctx)
        assert result.media_url == "https://cdn/2.mp3"
        media = result.media
        assert (media.title, media.uploader, media.date) == (
            "Tuesday news",
            "The Daily",
            "2024-05-07",
        )
        assert media.description == "Show notes with markup & entities."
        assert media.thumbnail == "https://img/2.jpg"
        assert media.duration == 4.0
        assert media.webpage_url == apple(1000001)

    def test_episode_by_title_and_date_when_guids_differ(
        self, sites: FakeSites, ctx: ResolveContext
    ) -> None:
        show = daily(sites)
        sites.itunes.add_episode(
            show, 1000002, "MONDAY  news!", guid="other-guid",
            release_date="2024-05-06T13:00:00Z", episode_url="https://apple/1.mp3",
        )  # fmt: skip
        result = resolved(apple(1000002), ctx)
        assert result.media_url == "https://cdn/1.mp3"
        assert result.media.thumbnail == "https://img/show.jpg"

    def test_same_title_other_date_is_never_taken(
        self, sites: FakeSites, ctx: ResolveContext
    ) -> None:
        # A rerun with the same title on another day: the lookup's own file is used instead.
        show = daily(sites)
        sites.itunes.add_episode(
            show, 1000003, "Monday news", guid="rerun",
            release_date="2024-05-20T09:00:00Z", episode_url="https://apple/rerun.mp3",
        )  # fmt: skip
        result = resolved(apple(1000003), ctx)
        assert result.media_url == "https://apple/rerun.mp3"
        assert (result.media.title, result.media.date) == ("Monday news", "2024-05-20")

    def test_unlisted_episode_is_not_found(self, sites: FakeSites, ctx: ResolveContext) -> None:
        daily(sites)
        error = error_of(apple(999), ctx)
        assert error.code is ErrorCode.NOT_FOUND
        assert "999" in error.message
        assert "nothing was downloaded" in error.message

    def test_episode_without_any_file_is_not_found(
        self, sites: FakeSites, ctx: ResolveContext
    ) -> None:
        show = daily(sites)
        episode = sites.itunes.add_episode(
            show, 1000004, "Unknown", guid="g", release_date="2024-05-08T09:00:00Z",
            episode_url="",
        )  # fmt: skip
        del episode["episodeUrl"]
        error = error_of(apple(1000004), ctx)
        assert error.code is ErrorCode.NOT_FOUND
        assert "not in the show's RSS feed" in error.message

    def test_show_link_gives_the_latest_episode(
        self, sites: FakeSites, ctx: ResolveContext
    ) -> None:
        daily(sites)
        result = resolved(apple(), ctx)
        assert result.media_url == "https://cdn/2.mp3"
        assert result.media.title == "Tuesday news"

    def test_unknown_show(self, ctx: ResolveContext) -> None:
        error = error_of(apple(5), ctx)
        assert error.code is ErrorCode.NOT_FOUND
        assert str(SHOW_ID) in error.message


class TestGenericFeeds:
    def test_feed_url_gives_latest_episode(self, sites: FakeSites, ctx: ResolveContext) -> None:
        sites.serve("/feed", rss_feed("Indie Show", ITEMS), "text/xml")
        result = resolved(f"{BASE}/feed", ctx)
        assert result.media_url == "https://cdn/2.mp3"
        assert (result.media.uploader, result.media.extractor) == ("Indie Show", "rss")

    @pytest.mark.parametrize(
        ("enclosure", "image", "media_url", "thumbnail"),
        [
            ("ep/1.mp3", "/art.jpg", f"{BASE}/shows/ep/1.mp3", f"{BASE}/art.jpg"),
            ("//cdn.example/1.mp3", "//img.example/a.jpg", "https://cdn.example/1.mp3",
             "https://img.example/a.jpg"),
        ],
    )  # fmt: skip
    def test_relative_links_are_made_absolute(
        self,
        sites: FakeSites,
        ctx: ResolveContext,
        enclosure: str,
        image: str,
        media_url: str,
        thumbnail: str,
    ) -> None:
        item = RssItem(title="Rel", guid="r", published=when(6), enclosure_url=enclosure)
        sites.serve("/shows/feed", rss_feed("Self-hosted", [item], image=image), RSS)
        result = resolved(f"{BASE}/shows/feed", ctx)
        assert (result.media_url, result.media.thumbnail) == (media_url, thumbnail)

    def test_media_urls_are_not_fetched(self, fetch: MemoryFetch, ctx: ResolveContext) -> None:
        assert resolve(f"{BASE}/episode.MP3", ctx) is None
        assert resolve(f"{BASE}/live/index.m3u8?token=1", ctx) is None
        assert fetch.seen == []

    def test_other_pages_fall_through_to_ytdlp(self, sites: FakeSites, ctx: ResolveContext) -> None:
        sites.serve("/page", b"<html><body><video src=a.mp4></video></body></html>", HTML)
        sites.serve("/blob", b"\x00" * 100, "application/octet-stream")
        assert resolve(f"{BASE}/page", ctx) is None
        assert resolve(f"{BASE}/blob", ctx) is None

    def test_feed_without_episodes(self, sites: FakeSites, ctx: ResolveContext) -> None:
        sites.serve("/empty.xml", rss_feed("Nothing", []), RSS)
        assert error_of(f"{BASE}/empty.xml", ctx).code is ErrorCode.NOT_FOUND


PODCAST = {
    "type": "PODCAST",
    "pid": "5e280fab418a84a0461fa49a",
    "title": "声东击西",
    "author": "声东击西",
    "image": {"picUrl": "https://image.xyzcdn.net/cover.jpg"},
}
EID = "6695e5c7f4d1c2b3a4958677"


class TestXiaoyuzhou:
    def test_episode_page(self, sites: FakeSites, ctx: ResolveContext) -> None:
        episode = xiaoyuzhou_episode(
            EID, "第一期", "https://media.xyzcdn.net/1.m4a",
            pub_date="2024-07-16T03:00:00.000Z", podcast=PODCAST,
        )  # fmt: skip
        sites.serve(f"/episode/{EID}", xiaoyuzhou_episode_page(episode), HTML)
        result = resolved(f"https://www.xiaoyuzhoufm.com/episode/{EID}?s=abc", ctx)
        assert result.media_url == "https://media.xyzcdn.net/1.m4a"
        media = result.media
        assert (media.title, media.uploader, media.date) == ("第一期", "声东击西", "2024-07-16")
        assert media.description == "第一期 的节目笔记\n第二段"
        assert media.thumbnail == "https://image.xyzcdn.net/cover.jpg"
        assert media.webpage_url == f"https://www.xiaoyuzhoufm.com/episode/{EID}"

    def test_podcast_page_gives_latest(self, sites: FakeSites, ctx: ResolveContext) -> None:
        episodes = [
            xiaoyuzhou_episode(f"{n:024x}", f"第{n}期", f"https://m/{n}.m4a",
                               pub_date=f"2024-07-{10 + n}T03:00:00.000Z", podcast=PODCAST)
            for n in (3, 2, 1)
        ]  # fmt: skip
        sites.serve(f"/podcast/{PODCAST['pid']}", xiaoyuzhou_podcast_page(PODCAST, episodes), HTML)
        result = resolved(f"https://xiaoyuzhoufm.com/podcast/{PODCAST['pid']}", ctx)
        assert (result.media_url, result.media.title) == ("https://m/3.m4a", "第3期")

    def test_page_without_data(self, sites: FakeSites, ctx: ResolveContext) -> None:
        sites.serve(f"/episode/{EID}", b"<html><body>blocked</body></html>", HTML)
        error = error_of(f"https://www.xiaoyuzhoufm.com/episode/{EID}", ctx)
        assert error.code is ErrorCode.DOWNLOAD_FAILED

    def test_missing_episode(self, ctx: ResolveContext) -> None:
        assert error_of(f"https://www.xiaoyuzhoufm.com/episode/{EID}", ctx).code is (
            ErrorCode.NOT_FOUND
        )


EPISODE_ID = "5Xt5DXGzch68nYYamXrNxZ"
TRACK_ID = "4cOdK2wGLETKBW3PvgPWqT"


def episode_entity(title: str, show: str, iso: str) -> dict[str, object]:
    return {
        "type": "episode",
        "name": title,
        "title": title,
        "subtitle": show,
        "uri": f"spotify:episode:{EPISODE_ID}",
        "releaseDate": {"isoString": iso},
        "duration": 4000,
        "isPlayable": True,
        "visualIdentity": {"image": [{"url": "https://i.scdn.co/small", "maxWidth": 64},
                                     {"url": "https://i.scdn.co/large", "maxWidth": 640}]},
    }  # fmt: skip


def track_entity() -> dict[str, object]:
    return {
        "type": "track",
        "name": "Blinding Lights",
        "uri": f"spotify:track:{TRACK_ID}",
        "artists": [{"name": "The Weeknd", "uri": "spotify:artist:1"}],
        "releaseDate": {"isoString": "2019-11-29T00:00:00Z"},
        "duration": 200040,
        "isPlayable": True,
        "coverArt": {"sources": [{"url": "https://i.scdn.co/cover", "width": 640}]},
    }


class TestSpotify:
    def test_episode_through_itunes_search_and_feed(
        self, sites: FakeSites, ctx: ResolveContext
    ) -> None:
        daily(sites)
        sites.itunes.add_show(77, "The Daily Show Podcast", feed_url=f"{BASE}/other.xml")
        entity = episode_entity("Tuesday news", "The Daily", "2024-05-07T00:00:00Z")
        sites.serve(f"/embed/episode/{EPISODE_ID}", spotify_embed_page(entity), HTML)
        result = resolved(f"https://open.spotify.com/episode/{EPISODE_ID}?si=x", ctx)
        assert result.media_url == "https://cdn/2.mp3"
        assert (result.media.title, result.media.uploader) == ("Tuesday news", "The Daily")
        assert result.media.webpage_url == f"https://open.spotify.com/episode/{EPISODE_ID}"

    def test_episode_from_meta_tags(self, sites: FakeSites, ctx: ResolveContext) -> None:
        daily(sites)
        sites.serve(f"/embed/episode/{EPISODE_ID}", b"<html></html>", HTML)
        meta = {
            "og:title": "Monday news",
            "og:description": "Listen to this episode from The Daily on Spotify. Hello.",
            "og:type": "music.song",
        }
        sites.serve(f"/episode/{EPISODE_ID}", spotify_meta_page(meta), HTML)
        result = resolved(f"https://open.spotify.com/episode/{EPISODE_ID}", ctx)
        assert result.media_url == "https://cdn/1.mp3"

    def test_spotify_only_show_is_refused_clearly(
        self, sites: FakeSites, ctx: ResolveContext
    ) -> None:
        entity = episode_entity("Exclusive", "Only On Spotify", "2024-05-07T00:00:00Z")
        sites.serve(f"/embed/episode/{EPISODE_ID}", spotify_embed_page(entity), HTML)
        error = error_of(f"https://open.spotify.com/episode/{EPISODE_ID}", ctx)
        assert error.code is ErrorCode.UNSUPPORTED_URL
        assert "Spotify-only" in error.message
        assert "DRM" in error.message

    def test_episode_missing_from_feed(self, sites: FakeSites, ctx: ResolveContext) -> None:
        daily(sites)
        entity = episode_entity("Bonus: members only", "The Daily", "2024-05-07T00:00:00Z")
        sites.serve(f"/embed/episode/{EPISODE_ID}", spotify_embed_page(entity), HTML)
        error = error_of(f"https://open.spotify.com/episode/{EPISODE_ID}", ctx)
        assert error.code is ErrorCode.NOT_FOUND
        assert "Bonus: members only" in error.message

    def test_show_link_gives_latest(self, sites: FakeSites, ctx: ResolveContext) -> None:
        daily(sites)
        entity = {"type": "show", "name": "The Daily", "uri": "spotify:show:x"}
        sites.serve(f"/embed/show/{EPISODE_ID}", spotify_embed_page(entity), HTML)
        result = resolved(f"https://open.spotify.com/show/{EPISODE_ID}", ctx)
        assert result.media_url == "https://cdn/2.mp3"

    def test_track_matches_a_youtube_video(
        self, sites: FakeSites, ctx: ResolveContext, search: FakeSearch
    ) -> None:
        sites.serve(f"/embed/track/{TRACK_ID}", spotify_embed_page(track_entity()), HTML)
        search.hits = [
            SearchHit(url="https://yt/live", title="The Weeknd - Blinding Lights (Live)",
                      uploader="The Weeknd", duration=201.0),
            SearchHit(url="https://yt/long", title="The Weeknd - Blinding Lights (Official Video)",
                      uploader="TheWeekndVEVO", duration=262.0),
            SearchHit(url="https://yt/other", title="Save Your Tears", uploader="The Weeknd",
                      duration=200.0),
            SearchHit(url="https://yt/audio", title="Blinding Lights",
                      uploader="The Weeknd - Topic", duration=202.0),
        ]  # fmt: skip
        result = resolved(f"https://open.spotify.com/intl-de/track/{TRACK_ID}", ctx)
        assert search.queries == ["The Weeknd - Blinding Lights"]
        assert result.media_url == "https://yt/audio"
        assert result.note is not None
        assert "matched YouTube video https://yt/audio" in result.note
        media = result.media
        assert (media.title, media.uploader, media.date) == (
            "Blinding Lights", "The Weeknd", "2019-11-29",
        )  # fmt: skip
        assert media.description is not None
        assert result.note in media.description
        assert media.thumbnail == "https://i.scdn.co/cover"
        assert result.ytdlp_params == {"noplaylist": True}

    def test_track_without_a_close_match(
        self, sites: FakeSites, ctx: ResolveContext, search: FakeSearch
    ) -> None:
        sites.serve(f"/embed/track/{TRACK_ID}", spotify_embed_page(track_entity()), HTML)
        search.hits = [SearchHit(url="https://yt/x", title="Blinding Lights", uploader="The Weeknd",
                                 duration=150.0)]  # fmt: skip
        error = error_of(f"https://open.spotify.com/track/{TRACK_ID}", ctx)
        assert error.code is ErrorCode.NOT_FOUND
        assert "The Weeknd - Blinding Lights" in error.message

    def test_short_link_is_followed(
        self, sites: FakeSites, fetch: MemoryFetch, ctx: ResolveContext, search: FakeSearch
    ) -> None:
        fetch.redirects["https://spotify.link/AbCdEf123"] = f"{BASE}/track/{TRACK_ID}?si=1"
        sites.serve(f"/track/{TRACK_ID}", b"<html></html>", HTML)
        sites.serve(f"/embed/track/{TRACK_ID}", spotify_embed_page(track_entity()), HTML)
        search.hits = [SearchHit(url="https://yt/a", title="Blinding Lights",
                                 uploader="The Weeknd", duration=200.0)]  # fmt: skip
        assert resolved("https://spotify.link/AbCdEf123", ctx).media_url == "https://yt/a"

    @pytest.mark.parametrize("kind", ["album", "playlist"])
    def test_collections_are_not_supported_yet(self, kind: str) -> None:
        with pytest.raises(AudiograbError) as caught:
            REGISTRY.match(f"https://open.spotify.com/{kind}/{TRACK_ID}", playlist=True)
        assert caught.value.code is ErrorCode.UNSUPPORTED_YET


DISCORD = (
    "https://cdn.discordapp.com/attachments/1012345678901234567/1123456789012345678/"
    "voice%20message.ogg?ex={ex}&is=66b07153&hm=0123abcd"
)


class TestDiscord:
    @staticmethod
    def context(status: int) -> ResolveContext:
        def fetch(url: str, *, accept: str | None = None, only: object = None) -> FetchedPage:
            if status == 404:
                raise AudiograbError(ErrorCode.NOT_FOUND, f"{url} was not found (HTTP 404)")
            return FetchedPage(url=url, status=status, content_type="audio/ogg", body=b"")

        return ResolveContext(fetch=fetch, search=FakeSearch())

    def test_live_link(self) -> None:
        url = DISCORD.format(ex="7fffffff")
        result = resolved(url, self.context(200))
        assert result.media_url == url
        assert result.media.title == "voice message"

    def test_expired_signature_fails_without_a_request(self) -> None:
        error = error_of(DISCORD.format(ex="65000000"), self.context(200))
        assert error.code is ErrorCode.NOT_FOUND
        assert "expired" in error.message
        assert "fresh link" in error.message

    def test_revoked_link(self) -> None:
        error = error_of(DISCORD.format(ex="7fffffff"), self.context(404))
        assert error.code is ErrorCode.NOT_FOUND
        assert "expired" in error.message


def test_every_resolving_platform_has_a_resolver() -> None:
    with_resolvers = {p.id for p in REGISTRY.all() if REGISTRY.resolver_for(p.id)}
    assert with_resolvers == {"apple_podcasts", "spotify", "xiaoyuzhou", "discord", "generic"}
    assert REGISTRY.resolver_for("youtube") is None
