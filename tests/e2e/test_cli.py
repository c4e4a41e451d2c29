"""The CLI as a user runs it: the installed `audiograb` and `xdownloader` commands."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audiograb.engines.ffmpeg import probe
from tests.mediaserver import MediaServer

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def run_cli(
    *args: str, data: Path, command: str = "audiograb", private: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUDIOGRAB_DATA_DIR": str(data)}
    env["AUDIOGRAB_ALLOW_PRIVATE_NETWORKS"] = "true" if private else ""
    return subprocess.run(
        [str(BIN / command), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_bare_url_downloads_into_the_output_folder(server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "talks"
    result = run_cli(server.url("tone.m4a"), "-f", "mp3", "-o", f"{out}/", data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    written = Path(result.stdout.strip())
    assert written.parent == out.resolve()
    assert written.suffix == ".mp3"
    assert probe(written).audio_codec == "mp3"
    listing = run_cli("jobs", data=tmp_path / "d")
    assert "completed" in listing.stdout


def test_output_file_name_is_honoured(server: MediaServer, tmp_path: Path) -> None:
    target = tmp_path / "episode.opus"
    result = run_cli(
        "download", server.url("tone.mp3"), "-f", "opus", "-o", str(target), data=tmp_path / "d"
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == target.resolve()
    assert target.stat().st_size > 0


def test_xdownloader_converts_like_the_original_tool(media_root: Path, tmp_path: Path) -> None:
    source = tmp_path / "space.m4a"
    source.write_bytes((media_root / "tone.m4a").read_bytes())
    result = run_cli("convert", "-f", "mp4", str(source), command="xdownloader", data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "space.mp4").is_file()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/a.mp3", "invalid_url"),
        ("https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy", "unsupported_yet"),
    ],
)
def test_bad_input_is_one_clear_line(url: str, code: str, tmp_path: Path) -> None:
    result = run_cli("download", url, data=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert f"[{code}]" in result.stderr
    assert "Traceback" not in result.stderr


def test_failed_download_exits_non_zero(server: MediaServer, tmp_path: Path) -> None:
    result = run_cli("download", server.url("nothing-here.mp3"), data=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    assert last.endswith("[not_found]")


def test_loopback_is_refused_without_the_setting(server: MediaServer, tmp_path: Path) -> None:
    result = run_cli("download", server.url("tone.mp3"), data=tmp_path, private=False)
    assert result.returncode == 1
    assert "[forbidden_address]" in result.stderr


def test_platforms_lists_every_platform(tmp_path: Path) -> None:
    result = run_cli("platforms", data=tmp_path)
    assert result.returncode == 0
    for name in ("X Spaces", "YouTube", "Apple Podcasts", "Spotify"):
        assert name in result.stdout


def test_output_extension_chooses_the_format(server: MediaServer, tmp_path: Path) -> None:
    target = tmp_path / "episode.mp3"  # no -f: the name says mp3, not the default m4a
    result = run_cli("download", server.url("tone.m4a"), "-o", str(target), data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert probe(target).container == "mp3"


def test_output_named_for_another_format_is_refused(server: MediaServer, tmp_path: Path) -> None:
    target = tmp_path / "episode.mp3"
    result = run_cli(
        "download", server.url("tone.m4a"), "-f", "ogg", "-o", str(target), data=tmp_path / "d"
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("[invalid_request]")
    assert not target.exists()


def test_download_never_replaces_an_existing_file(server: MediaServer, tmp_path: Path) -> None:
    target = tmp_path / "episode.m4a"
    target.write_bytes(b"precious")
    result = run_cli("download", server.url("tone.m4a"), "-o", str(target), data=tmp_path / "d")
    assert result.returncode == 1
    assert "--overwrite" in result.stderr
    assert target.read_bytes() == b"precious"
    assert server.requests_for("tone.m4a") == []  # refused before anything was fetched
    result = run_cli(
        "download", server.url("tone.m4a"), "-o", str(target), "--overwrite", data=tmp_path / "d"
    )
    assert result.returncode == 0, result.stderr
    assert probe(target).audio_codec == "aac"


def test_convert_never_replaces_an_existing_file(media_root: Path, tmp_path: Path) -> None:
    source = tmp_path / "talk.m4a"
    source.write_bytes((media_root / "tone.m4a").read_bytes())
    existing = tmp_path / "talk.mp3"
    existing.write_bytes(b"precious")
    result = run_cli("convert", "-f", "mp3", str(source), data=tmp_path / "d")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("[invalid_request]")
    assert existing.read_bytes() == b"precious"
    result = run_cli("convert", "-f", "mp3", str(source), "--overwrite", data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert probe(existing).audio_codec == "mp3"


def test_convert_into_a_folder(media_root: Path, tmp_path: Path) -> None:
    source = tmp_path / "talk.m4a"
    source.write_bytes((media_root / "tone.m4a").read_bytes())
    (tmp_path / "out").mkdir()
    for output, folder in ((f"{tmp_path}/out", "out"), (f"{tmp_path}/new/", "new")):
        result = run_cli("convert", "-f", "opus", str(source), "-o", output, data=tmp_path / "d")
        assert result.returncode == 0, result.stderr
        assert probe(tmp_path / folder / "talk.opus").audio_codec == "opus"


def test_convert_with_video_means_mp4(media_root: Path, tmp_path: Path) -> None:
    source = tmp_path / "clip.mkv"
    source.write_bytes((media_root / "clip.mp4").read_bytes())
    result = run_cli("convert", "--video", "-f", "mp3", str(source), data=tmp_path / "d")
    assert result.returncode == 1
    assert "mp4" in result.stderr.strip().splitlines()[-1]
    result = run_cli("convert", "--video", str(source), data=tmp_path / "d")  # no -f: mp4
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / "clip.mp4").video_codec is not None
