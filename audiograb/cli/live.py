"""`audiograb live FILE`: stream an audio file to a server's live endpoint, print the finals.

A client of `WS /api/transcribe/live` for tests, scripts and trying a server out: the file is
decoded to 16 kHz mono PCM16 with PyAV and sent in 100 ms frames at real-time pace (or faster
with `--speed`), and each utterance's final text is printed as it arrives.
"""

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import asyncclick as click

from audiograb.cli.common import ExistingFile, fail, reports_errors, settings_of
from audiograb.domain import AudiograbError, ErrorCode

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

__all__ = ["LIVE_PATH", "command", "live_url", "read_pcm16", "stream_pcm"]

LIVE_PATH = "/api/transcribe/live"
SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.1

Message = dict[str, Any]


def live_url(base: str) -> str:
    """The WebSocket URL of the live endpoint under an http(s) or ws(s) base URL."""
    parts = urlsplit(base)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + LIVE_PATH, "", ""))


def read_pcm16(path: Path) -> bytes:
    """The audio of `path` as mono 16-bit little-endian PCM at 16 kHz; `not_media` when there
    is none to decode (random bytes, a text file, a video without sound, a playlist)."""
    # Imported here, not at the top: PyAV would slow every other command.
    from audiograb.engines.ffmpeg.inputs import decode_pcm16, open_failure

    try:
        pcm = decode_pcm16(path, sample_rate=SAMPLE_RATE)
    except Exception as error:  # PyAV's errors: no audio stream, nothing it can demux
        raise AudiograbError(
            ErrorCode.NOT_MEDIA, f"could not decode audio from {path.name}: {open_failure(error)}"
        ) from None
    if not pcm:
        raise AudiograbError(ErrorCode.NOT_MEDIA, f"no sound could be decoded from {path.name}")
    return pcm


async def stream_pcm(
    url: str,
    pcm: bytes,
    *,
    start: Message,
    on_message: Callable[[Message], None],
    speed: float = 1.0,
    frame_seconds: float = FRAME_SECONDS,
) -> Message:
    """Send `start`, `pcm` in frames (at `speed` times real time; 0: at once), then `stop`.

    Every server message goes to `on_message`; returns the last one (`done`, or the fatal
    `error` that ended the session).
    """
    from websockets.asyncio.client import connect  # here: slow to import, needed only here

    async with connect(url, max_size=None) as socket:
        await socket.send(json.dumps({"type": "start", **start}))
        first = json.loads(await socket.recv())
        on_message(first)
        if first.get("type") != "ready":
            return dict(first)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_send_audio, socket, pcm, speed, frame_seconds)
            last = await _receive_until_end(socket, on_message)
            tasks.cancel_scope.cancel()
        return last


async def _send_audio(
    socket: "ClientConnection", pcm: bytes, speed: float, frame_seconds: float
) -> None:
    frame = round(SAMPLE_RATE * frame_seconds) * 2
    began = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), frame)):
        if speed > 0:
            await anyio.sleep(max(0.0, began + index * frame_seconds / speed - time.monotonic()))
        await socket.send(pcm[offset : offset + frame])
    await socket.send(json.dumps({"type": "stop"}))


async def _receive_until_end(
    socket: "ClientConnection", on_message: Callable[[Message], None]
) -> Message:
    async for raw in socket:
        message: Message = json.loads(raw)
        on_message(message)
        if message.get("type") == "done" or (
            message.get("type") == "error" and message.get("fatal")
        ):
            return message
    return {"type": "error", "code": "closed", "message": "the server closed the connection"}


@click.command("live")
@click.argument("file", type=ExistingFile())
@click.option(
    "--url", default=None, help="Server base URL [default: http://HOST:PORT from settings]."
)
@click.option("--token", default=None, help="API key [default: the first of $AUDIOGRAB_API_KEYS].")
@click.option("--language", default=None, help="Language code; default: the model's or detected.")
@click.option("--model", default=None, help="Whisper model name on the server.")
@click.option("--prompt", default=None, help="Initial prompt: names, jargon, spelling hints.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0.0),
    default=1.0,
    show_default=True,
    help="Times real time to send at; 0 sends as fast as possible.",
)
@click.option("--partials", is_flag=True, help="Also show partials (on stderr).")
@click.option("--json", "as_json", is_flag=True, help="Print every server message as JSON.")
@click.pass_context
@reports_errors
async def command(
    ctx: click.Context,
    file: Path,
    url: str | None,
    token: str | None,
    language: str | None,
    model: str | None,
    prompt: str | None,
    speed: float,
    partials: bool,
    as_json: bool,
) -> None:
    """Stream FILE to a running server's live transcription and print the transcript."""
    settings = settings_of(ctx)
    base = url or f"http://{settings.host}:{settings.port}"
    key = token or (settings.api_keys[0] if settings.api_keys else None)
    pcm = await anyio.to_thread.run_sync(read_pcm16, file)
    start = {
        k: v
        for k, v in (("language", language), ("model", model), ("prompt", prompt), ("token", key))
        if v
    }

    def show(message: Message) -> None:
        kind = message.get("type")
        if as_json:
            click.echo(json.dumps(message, ensure_ascii=False))
        elif kind == "final" and message.get("text"):
            click.echo(message["text"])
        elif kind == "partial" and partials:
            click.echo(f"… {message['stable']} {message['unstable']}".rstrip(), err=True)
        elif kind == "error":
            click.echo(f"error: {message['message']} [{message['code']}]", err=True)
        sys.stdout.flush()

    try:
        last = await stream_pcm(live_url(base), pcm, start=start, on_message=show, speed=speed)
    except OSError as error:
        fail(f"cannot reach {base}: {error.strerror or error} [{ErrorCode.NETWORK.value}]")
    if last.get("type") != "done":
        fail(f"{last.get('message', 'the session failed')} [{last.get('code', 'unknown')}]")
