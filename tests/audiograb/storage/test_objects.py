"""Finished files in a real S3 server (SeaweedFS, signatures checked): upload, ranges, delete."""

import secrets
from pathlib import Path

import anyio
import obstore
import pytest

from audiograb.domain import AudiograbError, ErrorCode, Job, JobRequest, JobState
from audiograb.storage import FileInfo, LocalFiles, ObjectFiles, object_key
from tests.s3server import S3Server

pytestmark = pytest.mark.anyio


def _job(path: Path, job_id: str = "0123abcd") -> Job:
    return Job(
        id=job_id,
        request=JobRequest(url="https://example.com/a.mp3"),
        platform="generic",
        state=JobState.COMPLETED,
        created_at=0.0,
        updated_at=0.0,
        output_path=str(path),
    )


async def _read_all(files: ObjectFiles | LocalFiles, job: Job, start: int, stop: int) -> bytes:
    info = await files.info(job)
    return b"".join([chunk async for chunk in files.read(job, start, stop, info.etag)])


def _prefix() -> str:
    return "t" + secrets.token_hex(4)


async def _published(s3: S3Server, path: Path, body: bytes) -> tuple[ObjectFiles, Job]:
    """`body` written to `path` and uploaded under a fresh prefix, as a finished job's file."""
    await anyio.Path(path).write_bytes(body)
    files = ObjectFiles(s3.store(_prefix()))
    job = _job(path)
    await files.publish(job)
    return files, job


async def test_a_published_file_reads_back_whole_and_in_ranges(s3: S3Server, tmp_path: Path):
    body = secrets.token_bytes(300_000)  # several read chunks
    path = tmp_path / "Some Title [0123abcd].mp3"
    await anyio.Path(path).write_bytes(body)
    files = ObjectFiles(s3.store(prefix := _prefix()))
    job = _job(path)
    await files.publish(job)
    path.unlink()  # another node: no local copy, only the store
    info = await files.info(job)
    assert info.size == len(body)
    assert info.etag.startswith('"')
    assert await _read_all(files, job, 0, len(body)) == body
    assert await _read_all(files, job, 1000, 70_000) == body[1000:70_000]
    assert await _read_all(files, job, len(body) - 5, len(body)) == body[-5:]
    listed = [meta["path"] for batch in obstore.list(s3.store(prefix)) for meta in batch]
    assert listed == [object_key(job)] == ["0123abcd.mp3"]


async def test_publishing_again_overwrites_the_one_object(s3: S3Server, tmp_path: Path):
    path = tmp_path / "a.m4a"
    files = ObjectFiles(s3.store(prefix := _prefix()))
    path.write_bytes(b"first run")
    await files.publish(_job(path))
    renamed = tmp_path / "renamed title.m4a"  # a rerun may name the local file differently
    renamed.write_bytes(b"second run, longer")
    await files.publish(_job(renamed))
    listed = [meta["path"] for batch in obstore.list(s3.store(prefix)) for meta in batch]
    assert listed == ["0123abcd.m4a"]
    assert await _read_all(files, _job(renamed), 0, 18) == b"second run, longer"


async def test_remove_deletes_the_object_and_the_local_copy(s3: S3Server, tmp_path: Path):
    path = tmp_path / "a.mp3"
    files, job = await _published(s3, path, b"bytes")
    await files.remove(job)
    assert not path.exists()
    with pytest.raises(AudiograbError) as gone:
        await files.info(job)
    assert gone.value.code is ErrorCode.FILE_NOT_FOUND
    await files.remove(job)  # again: nothing left, no error


async def test_a_file_changed_since_its_tag_is_not_mixed_into_a_range(s3: S3Server, tmp_path: Path):
    path = tmp_path / "a.mp3"
    files, job = await _published(s3, path, b"old bytes")
    old = await files.info(job)
    path.write_bytes(b"new bytes, other tag")
    await files.publish(job)
    with pytest.raises(AudiograbError) as changed:
        b"".join([chunk async for chunk in files.read(job, 0, 4, old.etag)])
    assert changed.value.code is ErrorCode.FILE_NOT_FOUND


async def test_a_wrong_secret_is_refused_as_a_network_error(s3: S3Server, tmp_path: Path):
    path = tmp_path / "a.mp3"
    path.write_bytes(b"bytes")
    files = ObjectFiles(s3.store(_prefix(), secret="not-the-secret-" + secrets.token_hex(8)))
    with pytest.raises(AudiograbError) as refused:
        await files.publish(_job(path))
    assert refused.value.code is ErrorCode.NETWORK
    assert "403" in refused.value.message or "denied" in refused.value.message.lower()


async def test_local_files_serve_the_output_folder(tmp_path: Path):
    path = tmp_path / "a.mp3"
    path.write_bytes(b"0123456789")
    files = LocalFiles()
    job = _job(path)
    await files.publish(job)  # nothing to do: it is already there
    info = await files.info(job)
    assert info.size == 10
    assert isinstance(info, FileInfo)
    assert await _read_all(files, job, 2, 5) == b"234"
    await files.remove(job)
    assert not await anyio.Path(path).exists()
    with pytest.raises(AudiograbError) as gone:
        await files.info(job)
    assert gone.value.code is ErrorCode.FILE_NOT_FOUND
