"""`audiograb transcribe` as a user runs it: the installed command, the bundled model, real
files; what goes wrong is said in one line, never a traceback."""

from pathlib import Path

import pytest

from tests import speech
from tests.e2e.test_cli import run_cli

pytestmark = pytest.mark.slow

CLIP = speech.LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an…"


def test_a_file_that_is_not_media_fails_in_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello, not audio\n")
    result = run_cli("transcribe", str(notes), data=tmp_path / "d")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "ExceptionGroup" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: could not decode audio")
    assert result.stderr.strip().endswith("[not_media]")


@pytest.mark.parametrize(
    ("name", "reason"), [("missing.wav", "no such file"), ("a-folder", "a folder, not a file")]
)
def test_a_path_that_is_no_file_is_named_as_such(tmp_path: Path, name: str, reason: str) -> None:
    (tmp_path / "a-folder").mkdir()
    result = run_cli("transcribe", str(tmp_path / name), data=tmp_path / "d")
    assert result.returncode == 1
    assert result.stderr == f"error: {reason}: {tmp_path / name} [file_not_found]\n"


def test_output_into_a_folder_is_named_after_the_input(tmp_path: Path) -> None:
    talk = tmp_path / "talk ü.wav"
    talk.write_bytes(CLIP.read_bytes())
    (tmp_path / "subs").mkdir()
    into_folder = run_cli(
        "transcribe", str(talk), "-f", "srt", "-o", str(tmp_path / "subs"), data=tmp_path / "d"
    )
    new_folder = run_cli(
        "transcribe", str(talk), "-o", f"{tmp_path / 'new' / 'deeper'}/", data=tmp_path / "d"
    )
    assert into_folder.returncode == 0, into_folder.stderr
    assert new_folder.returncode == 0, new_folder.stderr
    srt = tmp_path / "subs" / "talk ü.srt"
    txt = tmp_path / "new" / "deeper" / "talk ü.txt"
    assert into_folder.stdout == f"{srt}\n"
    assert new_folder.stdout == f"{txt}\n"
    assert srt.read_text().startswith("1\n00:00:00,000 --> ")
    assert "young man" in txt.read_text().lower()


def test_models_lists_the_installed_models_and_languages(tmp_path: Path) -> None:
    result = run_cli("models", data=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "tiny.en  [bundled]  en  (default)" in lines
    assert "base  [packaged]  every language below" in lines
    languages = lines[-1].removeprefix("languages: ").split()
    assert languages[0] == "en"
    assert {"zh", "es", "de", "ja"} <= set(languages)


def test_an_english_only_model_asked_for_chinese_names_the_model_that_would_do(
    tmp_path: Path,
) -> None:
    result = run_cli(
        "transcribe", str(CLIP), "--model", "tiny.en", "--language", "zh", data=tmp_path / "d"
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: the whisper model 'tiny.en' is English-only and cannot transcribe 'zh'; "
        "use the model 'base', or leave the model unset [unsupported_language]"
    )
