"""The README's promises for every command (issue 18): one error line with a code, nothing
replaced without `--overwrite`, the destination checked before anything is fetched, honest
output when piped, nothing left behind."""

import os
import re
import socket
from pathlib import Path

import pytest

from audiograb.engines.ffmpeg import probe
from tests import speech
from tests.e2e.test_cli import run_cli
from tests.media import make_tone
from tests.mediaserver import MediaServer, media_server

pytestmark = pytest.mark.slow

ERROR_LINE = re.compile(r"error: .+ \[[a-z_]+\]")
CLIP = speech.LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"


def _last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def _noise(path: Path) -> Path:
    path.write_bytes(os.urandom(200_000))
    return path


def test_random_bytes_are_not_media_from_a_file_or_a_url(tmp_path: Path) -> None:
    noise = _noise(tmp_path / "noise.mp3")
    from_file = run_cli("transcribe", str(noise), data=tmp_path / "d")
    assert from_file.returncode == 1, from_file.stdout
    assert _last_line(from_file.stderr).endswith("[not_media]")
    with media_server(tmp_path) as site:
        by_url = run_cli("transcribe", site.url("noise.mp3"), data=tmp_path / "d")
        downloaded = run_cli(
            "download", site.url("noise.mp3"), "-o", f"{tmp_path}/out/", data=tmp_path / "d"
        )
    assert by_url.returncode == 1, by_url.stdout
    assert _last_line(by_url.stderr).endswith("[not_media]")
    assert downloaded.returncode == 1, downloaded.stdout
    assert _last_line(downloaded.stderr).endswith("[not_media]")


def test_transcribe_never_replaces_a_file_nor_misnames_one(tmp_path: Path) -> None:
    keep = tmp_path / "keep.srt"
    keep.write_text("precious")
    replaced = run_cli("transcribe", str(CLIP), "-o", str(keep), data=tmp_path / "d")
    misnamed = run_cli(
        "transcribe", str(CLIP), "-f", "srt", "-o", str(tmp_path / "t.txt"), data=tmp_path / "d"
    )
    assert replaced.returncode == 1
    assert "--overwrite" in replaced.stderr
    assert _last_line(replaced.stderr).endswith("[invalid_request]")
    assert keep.read_text() == "precious"
    assert misnamed.returncode == 1
    assert _last_line(misnamed.stderr).endswith("[invalid_request]")
    assert not (tmp_path / "t.txt").exists()


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    [
        (["convert", "nonexistent.wav"], "file_not_found", 1),
        (["batch", "nonexistent.txt"], "file_not_found", 1),
        (["live", "nonexistent.wav"], "file_not_found", 1),
        (["convert", "{tone}"], "invalid_request", 1),  # no format: which one?
        (["convert", "--video", "-f", "mp3", "{tone}"], "invalid_request", 1),
        (["download", "--video", "-f", "mp3", "https://example.com/a.mp4"], "invalid_request", 1),
        (["download"], "usage", 2),
        (["convert", "--no-such-option", "{tone}"], "usage", 2),
        (["jobs", "show"], "usage", 2),
    ],
)
def test_every_error_is_one_line_with_a_code(
    args: list[str], code: str, exit_code: int, tmp_path: Path
) -> None:
    tone = make_tone(tmp_path / "tone.wav", seconds=1.0)
    result = run_cli(*(a.format(tone=tone) for a in args), data=tmp_path / "d")
    assert result.returncode == exit_code, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert ERROR_LINE.fullmatch(result.stderr.strip()), result.stderr
    assert result.stderr.strip().endswith(f"[{code}]")


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("{tmp}/a-file/", "not_writable"),
        ("{tmp}/a-file/sub/", "not_writable"),
        ("/sys/", "not_writable"),
        ("/sys/talk.m4a", "not_writable"),
    ],
)
def test_an_unwritable_destination_is_refused_before_downloading(
    server: MediaServer, tmp_path: Path, output: str, reason: str
) -> None:
    (tmp_path / "a-file").write_text("a file, not a folder")
    result = run_cli(
        "download", server.url("tone.m4a"), "-o", output.format(tmp=tmp_path), data=tmp_path / "d"
    )
    assert result.returncode == 1
    assert ERROR_LINE.fullmatch(_last_line(result.stderr)), result.stderr
    assert _last_line(result.stderr).endswith(f"[{reason}]")
    assert server.requests_for("tone.m4a") == []


def test_an_unwritable_transcript_is_refused_before_transcribing(tmp_path: Path) -> None:
    result = run_cli("transcribe", str(CLIP), "-o", "/sys/t.txt", data=tmp_path / "d")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("[not_writable]")
    assert "transcribing" not in result.stderr


