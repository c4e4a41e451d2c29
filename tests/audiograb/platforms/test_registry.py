"""URL matching: real-shaped links per platform, normalisation, spoofed hosts and errors."""

import pytest

from audiograb.domain import AudiograbError, ErrorCode
from audiograb.platforms import MatchedUrl, Platform, PlatformRegistry, default_registry

YT_ID = "dQw4w9WgXcQ"
YT_WATCH = f"https://www.youtube.com/watch?v={YT_ID}"
XHS_ID = "66a1b2c3d4e5f60718293a4b"


@pytest.fixture(scope="module")
def registry() -> PlatformRegistry:
    return default_registry()


def match(registry: PlatformRegistry, url: str, *, playlist: bool = False) -> MatchedUrl:
    return registry.match(url, playlist=playlist)


def error_of(registry: PlatformRegistry, url: str, *, playlist: bool = False) -> AudiograbError:
    with pytest.raises(AudiograbError) as caught:
        registry.match(url, playlist=playlist)
    return caught.value


# (input URL, platform id, canonical URL)
CANONICAL = [
    # YouTube: every single-video form becomes watch?v=ID; tracking and timing dropped.
    (YT_WATCH, "youtube", YT_WATCH),
    (f"https://youtube.com/watch?v={YT_ID}", "youtube", YT_WATCH),
    (f"http://m.youtube.com/watch?v={YT_ID}&feature=share", "youtube", YT_WATCH),
    (f"https://youtu.be/{YT_ID}", "youtube", YT_WATCH),
    (f"https://youtu.be/{YT_ID}?si=AbCdEfGhIjKlMnOp", "youtube", YT_WATCH),
    (f"https://youtu.be/{YT_ID}?t=42", "youtube", f"{YT_WATCH}&t=42"),  # the start time stays
    (f"https://www.youtube.com/watch?v={YT_ID}&t=1m30s", "youtube", f"{YT_WATCH}&t=1m30s"),
    (f"https://www.youtube.com/watch?v={YT_ID}&t=42s&utm_source=x", "youtube", f"{YT_WATCH}&t=42s"),
    (f"https://www.youtube.com/watch?feature=youtu.be&v={YT_ID}", "youtube", YT_WATCH),
    (f"https://www.youtube.com/shorts/{YT_ID}", "youtube", YT_WATCH),
    (f"https://www.youtube.com/shorts/{YT_ID}/?si=abc", "youtube", YT_WATCH),
    (f"https://www.youtube.com/live/{YT_ID}?si=abc", "youtube", YT_WATCH),
    (f"https://www.youtube.com/embed/{YT_ID}", "youtube", YT_WATCH),
    (f"https://www.youtube-nocookie.com/embed/{YT_ID}?start=30", "youtube", YT_WATCH),
    (f"HTTPS://WWW.YOUTUBE.COM/watch?v={YT_ID}", "youtube", YT_WATCH),
    (f"https://www.youtube.com./watch?v={YT_ID}", "youtube", YT_WATCH),
    (f"https://www.youtube.com:443/watch?v={YT_ID}", "youtube", YT_WATCH),
    (f"  {YT_WATCH}\n", "youtube", YT_WATCH),
    (f"{YT_WATCH}#t=30", "youtube", YT_WATCH),
    (
        f"https://www.youtube.com/watch?v={YT_ID}&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG&index=3",
        "youtube",
        YT_WATCH,
    ),
    (
        f"https://music.youtube.com/watch?v={YT_ID}&si=abc",
        "youtube",
        f"https://music.youtube.com/watch?v={YT_ID}",
    ),
    # X Spaces
    ("https://x.com/i/spaces/1YqKDqDXAbwKV", "x_spaces", "https://x.com/i/spaces/1YqKDqDXAbwKV"),
    (
        "https://twitter.com/i/spaces/1YqKDqDXAbwKV?s=20",
        "x_spaces",
        "https://x.com/i/spaces/1YqKDqDXAbwKV",
    ),
    (
        "https://mobile.twitter.com/i/spaces/1YqKDqDXAbwKV/peek",
        "x_spaces",
        "https://x.com/i/spaces/1YqKDqDXAbwKV",
    ),
    (
        "https://www.x.com/i/spaces/1OdKrBnaEPXKX/",
        "x_spaces",
        "https://x.com/i/spaces/1OdKrBnaEPXKX",
    ),
    # X video
    (
        "https://x.com/NASA/status/1795524440221262263",
        "x_video",
        "https://x.com/NASA/status/1795524440221262263",
    ),
    (
        "https://twitter.com/NASA/status/1795524440221262263?s=20&t=AbCdEf",
        "x_video",
        "https://x.com/NASA/status/1795524440221262263",
    ),
    (
        "https://mobile.x.com/NASA/status/1795524440221262263/video/2",
        "x_video",
        "https://x.com/NASA/status/1795524440221262263/video/2",
    ),
    (
        "https://x.com/NASA/status/1795524440221262263/photo/1",
        "x_video",
        "https://x.com/NASA/status/1795524440221262263",
    ),
    (
        "https://m.twitter.com/NASA/status/1795524440221262263",
        "x_video",
        "https://x.com/NASA/status/1795524440221262263",
    ),
    # Embed fixers shared in chats: X's own path, so the post on x.com (never the fixer).
    *(
        (
            f"https://{host}/NASA/status/1795524440221262263?s=20",
            "x_video",
            "https://x.com/NASA/status/1795524440221262263",
        )
        for host in ("fxtwitter.com", "vxtwitter.com", "fixupx.com", "fixvx.com")
    ),
    (
        "https://twitter.com/i/web/status/1795524440221262263",
        "x_video",
        "https://x.com/i/status/1795524440221262263",
    ),
    (
        "https://x.com/i/status/1795524440221262263",
        "x_video",
        "https://x.com/i/status/1795524440221262263",
    ),
    (
        "https://www.twitter.com/statuses/1795524440221262263",
        "x_video",
        "https://x.com/i/status/1795524440221262263",
    ),
    # Apple Podcasts
    (
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000681335183",
        "apple_podcasts",
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000681335183",
    ),
    (
        "https://podcasts.apple.com/GB/podcast/the-daily/id1200361736?i=1000681335183&uo=4",
        "apple_podcasts",
        "https://podcasts.apple.com/gb/podcast/the-daily/id1200361736?i=1000681335183",
    ),
    (
        "https://podcasts.apple.com/podcast/id1200361736?i=1000681335183",
        "apple_podcasts",
        "https://podcasts.apple.com/us/podcast/id1200361736?i=1000681335183",
    ),
    (
        "https://podcasts.apple.com/cn/podcast/%E5%B0%8F%E5%AE%87%E5%AE%99/id1487143507?i=1000"
        "655423711",
        "apple_podcasts",
        "https://podcasts.apple.com/cn/podcast/%E5%B0%8F%E5%AE%87%E5%AE%99/id1487143507"
        "?i=1000655423711",
    ),
    # Apple's player and the old iTunes host carry the same paths.
    (
        "https://embed.podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000681335183",
        "apple_podcasts",
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000681335183",
    ),
    (
        "https://itunes.apple.com/gb/podcast/the-daily/id1200361736?mt=2",
        "apple_podcasts",
        "https://podcasts.apple.com/gb/podcast/the-daily/id1200361736",
    ),
    # Spotify embed links
    (
        "https://open.spotify.com/embed/episode/5Xt5DXGzch68nYYamXrNxZ?utm_source=generator",
        "spotify",
        "https://open.spotify.com/episode/5Xt5DXGzch68nYYamXrNxZ",
    ),
    # Instagram
    (
        "https://www.instagram.com/reel/C9xQ3sVvJkL/",
        "instagram",
        "https://www.instagram.com/reel/C9xQ3sVvJkL/",
    ),
    (
        "https://instagram.com/reels/C9xQ3sVvJkL?igsh=MTc4MmM1YmI2Ng==",
        "instagram",
        "https://www.instagram.com/reel/C9xQ3sVvJkL/",
    ),
    (
        "https://www.instagram.com/p/C9xQ3sVvJkL/?utm_source=ig_web_copy_link",
        "instagram",
        "https://www.instagram.com/p/C9xQ3sVvJkL/",
    ),
    (
        "https://www.instagram.com/tv/B7dZ0x1hA_q/",
        "instagram",
        "https://www.instagram.com/tv/B7dZ0x1hA_q/",
    ),
    (
        "https://www.instagram.com/natgeo/reel/C9xQ3sVvJkL/",
        "instagram",
        "https://www.instagram.com/reel/C9xQ3sVvJkL/",
    ),
    ("https://instagr.am/p/C9xQ3sVvJkL/", "instagram", "https://www.instagram.com/p/C9xQ3sVvJkL/"),
    (
        "https://www.instagram.com/reel/C9xQ3sVvJkL/embed/captioned/",
        "instagram",
        "https://www.instagram.com/reel/C9xQ3sVvJkL/",
    ),
    # 小红书
    (
        f"https://www.xiaohongshu.com/explore/{XHS_ID}",
        "xiaohongshu",
        f"https://www.xiaohongshu.com/explore/{XHS_ID}",
    ),
    (
        f"https://www.xiaohongshu.com/explore/{XHS_ID}?xsec_token=ABC%3D&xsec_source=pc_feed"
        "&source=webshare",
        "xiaohongshu",
        f"https://www.xiaohongshu.com/explore/{XHS_ID}?xsec_token=ABC%3D&xsec_source=pc_feed",
    ),
    (
        f"https://xiaohongshu.com/discovery/item/{XHS_ID}?app_platform=ios",
        "xiaohongshu",
        f"https://www.xiaohongshu.com/explore/{XHS_ID}",
    ),
    (
        f"https://www.xiaohongshu.com/user/profile/5f0c1d2e3f4a5b6c7d8e9f01/{XHS_ID}?xsec_token=A",
        "xiaohongshu",
        f"https://www.xiaohongshu.com/explore/{XHS_ID}?xsec_token=A",
    ),
    ("http://xhslink.com/a/Ab3dE5fG7hJ", "xiaohongshu", "https://xhslink.com/a/Ab3dE5fG7hJ"),
    ("https://xhslink.com/Ab3dE5", "xiaohongshu", "https://xhslink.com/Ab3dE5"),
    # Generic: kept as given (signed query strings survive), fragment dropped.
    ("https://example.com/media/episode.mp3", "generic", "https://example.com/media/episode.mp3"),
    ("http://127.0.0.1:8080/hls/master.m3u8", "generic", "http://127.0.0.1:8080/hls/master.m3u8"),
    (
        "https://cdn.example.org/v/manifest.mpd?X-Amz-Signature=abc&utm_source=x#frag",
        "generic",
        "https://cdn.example.org/v/manifest.mpd?X-Amz-Signature=abc&utm_source=x",
    ),
    ("https://[::1]:8443/a.m4a", "generic", "https://[::1]:8443/a.m4a"),
    ("https://bücher.example/a.mp3", "generic", "https://bücher.example/a.mp3"),
]


