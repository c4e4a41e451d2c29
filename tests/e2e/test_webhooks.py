"""Webhooks to a loopback receiver: signed, retried while it is down, none lost on restart."""

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import msgspec
import pytest

from audiograb.config import Settings
from audiograb.domain import JobRequest, JobState
from audiograb.pipeline import open_audiograb
from audiograb.pipeline.webhooks import verify
from audiograb.store import MessageStatus
from tests.e2e.api_support import running_api
from tests.mediaserver import MediaServer
from tests.webhookreceiver import Received, WebhookReceiver, webhook_receiver

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("database")]  # SQLite and PostgreSQL


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


def fast_retries(settings: Settings, url: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_retry_base_delay=0.05,
        webhook_retry_max_delay=0.2,
        webhook_timeout=5.0,
    )


async def settled_log(http: httpx.AsyncClient, params: dict[str, str]) -> list[dict[str, Any]]:
    """The delivery log once no message in it is pending (the receiver answers before the
    notifier records the answer)."""
    with anyio.fail_after(10):
        while True:
            log: list[dict[str, Any]] = (
                await http.get("/api/webhooks/deliveries", params=params)
            ).json()
            if all(message["status"] != "pending" for message in log):
                return log
            await anyio.sleep(0.02)


def ids_of(received: list[Received]) -> Counter[str]:
    return Counter(r.headers["webhook-id"] for r in received)


def types_of(received: list[Received]) -> list[str]:
    return sorted(json.loads(r.body)["type"] for r in received)


async def test_deliveries_survive_an_outage_and_a_restart_each_signed_once_per_id(
    settings: Settings, server: MediaServer, hooks: WebhookReceiver
) -> None:
    settings = fast_retries(settings, hooks.url())
    hooks.status = 503  # down
    async with open_audiograb(settings, serve=True) as ag:
        good = await ag.submit(JobRequest(url=server.url("tone.mp3")))
        bad = await ag.submit(JobRequest(url=server.url("missing.mp3")))
        with anyio.fail_after(30):
            assert (await ag.wait(good.id)).state is JobState.COMPLETED
            assert (await ag.wait(bad.id)).state is JobState.FAILED
        # every message is tried (and refused) again and again while the receiver is down
        await hooks.wait_until(lambda got: len(ids_of(got)) == 4 and min(ids_of(got).values()) >= 2)
    tried_before = ids_of(hooks.received)
    assert len(tried_before) == 4  # started and completed, started and failed
    hooks.status = 200  # up again, after a restart
    async with open_audiograb(settings, serve=True) as ag:
        await hooks.wait_until(lambda got: len(ids_of([r for r in got if r.status == 200])) == 4)
        with anyio.fail_after(10):
            # The receiver has answered; the notifier records the answers right after.
            while await ag.webhooks.deliveries(status=MessageStatus.PENDING):  # noqa: ASYNC110
                await anyio.sleep(0.02)
        log = await ag.webhooks.deliveries()
    delivered = hooks.delivered()
    assert ids_of(delivered) == dict.fromkeys(tried_before, 1)  # every one, once
    assert types_of(delivered) == ["job.completed", "job.failed", "job.started", "job.started"]
    for received in delivered:
        assert verify(SECRET, received.headers, received.body)
        assert received.headers["content-type"] == "application/json"
    assert all(message.status is MessageStatus.DELIVERED for message in log)
    for message in log:
        assert [a.status_code for a in message.log][-1] == 200
        assert all(a.status_code == 503 for a in message.log[:-1])
        assert len(message.log) >= 3


async def test_per_job_url_test_message_and_delivery_log_over_http(
    settings: Settings, server: MediaServer, hooks: WebhookReceiver
) -> None:
    settings = fast_retries(settings, hooks.url("/default"))
    async with running_api(settings) as api, api.client() as http:
        registered = await http.post("/api/webhooks/endpoints", json={"url": hooks.url("/mine")})
        assert registered.status_code == 201
        mine = registered.json()
        assert mine["secret"].startswith("whsec_")
        submitted = await http.post(
            "/api/downloads",
            json={"url": server.url("tone.mp3"), "webhook_url": hooks.url("/mine")},
        )
        job_id = submitted.json()["id"]
        await hooks.wait_until(lambda got: len(got) == 4)  # started, completed; to both URLs
        by_path = {
            r.path: r for r in hooks.received if json.loads(r.body)["type"] == "job.completed"
        }
        assert verify(mine["secret"], by_path["/mine"].headers, by_path["/mine"].body)
        assert verify(SECRET, by_path["/default"].headers, by_path["/default"].body)
        assert not verify(SECRET, by_path["/mine"].headers, by_path["/mine"].body)
        data = json.loads(by_path["/mine"].body)["data"]
        assert data["job_id"] == job_id
        assert data["file_url"] == f"/api/jobs/{job_id}/file"

        log = await settled_log(http, {"job_id": job_id})
        assert sorted((m["type"], m["status"]) for m in log) == [
            ("job.completed", "delivered"),
            ("job.completed", "delivered"),
            ("job.started", "delivered"),
            ("job.started", "delivered"),
        ]
        assert all(m["log"][0]["status_code"] == 200 for m in log)

        tested = await http.post("/api/webhooks/test", json={})
        assert tested.status_code == 202
        test_id = tested.json()[0]["id"]
        got = await hooks.wait_until(
            lambda got: any(r.headers["webhook-id"] == test_id for r in got)
        )
        assert "webhook.test" in types_of(got)

        hooks.status = 500
        failing = await http.post("/api/webhooks/test", json={"url": hooks.url("/mine")})
        failing_id = failing.json()[0]["id"]
        await hooks.wait_until(lambda got: ids_of(got)[failing_id] >= 2)
        pending = (await http.get("/api/webhooks/deliveries", params={"status": "pending"})).json()
        assert [m["id"] for m in pending] == [failing_id]
        assert pending[0]["log"][0] == {
            **pending[0]["log"][0],
            "status_code": 500,
            "error": "HTTP 500",
        }


async def test_webhook_urls_pass_the_ssrf_guard(settings: Settings) -> None:
    strict = msgspec.structs.replace(settings, allow_private_networks=False)
    async with running_api(strict) as api, api.client() as http:
        for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/", "ftp://example.com/x"):
            refused = await http.post("/api/webhooks/endpoints", json={"url": url})
            assert refused.status_code in (403, 422), refused.text
            assert refused.json()["error"]["code"] in ("forbidden_address", "invalid_url")
        refused = await http.post("/api/webhooks/test", json={"url": "http://10.0.0.1/hook"})
        assert refused.status_code == 403
        assert (await http.get("/api/webhooks/endpoints")).json() == []
