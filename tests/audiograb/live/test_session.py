"""The live hub and its sessions, in process: capacity, frame checks, events, the transcript."""

import anyio
import pytest

from audiograb.domain.errors import AudiograbError, ErrorCode
from audiograb.engines.whisper import LanguagePolicy, ModelPool
from audiograb.pipeline.live import Done, Final, LiveCode, LiveError, LiveHub, Stats
from tests.audiograb.live.conftest import clip_pcm
from tests.audiograb.live.test_streaming import FIRST_CLIP, FIRST_TEXT, FRAME
from tests.wer import word_error_rate

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def pool() -> ModelPool:
    return ModelPool()


def hub(pool: ModelPool, capacity: int = 1, counts: list[int] | None = None) -> LiveHub:
    return LiveHub(
        capacity=capacity,
        limiter=anyio.CapacityLimiter(1),
        models=pool,
        on_count=counts.append if counts is not None else None,
    )


async def test_a_session_turns_audio_into_finals_and_a_transcript(pool: ModelPool) -> None:
    counts: list[int] = []
    live = hub(pool, counts=counts)
    pcm = clip_pcm(FIRST_CLIP) + bytes(16000)
    async with live.session() as session:
        assert session.model == "tiny.en"
        for offset in range(0, len(pcm), FRAME):
            session.feed(pcm[offset : offset + FRAME])
        session.stop()
        with anyio.fail_after(60):
            events = [event async for event in session.events()]
            done = await session.done()
    finals = [e for e in events if isinstance(e, Final)]
    assert [f.text for f in finals] == [done.text]
    assert isinstance(events[-1], Stats)
    assert events[-1].audio == pytest.approx(len(pcm) / 32000)
    assert events[-1].lag == 0
    assert done == Done(text=done.text)
    assert word_error_rate(FIRST_TEXT, done.text) < 0.15
    assert live.active == 0
    assert counts == [1, 0]


async def test_past_capacity_a_session_is_refused_busy(pool: ModelPool) -> None:
    live = hub(pool, capacity=1)
    async with live.session():
        with pytest.raises(LiveError) as refused:
            async with live.session():
                pass
    assert (refused.value.code, refused.value.fatal) == (LiveCode.BUSY, True)
    async with live.session():  # the slot is free again
        assert live.active == 1


@pytest.mark.parametrize("frame", [b"", b"\x01", bytes(32002)])
async def test_frames_that_are_not_pcm16_of_up_to_a_second_are_refused(
    pool: ModelPool, frame: bytes
) -> None:
    async with hub(pool).session() as session:
        with pytest.raises(LiveError) as refused:
            session.feed(frame)
        assert (refused.value.code, refused.value.fatal) == (LiveCode.INVALID_FRAME, False)
        session.feed(bytes(3200))  # and the session goes on


async def test_audio_after_stop_is_refused(pool: ModelPool) -> None:
    async with hub(pool).session() as session:
        session.stop()
        with pytest.raises(LiveError) as refused:
            session.feed(bytes(3200))
        assert refused.value.code == LiveCode.INVALID_MESSAGE
        assert await session.done() == Done(text="")


async def test_another_language_gets_the_multilingual_model(
    pool: ModelPool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    policy = LanguagePolicy(cache_dir=tmp_path_factory.mktemp("models"))
    live = LiveHub(capacity=1, limiter=anyio.CapacityLimiter(1), models=pool, policy=policy)
    async with live.session(language="zh") as session:
        assert session.model == "base"  # no model named: tiny.en cannot, base can
    with pytest.raises(AudiograbError) as caught:
        async with live.session(language="zh", model="tiny.en"):
            pass
    assert caught.value.code is ErrorCode.UNSUPPORTED_LANGUAGE
    assert "use the model 'base'" in caught.value.message
    assert live.active == 0
