"""`WS /api/transcribe/live` over a real uvicorn server with the real bundled tiny.en.

LibriVox speech streamed through the protocol must come out as the offline transcription
does; silence must come out as nothing; mistakes get error codes and the server carries on;
capacity is enforced and a client that vanishes gives its slot back.
"""

import itertools
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import anyio
import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from audiograb.cli.live import live_url, read_pcm16, stream_pcm
from audiograb.config import Settings
from audiograb.domain import JobRequest, JobState, TranscriptFormat, render
from audiograb.pipeline import open_audiograb
from tests import speech
from tests.e2e.api_support import API_KEY, RunningApi, running_api
from tests.wer import word_error_rate

pytestmark = pytest.mark.anyio

MAX_WER = 0.20
FRAME = 3200  # 100 ms of PCM16 at 16 kHz


@pytest.fixture(scope="module")
def speech_pcm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The LibriVox clips joined (about 29 s), as the PCM16 the protocol carries."""
    root = tmp_path_factory.mktemp("live-speech")
    return read_pcm16(speech.join_clips(root / "once.wav", speech.librivox_clips()))


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, api_keys=(API_KEY,), live_max_sessions=1)


@pytest.fixture
async def api(keyed: Settings) -> AsyncIterator[RunningApi]:
    async with running_api(keyed) as running:
        yield running


def ws_url(api: RunningApi, *, token: str | None = API_KEY) -> str:
    url = live_url(api.base_url)
    return f"{url}?token={token}" if token else url


async def receive(socket: ClientConnection) -> dict[str, Any]:
    with anyio.fail_after(30):
        message: dict[str, Any] = json.loads(await socket.recv())
    return message


async def until(socket: ClientConnection, kind: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Messages up to the first of type `kind`: (that message, those before it)."""
    before: list[dict[str, Any]] = []
    while (message := await receive(socket))["type"] != kind:
        before.append(message)
    return message, before


async def start(socket: ClientConnection, **fields: str) -> dict[str, Any]:
    await socket.send(json.dumps({"type": "start", **fields}))
    return await receive(socket)


async def offline_text(settings: Settings, path: Path) -> str:
    """The file engine's transcript of `path` (through a transcription job), to compare with."""
    async with open_audiograb(settings) as ag:
        job = await ag.submit_file(path, JobRequest(url="", transcribe=True, keep_media=False))
        done = await ag.wait(job.id)
        assert done.state is JobState.COMPLETED
        return render(await ag.transcript(job.id), TranscriptFormat.TXT)


@pytest.mark.slow
async def test_streamed_speech_comes_out_as_the_offline_transcript_does(
    api: RunningApi, speech_pcm: bytes
) -> None:
    messages: list[dict[str, Any]] = []
    with anyio.fail_after(120):
        done = await stream_pcm(
            ws_url(api), speech_pcm, start={}, on_message=messages.append, speed=0
        )
    assert messages[0] == {
        "type": "ready",
        "model": "tiny.en",
        "sample_rate": 16000,
        "max_frame_bytes": 32000,
    }
    assert done["type"] == "done"
    finals = [m for m in messages if m["type"] == "final"]
    assert len(finals) >= 4  # one per clip, give or take a pause
    assert [f["utterance"] for f in finals] == sorted({f["utterance"] for f in finals})
    for previous, final in itertools.pairwise(finals):
        assert previous["end"] <= final["start"]  # disjoint audio: nothing said twice
    for final in finals:
        assert final["words"], final
        assert final["start"] <= final["words"][0]["start"] <= final["words"][-1]["end"]
        assert final["words"][-1]["end"] <= final["end"] + 0.01
    assert done["text"] == " ".join(f["text"] for f in finals)
    reference = speech.reference_text(speech.librivox_clips())
    assert word_error_rate(reference, done["text"]) < MAX_WER
    stats = [m for m in messages if m["type"] == "stats"]
    assert stats
    assert stats[-1]["audio"] == pytest.approx(len(speech_pcm) / 32000, abs=0.01)
    assert stats[-1]["lag"] == 0


@pytest.mark.slow
async def test_live_finals_agree_with_the_file_engine(
    keyed: Settings, speech_pcm: bytes, tmp_path: Path
) -> None:
    source = speech.join_clips(tmp_path / "once.wav", speech.librivox_clips())
    offline = await offline_text(keyed, source)
    async with running_api(keyed) as api:
        done = await stream_pcm(
            ws_url(api), speech_pcm, start={}, on_message=lambda _: None, speed=0
        )
    assert word_error_rate(offline, done["text"]) < MAX_WER, (offline, done["text"])


async def test_silence_and_noise_give_no_text(api: RunningApi) -> None:
    quiet = bytes(32000 * 3)
    hiss = bytes(b"\x10\x00\xf0\xff" * 8000 * 3)  # a faint square wave: noise, not speech
    messages: list[dict[str, Any]] = []
    done = await stream_pcm(
        ws_url(api), quiet + hiss, start={}, on_message=messages.append, speed=0
    )
    assert done == {"type": "done", "text": ""}
    assert not [m for m in messages if m["type"] in ("final", "partial")]


