"""The download preparation: X cookies in a private file, resolved metadata winning."""

import stat
from pathlib import Path

from audiograb.config import load_settings
from audiograb.domain import MediaInfo
from audiograb.engines import ytdlp
from audiograb.engines.netguard import AddressPolicy
from audiograb.pipeline import resolving
from audiograb.platforms import default_registry
from audiograb.platforms.resolve import Resolved

REGISTRY = default_registry()
SPACE = "https://x.com/i/spaces/1YqKDqDXAbwKV"


def prepare(url: str, tmp_path: Path, **settings: object) -> resolving.Preparation:
    loaded = load_settings(environ={}, data_dir=tmp_path, **settings)
    matched = REGISTRY.match(url)
    return resolving.preparation_for(
        loaded, matched, REGISTRY.resolver_for(matched.platform.id), AddressPolicy()
    )


def test_x_cookies_go_to_a_private_copy(tmp_path: Path) -> None:
    own = tmp_path / "cookies.txt"
    own.write_text("# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\tabc\n")
    prep = prepare(SPACE, tmp_path, x_auth_token="secret-token", x_ct0="csrf")
    assert "secret-token" not in repr(prep)
    options = ytdlp.DownloadOptions(work_dir=tmp_path, cookies_file=str(own))
    written = Path(prep.with_cookies(options).cookies_file or "")
    assert written != own
    assert written.parent == tmp_path
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    text = written.read_text()
    assert "\tSID\tabc" in text
    assert ".x.com\tTRUE\t/\tTRUE\t" in text
    assert "\tauth_token\tsecret-token" in text
    assert ".twitter.com" in text
    assert "\tct0\tcsrf" in text
    assert "secret" not in own.read_text()


def test_no_x_cookies_elsewhere_or_unset(tmp_path: Path) -> None:
    options = ytdlp.DownloadOptions(work_dir=tmp_path)
    youtube = prepare("https://youtu.be/dQw4w9WgXcQ", tmp_path, x_auth_token="t")
    assert youtube.with_cookies(options) is options
    assert prepare(SPACE, tmp_path).with_cookies(options) is options


def test_resolved_metadata_wins(tmp_path: Path) -> None:
    found = MediaInfo(title="ep1", uploader=None, duration=3.0, extractor="generic", filesize=9)
    resolved = Resolved(
        media_url="https://cdn/ep1.mp3",
        media=MediaInfo(title="Monday news", uploader="The Daily", extractor="rss"),
    )
    merged = resolving.merge_media(found, resolved)
    assert (merged.title, merged.uploader, merged.extractor) == ("Monday news", "The Daily", "rss")
    assert (merged.duration, merged.filesize) == (3.0, 9)
    assert resolving.merge_media(found, None) is found
