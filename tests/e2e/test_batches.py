"""Batches over HTTP and from the CLI: rejected lines, live counters, cancel, batch.completed."""

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import msgspec
import pytest
from asyncclick.testing import CliRunner

from audiograb.cli.app import cli
from audiograb.config import Settings
from audiograb.domain import JobState
from tests.e2e.api_support import running_api
from tests.mediaserver import MediaServer
from tests.webhookreceiver import WebhookReceiver, webhook_receiver

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("database")]  # SQLite and PostgreSQL


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


async def test_a_json_batch_reports_bad_entries_counts_its_jobs_and_announces_its_end(
    settings: Settings, server: MediaServer, hooks: WebhookReceiver
) -> None:
    async with running_api(settings) as api, api.client() as http:
        urls = [server.url("tone.mp3"), "not a url", server.url("tone.opus"), "ftp://x/y"]
        created = await http.post(
            "/api/batches", json={"urls": urls, "format": "mp3", "webhook_url": hooks.url()}
        )
        assert created.status_code == 201, created.text
        batch = created.json()
        assert batch["total"] == 2
        assert [(r["line"], r["code"]) for r in batch["rejected"]] == [
            (2, "invalid_url"),
            (4, "invalid_url"),
        ]
        with anyio.fail_after(30):
            for job_id in batch["job_ids"]:
                assert (await api.ag.wait(job_id)).state is JobState.COMPLETED
        shown = (await http.get(f"/api/batches/{batch['id']}")).json()
        assert shown["counts"] == {"completed": 2}
        assert shown["done"] == 2
        assert shown["completed_at"] is not None
        got = await hooks.wait_until(
            lambda got: any(json.loads(r.body)["type"] == "batch.completed" for r in got)
        )
        ended = [json.loads(r.body) for r in got if json.loads(r.body)["type"] == "batch.completed"]
        assert len(ended) == 1
        assert ended[0]["data"]["batch_id"] == batch["id"]
        assert ended[0]["data"]["counts"] == {"completed": 2}
        job = (await http.get(f"/api/jobs/{batch['job_ids'][0]}")).json()
        assert job["batch_id"] == batch["id"]
        nothing = await http.post("/api/batches", json={"urls": ["nope"]})
        assert nothing.status_code == 400
        assert "line 1" in nothing.json()["error"]["message"]
        assert (await http.get("/api/batches/nope")).json()["error"]["code"] == "batch_not_found"


async def test_an_uploaded_list_skips_comments_and_numbers_bad_lines(
    settings: Settings, server: MediaServer
) -> None:
    text = f"# my list\n\n{server.url('tone.mp3')}\n  # indented comment\nwhat is this\n"
    async with running_api(settings) as api, api.client() as http:
        created = await http.post(
            "/api/batches/upload",
            files={"file": ("list.txt", text.encode())},
            data={"priority": "9", "format": "opus"},
        )
        assert created.status_code == 201, created.text
        batch = created.json()
        assert batch["total"] == 1
        assert [(r["line"], r["text"]) for r in batch["rejected"]] == [(5, "what is this")]
        job = (await http.get(f"/api/jobs/{batch['job_ids'][0]}")).json()
        assert job["priority"] == 9
        assert job["request"]["format"] == "opus"
        bad = await http.post(
            "/api/batches/upload", files={"file": ("l.txt", text.encode())}, data={"priority": "11"}
        )
        assert bad.status_code == 422


async def test_cancelling_a_batch_cancels_its_waiting_and_running_jobs(
    settings: Settings, server: MediaServer
) -> None:
    settings = msgspec.structs.replace(settings, max_concurrent_jobs=1)
    server.slow("/long.m4a", bytes_per_second=30_000)
    async with running_api(settings) as api, api.client() as http:
        urls = [server.url("long.m4a")] * 3
        batch = (await http.post("/api/batches", json={"urls": urls})).json()
        first = batch["job_ids"][0]
        with anyio.fail_after(20):
            async with api.ag.subscribe(first) as events:
                async for recorded in events:
                    if getattr(recorded.event, "state", None) is JobState.DOWNLOADING:
                        break
        cancelled = await http.delete(f"/api/batches/{batch['id']}")
        assert cancelled.status_code == 200
        body = cancelled.json()
        assert body["counts"] == {"cancelled": 3}
        assert body["cancelled_at"] is not None
        for job_id in batch["job_ids"]:
            assert (await api.ag.get(job_id)).state is JobState.CANCELLED
        assert (await http.get("/api/queue")).json()["waiting"] == []


async def test_cli_batch_downloads_a_file_of_urls(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# two tones\n{server.url('tone.mp3')}\n\n{server.url('tone.opus')}\nhttp//\n"
    )
    out = tmp_path / "batch-out"
    result = await CliRunner().invoke(
        cli,
        ["--data-dir", str(settings.data_dir), "batch", str(listing), "-f", "mp3", "-o", str(out)],
        env={"AUDIOGRAB_ALLOW_PRIVATE_NETWORKS": "true"},
    )
    assert result.exit_code == 1  # a line was rejected
    assert "line 5: http//" in result.output
    assert result.output.count("done") == 2
    assert sorted(path.suffix for path in out.iterdir()) == [".mp3", ".mp3"]
