"""Where `download` and `convert` write, and in which format: `-o`, `-f` and `--overwrite`."""

from pathlib import Path

from audiograb.cli.common import fail
from audiograb.domain import AudioFormat, AudiograbError, ErrorCode


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
    named = _format_named_by(dest)
    if chosen is None:
        found = named or (AudioFormat.MP4 if video else default)
        if found is None:
            fail("which format? pass -f FORMAT, or name the -o file with its extension")
    elif named is not None and named.value != chosen:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST,
            f"{dest} is named for {named.value}, not {chosen}; rename it or change -f",
        )
    else:
        found = AudioFormat(chosen)
    if video and found is not AudioFormat.MP4:
        fail("video is saved as mp4; drop -f or use -f mp4")
    return found


def refuse_existing(dest: Path, overwrite: bool) -> None:
    """Never replace a file the user has unless `--overwrite` says so."""
    if dest.exists() and not overwrite:
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST,
            f"{dest} already exists; pass --overwrite to replace it, or choose another -o",
        )


def _format_named_by(dest: Path | None) -> AudioFormat | None:
    if dest is None:
        return None
    try:
        return AudioFormat(dest.suffix.lstrip(".").lower())
    except ValueError:
        return None
