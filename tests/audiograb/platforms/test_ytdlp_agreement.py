"""Our canonical URLs are ones real yt-dlp hands to the extractor we expect."""

import pytest
from yt_dlp.extractor import gen_extractor_classes

from audiograb.platforms import default_registry

_EXTRACTORS = list(gen_extractor_classes())


def _extractor_for(url: str) -> str:
    return next(str(ie.ie_key()) for ie in _EXTRACTORS if ie.suitable(url))


@pytest.mark.parametrize(
    ("url", "playlist", "extractor"),
    [
        ("https://youtu.be/dQw4w9WgXcQ?si=abc", False, "Youtube"),
        ("https://www.youtube.com/shorts/aqz-KE-bpKQ", False, "Youtube"),
        ("https://music.youtube.com/watch?v=dQw4w9WgXcQ", False, "Youtube"),
        (
            "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
            True,
            "YoutubeTab",
        ),
        ("https://twitter.com/i/spaces/1YqKDqDXAbwKV/peek", False, "TwitterSpaces"),
        ("https://mobile.twitter.com/NASA/status/1795524440221262263/video/1", False, "Twitter"),
        ("https://twitter.com/i/web/status/1795524440221262263", False, "Twitter"),
        ("https://vxtwitter.com/NASA/status/1795524440221262263", False, "Twitter"),
        ("https://x.com/NASA/status/1795524440221262263/photo/1", False, "Twitter"),
        ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", False, "Youtube"),
        ("https://instagr.am/p/C9xQ3sVvJkL/", False, "Instagram"),
        ("https://podcasts.apple.com/podcast/id1200361736?i=1000681335183", False, "ApplePodcasts"),
        ("https://instagram.com/natgeo/reels/C9xQ3sVvJkL?igsh=x", False, "Instagram"),
        ("https://xiaohongshu.com/discovery/item/66a1b2c3d4e5f60718293a4b", False, "XiaoHongShu"),
        ("https://example.com/live/stream.m3u8", False, "Generic"),
    ],
)
def test_canonical_url_reaches_the_expected_extractor(
    url: str, playlist: bool, extractor: str
) -> None:
    canonical = default_registry().match(url, playlist=playlist).url
    assert _extractor_for(canonical) == extractor
