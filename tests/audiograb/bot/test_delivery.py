"""What goes over the wire: form encoding, JSON-encoded keyboards, multipart uploads with
`attach://` references, and each kind of result with its tags."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter

from audiograb.bot.delivery import send_cached, send_output, sent_as
from audiograb.bot.filecache import SentAs
from audiograb.bot.keyboards import Option, Pick, choices
from audiograb.domain import AudioFormat, Job, JobRequest, MediaInfo, MediaKind
from audiograb.storage import LocalFiles, ObjectFiles
from tests.fakebotapi import TOKEN, FakeBotApi, fake_bot_api
from tests.media import make_tone, make_video
from tests.s3server import S3Server

pytestmark = pytest.mark.anyio

CHAT = 77


@asynccontextmanager
async def bot_on_fake() -> AsyncIterator[tuple[FakeBotApi, Bot]]:
    async with fake_bot_api() as api:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
        try:
            yield api, Bot(TOKEN, session=session)
        finally:
            await session.close()


def _job(path: Path, fmt: AudioFormat, media: MediaKind = MediaKind.AUDIO) -> Job:
    return Job(
        id="j1",
        request=JobRequest(url="https://example.org/x", format=fmt, media=media),
        platform="generic",
        media=MediaInfo(title="A Talk", uploader="The Host", duration=2.0),
        output_path=str(path),
    )


async def test_wire_format_and_flood_control() -> None:
    async with bot_on_fake() as (api, bot):
        markup = choices("t0k3n", (Option.M4A, Option.MP4))
        await bot.send_message(CHAT, "pick", reply_markup=markup)
        api.fail_next("sendMessage", retry_after=7)
        with pytest.raises(TelegramRetryAfter) as flood:
            await bot.send_message(CHAT, "again")
        with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
            await bot.send_audio(CHAT, "no-such-file")
    sent = api.calls_to("sendMessage")[0]
    assert sent.content_type == "application/x-www-form-urlencoded"
    assert sent.raw["chat_id"] == str(CHAT)
    assert sent.raw["reply_markup"].startswith('{"inline_keyboard"')
    [[m4a, mp4]] = sent.params["reply_markup"]["inline_keyboard"]
    assert Pick.unpack(m4a["callback_data"]) == Pick(token="t0k3n", option=Option.M4A)
    assert "Video" in mp4["text"]
    assert flood.value.retry_after == 7


async def test_audio_video_and_documents_with_their_tags(tmp_path: Path) -> None:
    audio = make_tone(tmp_path / "talk.mp3", seconds=2.0)
    video = make_video(tmp_path / "clip.mp4", seconds=1.0)
    flac = make_tone(tmp_path / "talk.flac", seconds=1.0)
    async with bot_on_fake() as (api, bot):
        as_audio = await send_output(bot, CHAT, _job(audio, AudioFormat.MP3), 2.4, LocalFiles())
        as_video = await send_output(
            bot, CHAT, _job(video, AudioFormat.MP4, MediaKind.VIDEO), 1.0, LocalFiles()
        )
        as_document = await send_output(bot, CHAT, _job(flac, AudioFormat.FLAC), 1.0, LocalFiles())
        await send_cached(bot, CHAT, as_audio)
    [upload, resend] = api.calls_to("sendAudio")
    assert upload.content_type == "multipart/form-data"
    assert upload.raw["audio"].startswith("attach://")
    assert upload.uploads["audio"].content == audio.read_bytes()
    assert upload.uploads["audio"].filename == "talk.mp3"
    assert (upload.params["title"], upload.params["performer"]) == ("A Talk", "The Host")
    assert upload.params["duration"] == "2"
    assert resend.uploads == {}
    assert resend.raw["audio"] == as_audio.file_id
    [clip] = api.calls_to("sendVideo")
    assert clip.params["supports_streaming"] == "true"
    assert clip.params["caption"] == "A Talk"
    assert api.calls_to("sendDocument")[0].uploads["document"].filename == "talk.flac"
    assert [as_audio.sent_as, as_video.sent_as, as_document.sent_as] == [
        SentAs.AUDIO,
        SentAs.VIDEO,
        SentAs.DOCUMENT,
    ]


def test_a_video_job_whose_source_is_sound_only_goes_out_as_audio(tmp_path: Path) -> None:
    job = _job(tmp_path / "talk.mp4", AudioFormat.MP4, MediaKind.VIDEO)
    assert job.media is not None
    sound = msgspec.structs.replace(job, media=msgspec.structs.replace(job.media, has_video=False))
    unknown = msgspec.structs.replace(job, media=msgspec.structs.replace(job.media, has_video=None))
    assert (sent_as(sound), sent_as(unknown)) == (SentAs.AUDIO, SentAs.VIDEO)


async def test_a_file_only_in_the_object_store_goes_out_the_same(
    tmp_path: Path, s3: S3Server
) -> None:
    audio = make_tone(tmp_path / "talk.mp3", seconds=2.0)
    body = audio.read_bytes()
    job = _job(audio, AudioFormat.MP3)
    stored = ObjectFiles(s3.store("bot-delivery"))
    await stored.publish(job)
    audio.unlink()  # this node never had it: another node ran the job
    async with bot_on_fake() as (api, bot):
        sent = await send_output(bot, CHAT, job, 2.0, stored)
    [upload] = api.calls_to("sendAudio")
    assert upload.uploads["audio"].content == body
    assert upload.uploads["audio"].filename == "talk.mp3"
    assert sent.sent_as is SentAs.AUDIO
