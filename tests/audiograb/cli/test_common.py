"""The CLI's reading of a typed link: what the bare-URL shortcut takes, the registry accepts."""

import pytest

from audiograb.cli.common import looks_like_url, with_scheme
from audiograb.platforms import default_registry


@pytest.mark.parametrize(
    ("typed", "platform_id"),
    [
        ("x.com/i/spaces/1YqKDqDXAbwKV", "x_spaces"),
        ("twitter.com/NASA/status/1795524440221262263", "x_video"),
        ("youtu.be/dQw4w9WgXcQ", "youtube"),
        ("www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube"),
        ("https://example.com/a.mp3", "generic"),
    ],
)
def test_links_typed_without_a_scheme_are_downloadable(typed: str, platform_id: str) -> None:
    # `audiograb x.com/i/spaces/ID` was taken for a URL, then refused as one without a scheme.
    assert looks_like_url(typed)
    assert default_registry().match(with_scheme(typed)).platform.id == platform_id


@pytest.mark.parametrize("text", ["talk.m4a", "ftp://example.com/a.mp3", "x.company/a"])
def test_other_arguments_are_left_for_the_registry_to_judge(text: str) -> None:
    assert with_scheme(text) == text
