"""The offline link look-up: every platform's URL shapes, playlists and unsupported links.

No network is used: `describe` answers from the URL's shape alone, so these run anywhere.
"""

import pytest

from audiograb.domain import AudiograbError, ErrorCode, LinkKind, MediaKind, PlaylistHandling
from audiograb.pipeline.lookup import describe
from audiograb.platforms import Platform, PlatformRegistry, default_registry
from tests.audiograb.platforms.test_registry import CANONICAL

REGISTRY: PlatformRegistry = default_registry()
YT = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
LIST = "PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG"
XHS_ID = "66a1b2c3d4e5f60718293a4b"
XYZ_ID = "5e280fab418a84a0461fa49a"
DISCORD = "https://cdn.discordapp.com/attachments/1012345678901234567/1123456789012345678/v.ogg"

# (URL as pasted, platform id, kind): at least one of every shape each platform accepts.
KINDS = [
    (YT, "youtube", LinkKind.VIDEO),
    ("https://youtu.be/dQw4w9WgXcQ?si=x", "youtube", LinkKind.VIDEO),
    ("https://www.youtube.com/shorts/aqz-KE-bpKQ", "youtube", LinkKind.VIDEO),
    ("https://www.youtube.com/live/dQw4w9WgXcQ", "youtube", LinkKind.VIDEO),
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", LinkKind.VIDEO),
    ("https://x.com/i/spaces/1YqKDqDXAbwKV", "x_spaces", LinkKind.SPACE),
    ("https://twitter.com/i/spaces/1OdKrBnaEPXKX/peek", "x_spaces", LinkKind.SPACE),
    ("https://x.com/NASA/status/1795524440221262263/video/2", "x_video", LinkKind.VIDEO),
    ("https://twitter.com/i/web/status/1795524440221262263", "x_video", LinkKind.VIDEO),
    (
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000681335183",
        "apple_podcasts",
        LinkKind.EPISODE,
    ),
    (
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736",
        "apple_podcasts",
        LinkKind.SHOW,
    ),
    ("https://open.spotify.com/episode/5Xt5DXGzch68nYYamXrNxZ", "spotify", LinkKind.EPISODE),
    ("https://open.spotify.com/intl-de/track/4cOdK2wGLETKBW3PvgPWqT", "spotify", LinkKind.TRACK),
    ("https://open.spotify.com/show/2MAi0BvDc6GTFvKFPXnkCL", "spotify", LinkKind.SHOW),
    ("https://spotify.link/AbCdEf123", "spotify", LinkKind.PAGE),
    ("https://www.instagram.com/reel/C9xQ3sVvJkL/", "instagram", LinkKind.VIDEO),
    ("https://www.instagram.com/tv/B7dZ0x1hA_q/", "instagram", LinkKind.VIDEO),
    ("https://www.instagram.com/p/C9xQ3sVvJkL/", "instagram", LinkKind.POST),
    (f"https://www.xiaohongshu.com/explore/{XHS_ID}", "xiaohongshu", LinkKind.POST),
    ("https://xhslink.com/a/Ab3dE5fG7hJ", "xiaohongshu", LinkKind.POST),
    (f"https://www.xiaoyuzhoufm.com/episode/{XYZ_ID}", "xiaoyuzhou", LinkKind.EPISODE),
    (f"https://xiaoyuzhoufm.com/podcast/{XYZ_ID}?s=eyJ1", "xiaoyuzhou", LinkKind.SHOW),
    (f"{DISCORD}?ex=66b1c2d3&is=66b07153&hm=0123abcd", "discord", LinkKind.ATTACHMENT),
    ("https://example.com/media/episode.mp3", "generic", LinkKind.FILE),
    ("https://example.com/v/clip.MP4", "generic", LinkKind.FILE),
    ("https://example.com/live/stream.m3u8", "generic", LinkKind.STREAM),
    ("https://cdn.example.org/v/manifest.mpd?X-Amz-Signature=abc", "generic", LinkKind.STREAM),
    ("https://feeds.example.com/podcast.xml", "generic", LinkKind.FEED),
    ("https://example.com/show/feed", "generic", LinkKind.FEED),
    ("https://example.com/talks/42", "generic", LinkKind.PAGE),
]


