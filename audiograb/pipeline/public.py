"""Error messages as they may leave the process: files named by their public names.

Engines name the files they fail on (`could not decode audio from upload.txt`, FFmpeg's
`Error opening input file /…/work/<job>/x.m4a`), which is what a server log needs. A job's
`error`, its `job.failed` event and the webhook that carries it go to clients: there, every path
under the server's folders becomes its file name, and an upload's stored name becomes the name
it was uploaded under.
"""

import re
from collections.abc import Iterable
from pathlib import Path

from audiograb.domain import AudiograbError, Job

__all__ = ["UPLOAD_SCHEME", "public_error"]

UPLOAD_SCHEME = "upload:"
"""How an upload job's `request.url` starts: `upload:<the name it was uploaded under>`."""

# A path runs until whitespace or a quote; FFmpeg adds a `file:` in front, which goes too.
_PATH_TAIL = r"(?:/[^\s'\"]*)?"


def public_error(error: AudiograbError, job: Job, roots: Iterable[Path]) -> AudiograbError:
    """`error` with every path under `roots` replaced by its file name, and an upload's stored
    file name by its uploaded one (the same error when nothing needed replacing)."""
    names = _public_names(job)
    message = error.message
    for root in sorted({str(r) for r in roots}, key=len, reverse=True):
        pattern = re.compile(r"(?:file:)?" + re.escape(root) + _PATH_TAIL)
        message = pattern.sub(lambda found: _name_of(found.group(0), names), message)
    for stored, public in names.items():
        message = re.sub(rf"(?<![\w.-]){re.escape(stored)}(?![\w.-])", public, message)
    if message == error.message:
        return error
    return AudiograbError(error.code, message)


def _public_names(job: Job) -> dict[str, str]:
    """The stored file names of `job` that clients know under another name."""
    if job.download_path is None or not job.request.url.startswith(UPLOAD_SCHEME):
        return {}
    return {Path(job.download_path).name: job.request.url.removeprefix(UPLOAD_SCHEME)}


def _name_of(path: str, names: dict[str, str]) -> str:
    name = Path(path.removeprefix("file:")).name
    return names.get(name, name)
