"""Where a job's files live: a private work folder while it runs, a named output when done.

Every job downloads into its own folder below `work_root`, so a cancelled or failed job is
cleaned up by removing one folder, and yt-dlp's `.part` files never mix between jobs.
"""

import re
import shutil
import unicodedata
from pathlib import Path

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_SPACES = re.compile(r"\s+")
MAX_STEM_CHARS = 120
# File systems limit a name to 255 bytes (ext4, btrfs, APFS...), and a stem gets up to 40 more:
# " [job id]", the extension and the converter's ".NAME.part" partial file.
MAX_STEM_BYTES = 200


def safe_stem(title: str | None, fallback: str) -> str:
    """Make a file-name stem from a title: no separators, control or reserved characters.

    Keeps non-Latin text (a 小红书 title stays readable) but cuts it to fit a file name: at most
    `MAX_STEM_CHARS` characters and `MAX_STEM_BYTES` bytes of UTF-8 (Chinese takes 3 bytes a
    character, emoji 4). Never returns an empty, hidden or dot-only name, so the result cannot
    climb out of the folder it is joined to.
    """
    text = unicodedata.normalize("NFC", title or "")
    text = _SPACES.sub(" ", _UNSAFE.sub(" ", text)).strip(" .")
    text = text[:MAX_STEM_CHARS]
    text = text.encode()[:MAX_STEM_BYTES].decode(errors="ignore")  # whole characters only
    return text.rstrip(" .") or fallback


class Workspace:
    """The folders of one AudioGrab instance: per-job work folders and finished outputs."""

    def __init__(self, work_root: Path, output_root: Path) -> None:
        self.work_root = work_root
        self.output_root = output_root

    def job_dir(self, job_id: str) -> Path:
        """The job's private work folder (created on demand)."""
        path = self.work_root / job_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def discard(self, job_id: str) -> None:
        """Remove the job's work folder and everything in it."""
        shutil.rmtree(self.work_root / job_id, ignore_errors=True)

    def output_path(
        self, title: str | None, job_id: str, extension: str, *, folder: Path | None = None
    ) -> Path:
        """An output path in `folder` (default: the output root) named after the title.

        The job id's prefix in the name keeps two jobs with the same title apart, and makes a
        resumed job write the very same file instead of a second copy.
        """
        stem = safe_stem(title, fallback=job_id)
        return (folder or self.output_root) / f"{stem} [{job_id[:8]}].{extension}"