@pytest.mark.parametrize(("url", "platform_id", "canonical"), CANONICAL)
def test_match_and_normalise(
    registry: PlatformRegistry, url: str, platform_id: str, canonical: str
) -> None:
    matched = match(registry, url)
    assert (matched.platform.id, matched.url) == (platform_id, canonical)


@pytest.mark.parametrize(
    "url",
    [
        # Look-alike hosts are not the platform: they fall through to the generic extractor.
        f"https://evilyoutube.com/watch?v={YT_ID}",
        f"https://youtube.com.evil.org/watch?v={YT_ID}",
        f"https://www.youtube.co/watch?v={YT_ID}",
        f"https://notyoutu.be/{YT_ID}",
        f"https://youtu.be.evil.org/{YT_ID}",
        "https://x.com.evil.org/i/spaces/1YqKDqDXAbwKV",
        "https://eviltwitter.com/NASA/status/1795524440221262263",
        "https://podcasts.apple.com.evil.org/us/podcast/x/id1?i=2",
        "https://open.spotify.com.evil.org/episode/5Xt5DXGzch68nYYamXrNxZ",
        "https://cdn.discordapp.com.evil.org/attachments/1/2/a.ogg",
        "https://media.discordapp.net.evil.org/attachments/1/2/a.ogg",
        "https://discordapp.com/attachments/1/2/a.ogg",
        "https://www.xiaoyuzhoufm.com.evil.org/episode/6695e5c7f4d1c2b3a4958677",
        "https://evilxiaoyuzhoufm.com/episode/6695e5c7f4d1c2b3a4958677",
        "https://spotify.link.evil.org/AbCdEf123",
        "https://open.spotify.co/track/4cOdK2wGLETKBW3PvgPWqT",
        "https://podcasts.apple.co/us/podcast/x/id1?i=2",
        f"https://www.уoutube.com/watch?v={YT_ID}",  # Cyrillic у
        f"https://evil.org/?u=https://www.youtube.com/watch?v={YT_ID}",
        f"https://evil.org/www.youtube.com/watch?v={YT_ID}",
    ],
)
def test_lookalike_hosts_are_generic(registry: PlatformRegistry, url: str) -> None:
    assert match(registry, url).platform.id == "generic"