@pytest.mark.parametrize(("url", "platform_id", "kind"), KINDS)
def test_kind_of_every_shape(url: str, platform_id: str, kind: LinkKind) -> None:
    info = describe(REGISTRY, url)
    assert (info.platform, info.kind, info.playlist) == (platform_id, kind, PlaylistHandling.NONE)
    assert info.url == REGISTRY.match(url).url  # the URL a job would store
    assert not info.fetched
    assert info.media is None


def test_every_platform_is_covered() -> None:
    covered = {platform_id for _, platform_id, _ in KINDS}
    assert covered == {platform.id for platform in REGISTRY.all()}


@pytest.mark.parametrize(("url", "platform_id", "canonical"), CANONICAL)
def test_canonical_forms_agree_with_submit(url: str, platform_id: str, canonical: str) -> None:
    info = describe(REGISTRY, url)
    assert (info.platform, info.url) == (platform_id, canonical)


@pytest.mark.parametrize("platform", REGISTRY.all(), ids=lambda platform: platform.id)
def test_platform_facts_are_shown(platform: Platform) -> None:
    info = describe(REGISTRY, platform.example_urls[0])
    assert info.platform_name == platform.name
    assert info.needs_cookies == platform.needs_cookies
    assert (MediaKind.VIDEO in info.media_kinds) == platform.has_video
    assert MediaKind.AUDIO in info.media_kinds


class TestPlaylists:
    PLAYLIST = f"https://www.youtube.com/playlist?list={LIST}"
    VIDEO_IN_LIST = f"{YT}&list={LIST}&index=3"

    def test_bare_playlist_is_refused_not_raised(self) -> None:
        info = describe(REGISTRY, self.PLAYLIST)
        assert (info.kind, info.playlist) == (LinkKind.PLAYLIST, PlaylistHandling.REFUSED)
        assert info.url == self.PLAYLIST
        with pytest.raises(AudiograbError) as caught:  # what submit says for the same link
            REGISTRY.match(self.PLAYLIST)
        assert caught.value.code is ErrorCode.INVALID_REQUEST

    def test_bare_playlist_with_flag_is_expanded(self) -> None:
        info = describe(REGISTRY, self.PLAYLIST, playlist=True)
        assert (info.kind, info.playlist) == (LinkKind.PLAYLIST, PlaylistHandling.EXPANDED)

    def test_video_in_a_list_is_the_video_only(self) -> None:
        info = describe(REGISTRY, self.VIDEO_IN_LIST)
        assert (info.kind, info.playlist, info.url) == (
            LinkKind.VIDEO,
            PlaylistHandling.ITEM_ONLY,
            YT,
        )

    def test_video_in_a_list_with_flag_is_the_list(self) -> None:
        info = describe(REGISTRY, self.VIDEO_IN_LIST, playlist=True)
        assert (info.kind, info.playlist, info.url) == (
            LinkKind.PLAYLIST,
            PlaylistHandling.EXPANDED,
            f"{YT}&list={LIST}",
        )

    def test_single_item_with_flag_is_no_playlist(self) -> None:
        assert describe(REGISTRY, YT, playlist=True).playlist is PlaylistHandling.NONE


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://x.com/NASA/likes", ErrorCode.UNSUPPORTED_URL),
        ("https://www.youtube.com/@NASA", ErrorCode.UNSUPPORTED_URL),
        ("https://podcasts.apple.com/us/browse", ErrorCode.UNSUPPORTED_URL),
        ("https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy", ErrorCode.UNSUPPORTED_YET),
        ("ftp://example.com/a.mp3", ErrorCode.INVALID_URL),
        ("not a link", ErrorCode.INVALID_URL),
        ("https://user@example.com/a.mp3", ErrorCode.INVALID_URL),
    ],
)
def test_links_we_cannot_take_raise_a_stable_code(url: str, code: ErrorCode) -> None:
    with pytest.raises(AudiograbError) as caught:
        describe(REGISTRY, url)
    assert caught.value.code is code
    assert caught.value.message
