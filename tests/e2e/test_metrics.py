"""`GET /metrics` after a job: Prometheus text with the job's counters in it."""

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from audiograb.config import Settings
from tests.e2e.api_support import API_KEY, running_api
from tests.mediaserver import MediaServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_finished_job_shows_in_the_metrics(settings: Settings, server: MediaServer) -> None:
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,))
    async with running_api(keyed) as api, api.client() as http:
        job = (await http.post("/api/downloads", json={"url": server.url("tone.mp3")})).json()
        await api.ag.wait(job["id"])
        refused = await http.get("/metrics", headers={"X-API-Key": "wrong-key-000000000"})
        scraped = await http.get("/metrics")
    assert refused.status_code == 401
    assert scraped.status_code == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
    }
    assert samples[("audiograb_jobs", (("state", "completed"),))] == 1
    assert samples[("audiograb_jobs_finished_total", (("outcome", "completed"),))] == 1
    assert samples[("audiograb_jobs_submitted_total", (("platform", "generic"),))] == 1
    assert samples[("audiograb_output_bytes_total", ())] > 0
    assert samples[("audiograb_downloaded_bytes_total", ())] > 0
    assert samples[("audiograb_job_duration_seconds_count", ())] == 1
    assert samples[("audiograb_queue_depth", ())] == 0
    assert ("audiograb_event_loop_lag_seconds_count", ()) in samples
