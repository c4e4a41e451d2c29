"""Webhook URLs keep their secrets: credentials in one are refused (as in download URLs), and
the path and query of one, which often carry a token, never reach a log line."""

import logging

import pytest

from audiograb.config import Settings
from tests.e2e.api_support import running_api
from tests.mediaserver import MediaServer
from tests.webhookreceiver import WebhookReceiver

pytestmark = pytest.mark.anyio


async def test_webhook_urls_with_credentials_are_refused_and_paths_never_logged(
    settings: Settings,
    hooks: WebhookReceiver,
    server: MediaServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)  # what `serve` logs
    with_password = hooks.url("/hook").replace("http://", "http://user:pa55word@")
    async with running_api(settings) as api, api.client() as http:
        refused = [
            await http.post("/api/webhooks/endpoints", json={"url": with_password}),
            await http.post(
                "/api/downloads",
                json={"url": server.url("tone.mp3"), "webhook_url": with_password},
            ),
            await http.post("/api/webhooks/test", json={"url": with_password}),
        ]
        sent = await http.post("/api/webhooks/test", json={"url": hooks.url("/hook?sig=q-secret")})
        await hooks.wait_until(lambda received: len(received) == 1)
        shown = [
            (await http.get("/api/webhooks/endpoints")).text,
            (await http.get("/api/webhooks/deliveries")).text,
            (await http.get("/api/jobs")).text,
        ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in refused] == [
        (422, "invalid_url")
    ] * 3
    assert sent.status_code == 202
    assert not any("pa55word" in text for text in shown)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "pa55word" not in logged
    assert "/hook" not in logged
    assert "q-secret" not in logged
