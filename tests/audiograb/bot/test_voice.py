"""Media sent to be transcribed: voice, video and files, messages that go wrong or come twice;
the user always hears what happened."""

import functools
from pathlib import Path
from typing import Any

import pytest

from audiograb.bot import Limits, texts
from audiograb.domain import JobState
from audiograb.engines.ffmpeg import video_encoder_for
from tests.audiograb.bot.conftest import USER_A, USER_B, Harness, running_bot
from tests.fakebotapi import ApiCall
from tests.media import ffmpeg_exe, run_ffmpeg

pytestmark = pytest.mark.anyio

SPEECH = Path(__file__).parents[2] / "data" / "librivox"
CLIP = SPEECH / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an ill disposed…"


def _voice(h: Harness, file_id: str, **extra: Any) -> int:
    voice = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "duration": 3, **extra}
    return h.api.push("message", h.api.user_message(USER_A, voice=voice))


def _edited_to(text: str, call: ApiCall) -> bool:
    return call.ok and text in call.params["text"]


async def test_a_file_that_cannot_be_fetched_is_reported_and_frees_the_slot(
    tmp_path: Path,
) -> None:
    limits = Limits(upload_bytes=50_000_000, download_bytes=20_000_000, jobs_per_user=1)
    async with running_bot(tmp_path, limits=limits, edit_interval=0.2) as h:
        _voice(h, "gone-from-telegram")
        [gone] = await h.api.wait_for(
            "editMessageText", where=functools.partial(_edited_to, "could not fetch")
        )
        h.api.fail_next("getFile", error_code=400, description="Bad Request: file is too big")
        _voice(h, h.api.add_file(CLIP.read_bytes()))  # no size given, over the limit
        [big] = await h.api.wait_for(
            "editMessageText", where=functools.partial(_edited_to, "this bot can fetch")
        )
        _voice(h, "huge", file_size=30_000_000)
        [huge] = await h.api.wait_for("sendMessage", where=functools.partial(_edited_to, "30.0 MB"))
        # The one slot this user has was given back each time: a good voice message runs.
        _voice(h, h.api.add_file(CLIP.read_bytes()), file_size=CLIP.stat().st_size)
        await h.api.wait_for(
            "sendMessage", where=functools.partial(_edited_to, "young man"), within=60
        )
        jobs = await h.ag.list()
    assert gone.params["text"] == texts.NOT_FETCHED
    assert big.params["text"] == "❌ The file is over the 20.0 MB this bot can fetch from Telegram."
    assert huge.params["text"] == (
        "❌ The file is 30.0 MB, over the 20.0 MB this bot can fetch from Telegram."
    )
    assert [job.state for job in jobs] == [JobState.COMPLETED]
    assert not list((h.settings.work_root / "bot").glob("voice-*"))


async def test_the_same_voice_twice_is_two_jobs_on_two_copies(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        file_id = h.api.add_file(CLIP.read_bytes())
        _voice(h, file_id)
        _voice(h, file_id)  # forwarded again: the same file, the same unique id
        await h.api.wait_for(
            "sendMessage", count=2, where=functools.partial(_edited_to, "young man"), within=60
        )
        jobs = await h.ag.list()
    assert [job.state for job in jobs] == [JobState.COMPLETED] * 2
    assert len({job.source_file for job in jobs}) == 2


def _speech_video(dest: Path) -> Path:
    """The clip's speech under a test pattern, as an MP4 a phone would send."""
    encoder = video_encoder_for(ffmpeg_exe())
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-i", str(CLIP),
        "-c:v", encoder, "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(dest),
    )  # fmt: skip
    return dest


async def test_video_and_audio_sent_as_files_are_transcribed(tmp_path: Path) -> None:
    async with running_bot(tmp_path, edit_interval=0.2) as h:
        clip = _speech_video(tmp_path / "clip.mp4").read_bytes()
        video = {
            "file_id": h.api.add_file(clip),
            "file_unique_id": "u-video",
            "width": 320,
            "height": 240,
            "duration": 3,
            "file_name": "clip.mp4",
            "mime_type": "video/mp4",
        }
        h.api.push("message", h.api.user_message(USER_A, video=video))
        document = {
            "file_id": h.api.add_file(CLIP.read_bytes()),
            "file_unique_id": "u-document",
            "file_name": "interview.wav",
            "mime_type": "audio/x-wav",
        }
        h.api.push("message", h.api.user_message(USER_A, document=document))
        pdf = {"file_id": h.api.add_file(b"%PDF-1.4"), "file_unique_id": "u-pdf",
               "file_name": "notes.pdf", "mime_type": "application/pdf"}  # fmt: skip
        h.api.push("message", h.api.user_message(USER_A, document=pdf))
        await h.api.wait_for(
            "sendMessage", count=2, where=functools.partial(_edited_to, "young man"), within=60
        )
        [other] = await h.api.wait_for(
            "sendMessage", where=functools.partial(_edited_to, "voice message or an audio")
        )
        titles = [
            c.params["text"].splitlines()[0]
            for c in await h.api.wait_for(
                "editMessageText", count=2, where=lambda c: c.params["text"].endswith("\n✅ Done")
            )
        ]
        jobs = await h.ag.list()
    assert sorted(titles) == ["File · interview.wav", "Video · clip.mp4"]
    assert [job.state for job in jobs] == [JobState.COMPLETED] * 2
    assert other.params["text"] == texts.NOT_A_LINK


async def test_in_a_group_a_reply_with_transcribe_transcribes_the_voice(tmp_path: Path) -> None:
    group = -500
    async with running_bot(tmp_path, bot_allowed_ids=(group,), edit_interval=0.2) as h:
        # Privacy mode: the bot never gets the voice itself, only the command replying to it.
        voice = {
            "file_id": h.api.add_file(CLIP.read_bytes()),
            "file_unique_id": "u-group-voice",
            "duration": 3,
        }
        said = h.api.user_message(USER_B, chat_id=group, voice=voice)
        command = [{"type": "bot_command", "offset": 0, "length": len("/transcribe")}]
        for reply_to in (said, None):
            asked = h.api.user_message(
                USER_A, chat_id=group, text="/transcribe", entities=command,
                reply_to_message=reply_to,
            )  # fmt: skip
            h.api.push("message", asked)
        [usage] = await h.api.wait_for(
            "sendMessage", where=functools.partial(_edited_to, "Usage: /transcribe")
        )
        [transcript] = await h.api.wait_for(
            "sendMessage", where=functools.partial(_edited_to, "young man"), within=60
        )
        [job] = await h.ag.list()
    assert transcript.chat_id == group
    assert usage.params["text"] == texts.TRANSCRIBE_USAGE
    assert job.state is JobState.COMPLETED
