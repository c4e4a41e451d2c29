"""Transcripts from the chat, through the real pipeline and the bundled whisper model: the
transcript button, /transcribe URL and voice messages; long transcripts come as files."""

import functools
import shutil
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from audiograb.bot.delivery import TEXT_LIMIT, send_transcript
from audiograb.domain.transcript import Segment, Transcript
from tests.audiograb.bot.conftest import USER_A, USER_B, button, running_bot
from tests.fakebotapi import TOKEN, ApiCall, fake_bot_api

pytestmark = pytest.mark.anyio

CLIPS = Path(__file__).parents[2] / "data" / "librivox"
SPEECH = CLIPS / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an ill disposed…"


def _transcript_to(user: int, call: ApiCall) -> bool:
    return call.chat_id == user and "young man" in call.params["text"].lower()


@pytest.mark.slow
async def test_transcript_button_command_and_voice_message(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        shutil.copy(SPEECH, h.media.root / "speech.wav")
        url = h.media.url("/speech.wav")
        keyboard = await h.link_keyboard(USER_A, url)
        h.api.press(USER_A, keyboard, button(keyboard, "Transcript"))
        h.api.send_text(USER_B, f"/transcribe {url}")
        voice = {
            "file_id": h.api.add_file(SPEECH.read_bytes()),
            "file_unique_id": "voice-1",
            "duration": 3,
            "file_size": SPEECH.stat().st_size,
            "mime_type": "audio/ogg",
        }
        h.api.push("message", h.api.user_message(USER_A, voice=voice))
        for user, count in ((USER_A, 2), (USER_B, 1)):
            await h.api.wait_for(
                "sendMessage",
                count=count,
                where=functools.partial(_transcript_to, user),
                within=60,
            )
        jobs = await h.ag.list()
    assert len(jobs) == 3
    assert all(job.request.transcribe and not job.request.keep_media for job in jobs)
    assert h.api.calls_to("sendAudio") == []
    assert not list((h.settings.work_root / "bot").glob("voice-*"))  # the download is gone


async def test_long_transcripts_come_as_txt_and_srt_files() -> None:
    words = "word " * 50
    segments = tuple(
        Segment(index=i, start=i * 5.0, end=i * 5.0 + 4.0, text=words) for i in range(30)
    )
    transcript = Transcript(language="en", duration=150.0, segments=segments)
    assert len(transcript.text) > TEXT_LIMIT
    async with fake_bot_api() as api:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
        bot = Bot(TOKEN, session=session)
        try:
            await send_transcript(bot, USER_A, transcript, "talk")
            short = Transcript(language="en", duration=4.0, segments=segments[:1])
            await send_transcript(bot, USER_A, short, "talk")
        finally:
            await session.close()
    txt, srt = api.calls_to("sendDocument")
    assert txt.uploads["document"].filename == "talk.txt"
    assert srt.uploads["document"].filename == "talk.srt"
    assert srt.uploads["document"].content.startswith(b"1\n00:00:00,000 --> 00:00:0")
    [message] = api.calls_to("sendMessage")
    assert message.params["text"] == words.strip()