async def test_mistakes_get_error_codes_and_the_session_goes_on(
    api: RunningApi, speech_pcm: bytes
) -> None:
    async with connect(ws_url(api)) as socket:
        await socket.send(speech_pcm[:FRAME])  # audio before start
        assert (await receive(socket))["code"] == "invalid_message"
        await socket.send("{not json")
        assert (await receive(socket))["code"] == "invalid_message"
        await socket.send(json.dumps({"type": "start", "model": "../../etc"}))
        error = await receive(socket)
        assert (error["code"], error["fatal"]) == ("invalid_message", False)
        assert (await start(socket))["type"] == "ready"
        mistakes: list[tuple[str | bytes, str]] = [
            (b"\x01\x02\x03", "invalid_frame"),  # odd length: not PCM16
            (bytes(40_000), "invalid_frame"),  # over a second
            (json.dumps({"type": "start"}), "invalid_message"),  # started already
            (json.dumps({"type": "dance"}), "invalid_message"),
            (json.dumps([1, 2]), "invalid_message"),
        ]
        for bad, code in mistakes:
            await socket.send(bad)
            error, _ = await until(socket, "error")
            assert (error["code"], error["fatal"]) == (code, False), bad
        for offset in range(0, 32000 * 8, FRAME):  # the first clip, then stop
            await socket.send(speech_pcm[offset : offset + FRAME])
        await socket.send(json.dumps({"type": "stop"}))
        done, before = await until(socket, "done")
        assert "dashwood" in done["text"].lower()
        assert [m for m in before if m["type"] == "final"]
    async with connect(ws_url(api)) as socket:  # the server is fine
        assert (await start(socket))["type"] == "ready"


async def test_json_nested_too_deep_is_a_mistake_not_a_crash(api: RunningApi) -> None:
    deep = '{"type": "start", "extra": ' + "[" * 200_000
    async with connect(ws_url(api)) as socket:
        await socket.send(deep)
        error = await receive(socket)
        assert (error["code"], error["fatal"]) == ("invalid_message", False)
        assert (await start(socket))["type"] == "ready"
        await socket.send(deep)
        error, _ = await until(socket, "error")
        assert (error["code"], error["fatal"]) == ("invalid_message", False)
        await socket.send(json.dumps({"type": "stop"}))
        assert (await until(socket, "done"))[0]["text"] == ""


async def test_an_api_key_is_needed_in_the_query_or_the_start_message(api: RunningApi) -> None:
    for url in [ws_url(api, token=None), ws_url(api, token="wrong")]:
        async with connect(url) as socket:
            # A key in the URL is checked at the handshake: a wrong one is refused before start.
            error = await start(socket) if url.endswith("/live") else await receive(socket)
            assert (error["type"], error["code"], error["fatal"]) == ("error", "unauthorized", True)
            with pytest.raises(ConnectionClosed) as closed:
                await receive(socket)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008
    async with connect(ws_url(api, token=None)) as socket:
        assert (await start(socket, token=API_KEY))["type"] == "ready"


async def test_guessing_keys_is_rate_limited_like_every_route(keyed: Settings) -> None:
    limited = msgspec.structs.replace(keyed, rate_limit_per_minute=2)
    async with running_api(limited) as api:
        codes = []
        for _ in range(3):
            async with connect(ws_url(api, token="guess")) as socket:
                error = await receive(socket)
                codes.append(error["code"])
                with pytest.raises(ConnectionClosed) as closed:
                    await receive(socket)
        assert codes == ["unauthorized", "unauthorized", "rate_limited"]
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013


async def test_past_capacity_a_session_is_busy_and_a_vanished_client_frees_its_slot(
    api: RunningApi, speech_pcm: bytes
) -> None:
    async with connect(ws_url(api)) as first:
        assert (await start(first))["type"] == "ready"
        for offset in range(0, 32000, FRAME):
            await first.send(speech_pcm[offset : offset + FRAME])
        async with connect(ws_url(api)) as second:
            error = await start(second)
            assert (error["code"], error["fatal"]) == ("busy", True)
        first.transport.abort()  # mid-stream, without a goodbye
    with anyio.fail_after(10):
        while api.ag.live.active:  # noqa: ASYNC110 - a counter the server owns, under a deadline
            await anyio.sleep(0.02)
    async with connect(ws_url(api)) as third:
        assert (await start(third))["type"] == "ready"


class _FakeChat(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat completions endpoint that upper-cases what it gets."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeChat.requests.append({"body": body, "auth": self.headers.get("Authorization")})
        answer = {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": body["messages"][-1]["content"].upper(),
                    }
                }
            ]
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_chat() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    finally:
        server.shutdown()
        thread.join()


async def test_stop_returns_raw_and_polished_text_side_by_side(
    keyed: Settings, speech_pcm: bytes, fake_chat: str
) -> None:
    polishing = msgspec.structs.replace(
        keyed, polish_url=fake_chat, polish_model="tidy-1", polish_api_key="sk-test"
    )
    _FakeChat.requests.clear()
    async with running_api(polishing) as api:
        done = await stream_pcm(
            ws_url(api), speech_pcm[: 32000 * 8], start={}, on_message=lambda _: None, speed=0
        )
    assert "dashwood" in done["text"].lower()
    assert done["polished"] == done["text"].upper()
    [request] = _FakeChat.requests
    assert request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "tidy-1"
    assert request["body"]["messages"][-1]["content"] == done["text"]


@pytest.mark.slow
async def test_the_cli_streams_a_file_and_prints_the_finals(
    api: RunningApi, tmp_path: Path
) -> None:
    clip = speech.librivox_clips()[1]  # "he was not an ill disposed young man", 3 s
    process = await anyio.run_process(
        [
            str(Path(sys.executable).parent / "audiograb"),
            "live",
            str(clip),
            "--url",
            api.base_url,
            "--token",
            API_KEY,
            "--speed",
            "2",
        ],
        check=False,
        env={**os.environ, "AUDIOGRAB_DATA_DIR": str(tmp_path)},
    )
    assert process.returncode == 0, process.stderr.decode()
    printed = process.stdout.decode().strip().lower()
    assert "young man" in printed
    assert len(printed.splitlines()) == 1