def test_options_may_come_before_the_url(server: MediaServer, tmp_path: Path) -> None:
    result = run_cli(
        "-f",
        "mp3",
        "--priority",
        "7",
        server.url("tone.m4a"),
        "-o",
        f"{tmp_path}/out/",
        command="xdownloader",
        data=tmp_path / "d",
    )
    assert result.returncode == 0, result.stderr
    assert probe(Path(result.stdout.strip())).audio_codec == "mp3"
    shown = run_cli("jobs", data=tmp_path / "d")
    assert "completed" in shown.stdout


def test_piped_progress_ends_on_the_final_figures(server: MediaServer, tmp_path: Path) -> None:
    result = run_cli(
        "download",
        server.url("long.m4a"),
        "-f",
        "mp3",
        "-o",
        f"{tmp_path}/out/",
        data=tmp_path / "d",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    downloading = [line for line in lines if line.startswith("downloading ")]
    converting = [line for line in lines if line.startswith("converting ")]
    assert "100.0%" in downloading[-1], lines
    assert "100.0%" in converting[-1], lines
    assert lines[-1].startswith("completed"), lines


def test_a_transcript_to_stdout_leaves_no_file_behind(tmp_path: Path) -> None:
    result = run_cli("transcribe", str(CLIP), data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "young man" in result.stdout.lower()
    assert list((tmp_path / "d" / "output").glob("*")) == []


@pytest.mark.parametrize(
    ("path", "code"),
    [("empty.mp3", "not_media"), ("http://no-such-host.invalid/a.mp3", "not_found")],
)
def test_permanent_failures_are_not_retried(tmp_path: Path, path: str, code: str) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    with media_server(tmp_path) as site:
        url = path if "://" in path else site.url(path)
        result = run_cli("download", url, "-o", f"{tmp_path}/out/", data=tmp_path / "d")
    assert result.returncode == 1
    assert "retry" not in result.stderr
    assert _last_line(result.stderr).endswith(f"[{code}]")


def test_a_retry_is_shown_as_it_is_planned(tmp_path: Path) -> None:
    with socket.socket() as unused:  # a port nothing listens on: refused, a transient failure
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    os.environ["AUDIOGRAB_RETRY_BASE_DELAY"] = "0.2"
    try:
        result = run_cli("download", f"http://127.0.0.1:{port}/a.mp3", data=tmp_path / "d")
    finally:
        del os.environ["AUDIOGRAB_RETRY_BASE_DELAY"]
    assert result.returncode == 1
    retries = [line for line in result.stderr.splitlines() if line.startswith("retry ")]
    assert [line.split(" in ")[0] for line in retries] == ["retry 1/3", "retry 2/3", "retry 3/3"]
    assert _last_line(result.stderr).endswith("[network]")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["download", "{loopback}"], "AUDIOGRAB_ALLOW_PRIVATE_NETWORKS"),
        (["schedule", "https://example.com/a.mp3"], "--at"),
        (["schedule", "https://example.com/a.mp3", "--at", "tomorrow"], "--at"),
        (["schedule", "https://example.com/a.mp3", "--cron", "61 * * * *"], "--cron"),
        (["batch", "{playlists}"], "audiograb download --playlist"),
    ],
)
def test_messages_name_what_to_type(
    server: MediaServer, tmp_path: Path, args: list[str], words: str
) -> None:
    playlists = tmp_path / "urls.txt"
    playlists.write_text(
        "https://www.youtube.com/playlist?list=PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf\n"
    )
    argv = [a.format(loopback=server.url("tone.m4a"), playlists=playlists) for a in args]
    result = run_cli(*argv, data=tmp_path / "d", private=False)
    assert result.returncode == 1, result.stderr
    assert words in result.stderr.strip().splitlines()[0 if args[0] == "batch" else -1]


def test_a_direct_link_takes_its_title_from_the_files_tags(tmp_path: Path) -> None:
    make_tone(tmp_path / "libri.mp3", seconds=1.0, title="Libri MP3")
    with media_server(tmp_path) as site:
        result = run_cli(
            "download", site.url("libri.mp3"), "-o", f"{tmp_path}/out/", data=tmp_path / "d"
        )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).name.startswith("Libri MP3 [")
    assert "Libri MP3" in run_cli("jobs", data=tmp_path / "d").stdout


def test_a_bare_command_shows_its_help_not_an_error(tmp_path: Path) -> None:
    result = run_cli(data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: audiograb [OPTIONS] COMMAND [ARGS]...")
    assert result.stderr == ""
