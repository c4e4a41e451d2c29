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
    assert result.stderr.strip().endswith("[transcription_failed]")
