"""Where `download`, `convert` and `transcribe` write, and in which format: `-o`, `-f` and
`--overwrite`; and whether they can write there at all, checked before any work starts."""

import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from audiograb.domain import AudioFormat, AudiograbError, ErrorCode

F = TypeVar("F", bound=StrEnum)


def split_output(output: str | None) -> tuple[Path, Path | None]:
    """`-o` names a folder (existing, or written with a trailing slash) or a file."""
    if output is None:
        return Path.cwd(), None
    path = Path(output)
    if output.endswith(("/", "\\")) or path.is_dir():
        return path, None
    return path.parent, path


def choose_format(
    chosen: str | None, dest: Path | None, default: AudioFormat | None, *, video: bool = False
) -> AudioFormat:
    """The output format: `-f`, else the one the `-o` file's extension names, else `default`
    (MP4 with `--video`, the one format that keeps video).

    An `-o` file named for another format than `-f` is refused: `episode.mp3` holding M4A data
    fools players and people alike. Names with other extensions (or none) are taken as given.
    """
    found = pick_format(AudioFormat, chosen, dest, AudioFormat.MP4 if video else default)
    if video and found is not AudioFormat.MP4:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, "video is saved as mp4; drop -f or use -f mp4"
        )
    return found


def pick_format(formats: type[F], chosen: str | None, dest: Path | None, default: F | None) -> F:
    """`-f`, else the format the `-o` file's extension names, else `default`; `-f` and an
    extension that disagree are refused (`invalid_request`)."""
    named = _format_named_by(formats, dest)
    if chosen is None:
        found = named or default
        if found is None:
            raise AudiograbError(
                ErrorCode.INVALID_REQUEST,
                "which format? pass -f FORMAT, or name the -o file with its extension",
            )
        return found
    if named is not None and named.value != chosen:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST,
            f"{dest} is named for {named.value}, not {chosen}; rename it or change -f",
        )
    return formats(chosen)


def check_writable(folder: Path) -> None:
    """Make sure a file can be written in `folder` (made if missing), before any download or
    conversion: `not_writable` now beats a failure after minutes of downloading."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = "a file, not a folder" if isinstance(error, FileExistsError) else error.strerror
        raise AudiograbError(
            ErrorCode.NOT_WRITABLE, f"cannot write in {folder}: {(reason or error)}".rstrip()
        ) from error


def refuse_existing(dest: Path, overwrite: bool) -> None:
    """Never replace a file the user has unless `--overwrite` says so."""
    if dest.exists() and not overwrite:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST,
            f"{dest} already exists; pass --overwrite to replace it, or choose another -o",
        )


def _format_named_by(formats: type[F], dest: Path | None) -> F | None:
    if dest is None:
        return None
    try:
        return formats(dest.suffix.lstrip(".").lower())
    except ValueError:
        return None