@pytest.mark.parametrize(
    "url",
    [
        f"https://youtube.com@evil.org/watch?v={YT_ID}",
        f"https://user:pass@www.youtube.com/watch?v={YT_ID}",
        f"https://evil.org\\@www.youtube.com/watch?v={YT_ID}",
        f"https://www.youtube.com/watch?v={YT_ID} extra",
        f"https://www.youtube.com/watch?v={YT_ID}\x00",
        f"https://www.you\u200btube.com/watch?v={YT_ID}",
        f"https://www.youtube.com/watch?v={YT_ID}\tx",
        f"ftp://www.youtube.com/watch?v={YT_ID}",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:audio/mp3;base64,AAAA",
        "spotify:episode:5Xt5DXGzch68nYYamXrNxZ",
        f"www.youtube.com/watch?v={YT_ID}",
        "https://",
        "https:///path/only.mp3",
        "http://exa mple.com/a.mp3",
        "https://a..b/a.mp3",
        "https://example.com:99999/a.mp3",
        "https://example.com:0/a.mp3",
        "https://example.com:abc/a.mp3",
        "",
        "   ",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_invalid_urls(registry: PlatformRegistry, url: str) -> None:
    assert error_of(registry, url).code is ErrorCode.INVALID_URL


def test_url_at_length_limit_is_accepted(registry: PlatformRegistry) -> None:
    prefix = "https://example.com/"
    url = prefix + "a" * (2048 - len(prefix))
    assert match(registry, url).url == url


def test_invalid_url_messages_say_why(registry: PlatformRegistry) -> None:
    assert "credentials" in error_of(registry, "https://youtube.com@evil.org/").message
    assert "http" in error_of(registry, "ftp://example.com/a.mp3").message
    assert "2048" in error_of(registry, "https://e.com/" + "a" * 3000).message


@pytest.mark.parametrize(
    ("url", "platform_name", "expected_shape"),
    [
        ("https://www.youtube.com/@LinusTechTips", "YouTube", "youtu.be/ID"),
        ("https://www.youtube.com/watch?v=short", "YouTube", "watch?v=ID"),
        ("https://www.youtube.com/watch", "YouTube", "watch?v=ID"),
        ("https://youtu.be/", "YouTube", "youtu.be/ID"),
        ("https://www.youtube.com/results?search_query=lofi", "YouTube", "shorts/ID"),
        ("https://x.com/NASA", "X Spaces / X (Twitter) video", "x.com/i/spaces/ID"),
        ("https://twitter.com/i/spaces/short", "X Spaces", "x.com/USER/status/ID"),
        ("https://x.com/NASA/status/notanumber", "X (Twitter) video", "x.com/USER/status/ID"),
        ("https://podcasts.apple.com/us/browse", "Apple Podcasts", "idSHOW?i=EPISODE"),
        ("https://podcasts.apple.com/us/podcast/x/id12?i=abc", "Apple Podcasts", "?i=EPISODE"),
        ("https://www.instagram.com/natgeo/", "Instagram", "instagram.com/reel/CODE"),
        ("https://www.instagram.com/stories/natgeo/3412/", "Instagram", "instagram.com/p/CODE"),
        ("https://www.xiaohongshu.com/user/profile/5f0c", "Xiaohongshu", "explore/ID"),
        ("https://www.xiaohongshu.com/explore/nothex", "Xiaohongshu", "explore/ID"),
        ("https://open.spotify.com/artist/0OdUWJ0sBjDrqHygGUXeCF", "Spotify", "episode"),
        ("https://open.spotify.com/episode/tooShort", "Spotify", "open.spotify.com"),
        ("https://www.xiaoyuzhoufm.com/", "Xiaoyuzhou", "xiaoyuzhoufm.com/episode/ID"),
        ("https://cdn.discordapp.com/avatars/1/abc.png", "Discord", "attachments"),
        ("https://discord.com/channels/1/2/3", "Discord", "cdn.discordapp.com/attachments"),
    ],
)
def test_unknown_paths_on_known_hosts(
    registry: PlatformRegistry, url: str, platform_name: str, expected_shape: str
) -> None:
    error = error_of(registry, url)
    assert error.code is ErrorCode.UNSUPPORTED_URL
    assert platform_name in error.message
    assert expected_shape in error.message


@pytest.mark.parametrize(
    ("url", "platform_id", "canonical"),
    [
        (
            "https://open.spotify.com/episode/5Xt5DXGzch68nYYamXrNxZ?si=a1b2c3",
            "spotify",
            "https://open.spotify.com/episode/5Xt5DXGzch68nYYamXrNxZ",
        ),
        (
            "https://open.spotify.com/intl-de/track/4cOdK2wGLETKBW3PvgPWqT",
            "spotify",
            "https://open.spotify.com/track/4cOdK2wGLETKBW3PvgPWqT",
        ),
        (
            "https://open.spotify.com/show/2MAi0BvDc6GTFvKFPXnkCL",
            "spotify",
            "https://open.spotify.com/show/2MAi0BvDc6GTFvKFPXnkCL",
        ),
        ("https://spotify.link/AbCdEf123", "spotify", "https://spotify.link/AbCdEf123"),
        (
            "https://xiaoyuzhoufm.com/podcast/5e280fab418a84a0461fa49a?s=eyJ1",
            "xiaoyuzhou",
            "https://www.xiaoyuzhoufm.com/podcast/5e280fab418a84a0461fa49a",
        ),
        (
            "https://cdn.discordapp.com/attachments/1012345678901234567/1123456789012345678/"
            "voice-message.ogg?ex=66b1c2d3&is=66b07153&hm=0123abcd&utm=x",
            "discord",
            "https://cdn.discordapp.com/attachments/1012345678901234567/1123456789012345678/"
            "voice-message.ogg?ex=66b1c2d3&is=66b07153&hm=0123abcd",
        ),
        (
            "https://media.discordapp.net/attachments/1/2/clip.mp4?width=400",
            "discord",
            "https://media.discordapp.net/attachments/1/2/clip.mp4",
        ),
    ],
)
def test_resolver_platforms_match(
    registry: PlatformRegistry, url: str, platform_id: str, canonical: str
) -> None:
    matched = match(registry, url)
    assert (matched.platform.id, matched.url) == (platform_id, canonical)


@pytest.mark.parametrize("kind", ["album", "playlist"])
def test_spotify_collections_are_not_supported_yet(registry: PlatformRegistry, kind: str) -> None:
    url = f"https://open.spotify.com/{kind}/4aawyAB9vmqN3uQ7FjRGTy"
    error = error_of(registry, url)
    assert error.code is ErrorCode.UNSUPPORTED_YET
    assert "single track or episode" in error.message


class TestPlaylists:
    PLAYLIST = "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"
    VIDEO_IN_LIST = f"{YT_WATCH}&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG&index=3&si=x"

    def test_video_in_a_list_stays_one_video(self, registry: PlatformRegistry) -> None:
        matched = match(registry, self.VIDEO_IN_LIST)
        assert matched.url == YT_WATCH
        assert matched.ytdlp_params == {"noplaylist": True}

    def test_video_in_a_list_with_playlist_keeps_the_list(self, registry: PlatformRegistry) -> None:
        matched = match(registry, self.VIDEO_IN_LIST, playlist=True)
        assert matched.url == f"{YT_WATCH}&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"
        assert matched.ytdlp_params == {"noplaylist": False}

    def test_bare_playlist_needs_playlist_flag(self, registry: PlatformRegistry) -> None:
        error = error_of(registry, self.PLAYLIST + "&si=abc")
        assert error.code is ErrorCode.INVALID_REQUEST
        assert "playlist" in error.message
        assert "--playlist" in error.message

    def test_bare_playlist_with_flag(self, registry: PlatformRegistry) -> None:
        matched = match(registry, self.PLAYLIST + "&si=abc", playlist=True)
        assert matched.url == self.PLAYLIST

    def test_music_playlist_keeps_music_host(self, registry: PlatformRegistry) -> None:
        url = "https://music.youtube.com/playlist?list=OLAK5uy_kWnLz2yBP4w3NQwXhF3bz5_xYZ"
        assert match(registry, url, playlist=True).url == url

    def test_apple_show_link_stands_for_its_latest_episode(
        self, registry: PlatformRegistry
    ) -> None:
        show = "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?uo=4"
        canonical = "https://podcasts.apple.com/us/podcast/the-daily/id1200361736"
        assert match(registry, show).url == canonical
        assert match(registry, show, playlist=True).url == canonical


def test_every_platform_is_listed_once_with_generic_last(registry: PlatformRegistry) -> None:
    ids = [platform.id for platform in registry.all()]
    assert ids == [
        "x_spaces",
        "x_video",
        "apple_podcasts",
        "spotify",
        "youtube",
        "instagram",
        "xiaohongshu",
        "xiaoyuzhou",
        "discord",
        "generic",
    ]
    assert all(platform.available for platform in registry.all())


@pytest.mark.parametrize(
    "platform", default_registry().all(), ids=lambda platform: str(platform.id)
)
def test_example_urls_match_their_own_platform(
    registry: PlatformRegistry, platform: Platform
) -> None:
    assert platform.example_urls
    for url in platform.example_urls:
        assert match(registry, url).platform == platform


def test_get(registry: PlatformRegistry) -> None:
    assert registry.get("xiaohongshu").name == "小红书 (Xiaohongshu)"
    with pytest.raises(AudiograbError) as caught:
        registry.get("myspace")
    assert caught.value.code is ErrorCode.NOT_FOUND


def test_ytdlp_params_are_fresh_per_match(registry: PlatformRegistry) -> None:
    first = match(registry, YT_WATCH).ytdlp_params
    second = match(registry, YT_WATCH).ytdlp_params
    assert first == second
    assert first is not second
