"""Real human speech for tests: the LibriVox clips in tests/data/librivox and their references."""

import wave
from pathlib import Path

from tests.wer import read_references

LIBRIVOX = Path(__file__).parent / "data" / "librivox"
GAP_SECONDS = 1.0


def librivox_clips() -> list[Path]:
    """The clips, in a stable order."""
    return sorted(LIBRIVOX.glob("*.wav"))


def reference_text(clips: list[Path], repeats: int = 1) -> str:
    """What is said in `clips` (played `repeats` times), as one lowercase string."""
    references = read_references(LIBRIVOX / "transcription")
    return " ".join([references[clip.stem] for clip in clips] * repeats)


def join_clips(dest: Path, clips: list[Path], repeats: int = 1) -> Path:
    """All clips, `repeats` times over, in one 16 kHz mono WAV with a second between each."""
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        for i, clip in enumerate(clips * repeats):
            if i:
                out.writeframes(b"\x00\x00" * int(16_000 * GAP_SECONDS))
            with wave.open(str(clip), "rb") as source:
                assert (source.getnchannels(), source.getframerate()) == (1, 16_000)
                out.writeframes(source.readframes(source.getnframes()))
    return dest
