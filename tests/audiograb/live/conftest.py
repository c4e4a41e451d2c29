"""Shared by the live tests: the bundled model (loaded once) and the speech as PCM16."""

import wave
from pathlib import Path

import faster_whisper
import pytest

from audiograb.engines.whisper import ModelPool, resolve_model
from tests import speech


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def tiny() -> faster_whisper.WhisperModel:
    return ModelPool().get(resolve_model(None, allow_download=False))


@pytest.fixture(scope="session")
def speech_pcm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The LibriVox clips joined with a second of silence between (about 29 s), as PCM16."""
    path = speech.join_clips(tmp_path_factory.mktemp("live") / "once.wav", speech.librivox_clips())
    with wave.open(str(path), "rb") as source:
        return source.readframes(source.getnframes())


def clip_pcm(name: str) -> bytes:
    return wav_pcm(Path(speech.LIBRIVOX) / f"{name}.wav")


def wav_pcm(path: Path) -> bytes:
    """The samples of a 16 kHz mono PCM16 WAV file."""
    with wave.open(str(path), "rb") as source:
        return source.readframes(source.getnframes())
