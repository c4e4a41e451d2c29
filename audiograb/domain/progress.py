"""Progress payloads, as the engines report them and the events carry them."""

import msgspec


class DownloadProgress(msgspec.Struct, frozen=True, kw_only=True):
    """Bytes arrived. HLS gives fragment counts and an estimated total instead of a total.

    Downloads that FFmpeg does (live streams, X Spaces) only know bytes and elapsed time, and
    say how long they have recorded.
    """

    downloaded_bytes: int
    total_bytes: int | None = None
    percent: float | None = None
    speed: float | None = None
    eta: float | None = None
    fragment_index: int | None = None
    fragment_count: int | None = None
    elapsed: float | None = None
    recorded: float | None = None
    """Seconds of a live stream recorded so far (FFmpeg downloads only)."""


class ConversionProgress(msgspec.Struct, frozen=True, kw_only=True):
    """FFmpeg wrote output up to `out_seconds` of the media; `speed` is times real time."""

    out_seconds: float
    percent: float | None = None
    speed: float | None = None
