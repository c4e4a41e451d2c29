"""The web app in headless Chromium: grab, follow live, play, download, transcript, cancel, keys.

Every page is driven over the DevTools protocol against a real uvicorn server and a loopback
media server. Each test also checks that the page's scripts logged or threw no error and that
nothing was asked of any other host (the app works offline: no CDN).
"""

import base64
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest
from anyio.abc import SocketAttribute, SocketStream

from audiograb.config import Settings
from tests import speech
from tests.e2e.api_support import API_KEY
from tests.e2e.browser import DevTools, chromium, serving
from tests.mediaserver import MediaServer, media_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.usefixtures("browser")]

#: Set to a folder to keep the screenshots there (how docs/web/ was made).
SCREENSHOTS = os.environ.get("AUDIOGRAB_SCREENSHOTS")

_JOBS = "document.querySelectorAll('#jobs > li')"
_LINK = "document.getElementById('links')"


@asynccontextmanager
async def app_in_browser(settings: Settings, profile: Path) -> AsyncIterator[tuple[str, DevTools]]:
    """The app served, and Chromium with console, log and network events recorded."""
    async with serving(settings) as base, chromium(profile) as page:
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.call(f"{domain}.enable")
        yield base, page
        check_clean(page, base)


def check_clean(page: DevTools, base: str) -> None:
    """No script error, and no request to any other host than `base`."""
    assert page.console_errors() == []
    foreign = [url for url in page.requested_urls() if not url.startswith((base, "data:", "blob:"))]
    assert foreign == []


class CuttableProxy:
    """A loopback TCP proxy whose open connections a test can cut (a dropped network)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._scopes: set[anyio.CancelScope] = set()

    def cut(self) -> None:
        """Drop every connection open now; new ones are served as before."""
        for scope in tuple(self._scopes):
            scope.cancel()

    async def handle(self, client: SocketStream) -> None:
        with anyio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                async with (
                    client,
                    await anyio.connect_tcp("127.0.0.1", self.target_port) as up,
                    anyio.create_task_group() as tasks,
                ):
                    tasks.start_soon(_pipe, client, up)
                    tasks.start_soon(_pipe, up, client)
            except OSError:
                pass
            finally:
                self._scopes.discard(scope)


async def _pipe(source: SocketStream, sink: SocketStream) -> None:
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        async for chunk in source:
            await sink.send(chunk)
        await sink.send_eof()


@asynccontextmanager
async def cuttable_proxy(base: str) -> AsyncIterator[CuttableProxy]:
    """A proxy in front of the server at `base`."""
    proxy = CuttableProxy(int(base.rsplit(":", 1)[1]))
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    proxy.port = listener.extra(SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, proxy.handle)
        yield proxy
        tasks.cancel_scope.cancel()


async def type_links(page: DevTools, *urls: str) -> None:
    """Type links into the grab form as a user would (an input event per change)."""
    text = json.dumps("\n".join(urls))
    await page.evaluate(f"{_LINK}.value = {text}; {_LINK}.dispatchEvent(new Event('input')); true")


async def record_states(page: DevTools) -> None:
    """Note every state each job row shows, to see progress without reloading."""
    await page.evaluate(
        """window.seenStates = [];
        new MutationObserver(() => {
          for (const row of document.querySelectorAll('#jobs > li')) {
            const state = row.dataset.state;
            if (window.seenStates.at(-1) !== state) window.seenStates.push(state);
          }
        }).observe(document.getElementById('jobs'),
                   {subtree: true, attributes: true, childList: true});
        true"""
    )


async def test_grab_follow_play_and_download(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    url = server.url("tone.m4a")
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/", "document.body.dataset.feed === 'open'")
        await type_links(page, url)
        shown = await page.wait_for(
            "document.querySelector('#lookups li[data-kind]')?.textContent", seconds=10
        )
        assert "Direct media" in shown
        assert "file" in shown
        # Asked to, the look-up also fetches the title (through the guarded resolving path).
        await page.evaluate(
            "const box = document.getElementById('fetch-titles');"
            "box.checked = true; box.dispatchEvent(new Event('change')); true"
        )
        titled = await page.wait_for(
            "document.querySelector('#lookups li[data-kind]')?.textContent.includes('“tone”')",
            seconds=20,
        )
        assert titled
        await page.evaluate("document.getElementById('format').value = 'mp3'; true")
        await record_states(page)
        await page.evaluate("window.notReloaded = true; document.getElementById('submit').click()")
        job_id = await page.wait_for(
            f"{_JOBS}.length === 1 && {_JOBS}[0].dataset.state === 'completed'"
            f" && {_JOBS}[0].dataset.jobId",
            seconds=60,
        )
        assert await page.evaluate("window.notReloaded === true")
        seen = await page.evaluate("window.seenStates")
        assert seen[-1] == "completed"
        assert {"downloading", "converting"} & set(seen), seen  # progress shown on the way
        # Download: the row's link serves the finished file.
        href = await page.evaluate("document.querySelector('[data-action=download]').href")
        got = await page.evaluate(
            f"fetch({json.dumps(href)}).then(async r => [r.status,"
            " r.headers.get('content-type'), (await r.arrayBuffer()).byteLength])"
        )
        assert got[:2] == [200, "audio/mpeg"]
        assert got[2] > 10_000
        # Play: the job page's player plays it.
        await page.open(f"{base}/jobs/{job_id}", "!!document.querySelector('audio.player')")
        await page.evaluate("document.querySelector('audio.player').play().then(() => true)")
        played = await page.wait_for(
            "document.querySelector('audio.player').currentTime > 0.5"
            " && document.querySelector('audio.player').currentTime",
            seconds=20,
        )
        assert played > 0.5
        timeline = await page.evaluate(
            "[...document.querySelectorAll('#timeline li')].map(li => li.dataset.type)"
        )
        assert (timeline[0], timeline[-1]) == ("job.submitted", "job.completed")
        # Remove: two presses (the second confirms); the job and its file are gone.
        await page.open(f"{base}/", f"{_JOBS}.length === 1")
        remove = f"{_JOBS}[0].querySelector('[data-action=remove]')"
        await page.evaluate(f"{remove}.click(); {remove}.click(); true")
        await page.wait_for(f"{_JOBS}.length === 0", seconds=10)
        assert list(settings.output_root.iterdir()) == []
        gone = await page.evaluate(f"fetch('/api/jobs/{job_id}').then(r => r.status)")
        assert gone == 404


@pytest.fixture
def speech_server(tmp_path: Path) -> AsyncIterator[MediaServer]:
    """A loopback server with about 15 s of LibriVox speech as `speech.wav`."""
    root = tmp_path / "speech"
    root.mkdir()
    speech.join_clips(root / "speech.wav", speech.librivox_clips()[:3])
    with media_server(root) as running:
        yield running


async def test_many_links_at_once(settings: Settings, server: MediaServer, tmp_path: Path) -> None:
    bad = "https://x.com/NASA/likes"
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/", "document.body.dataset.feed === 'open'")
        await type_links(page, server.url("tone.mp3"), bad, server.url("tone.opus"))
        await page.wait_for(
            "document.querySelectorAll('#lookups li[data-ok]').length === 3", seconds=10
        )
        await page.evaluate("document.getElementById('submit').click(); true")
        await page.wait_for(
            f"{_JOBS}.length === 2 && [...{_JOBS}].every(li => li.dataset.state === 'completed')",
            seconds=90,
        )
        left = await page.evaluate(f"{_LINK}.value")
        assert left == bad  # the refused link stays, with its reason beside it
        reason = await page.wait_for(
            "document.querySelector('#lookups li[data-ok=false] .error')?.textContent", seconds=10
        )
        assert "unsupported_url" in reason


async def grab_transcribed(page: DevTools, base: str, url: str) -> str:
    """Grab `url` with a transcript (English) from `/`; its job id once it has completed."""
    await page.open(f"{base}/", "document.body.dataset.feed === 'open'")
    await type_links(page, url)
    await page.evaluate(
        "document.getElementById('transcribe').checked = true;"
        "document.getElementById('language').value = 'en';"
        "document.getElementById('submit').click(); true"
    )
    job_id: str = await page.wait_for(
        f"{_JOBS}.length === 1 && {_JOBS}[0].dataset.state === 'completed'"
        f" && {_JOBS}[0].dataset.jobId",
        seconds=240,
    )
    return job_id


async def test_transcript_follows_the_player(
    settings: Settings, speech_server: MediaServer, tmp_path: Path
) -> None:
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        job_id = await grab_transcribed(page, base, speech_server.url("speech.wav"))
        await page.open(
            f"{base}/jobs/{job_id}",
            "document.querySelectorAll('#segments li').length >= 2"
            " && document.querySelector('audio.player')?.readyState >= 1",
        )
        starts = await page.evaluate(
            "[...document.querySelectorAll('#segments li')].map(li => Number(li.dataset.start))"
        )
        await page.evaluate(
            "const player = document.querySelector('audio.player');"
            "player.playbackRate = 2; player.play().then(() => true)"
        )
        first = await page.wait_for(
            "document.querySelector('#segments li.current')?.dataset.index", seconds=20
        )
        current = "document.querySelector('#segments li.current').dataset.index"
        later = await page.wait_for(f"{current} !== {json.dumps(first)} && {current}", seconds=30)
        assert int(later) > int(first)  # the highlight moved on with the sound
        # A click on a segment seeks there.
        await page.evaluate("document.querySelector('audio.player').pause(); true")
        last = len(starts) - 1
        await page.evaluate(
            f"document.querySelector('#segments li[data-index=\"{last}\"] button').click(); true"
        )
        at = await page.wait_for(
            f"document.querySelector('#segments li.current')?.dataset.index === '{last}'"
            " && document.querySelector('audio.player').currentTime",
            seconds=10,
        )
        assert at >= starts[last]
        # A note added from the transcript shows on its segment.
        await page.evaluate(
            "document.getElementById('note-add').click();"
            "document.getElementById('note-text').value = 'check this name';"
            "document.querySelector('#note-form button[type=submit]').click(); true"
        )
        note = await page.wait_for(
            f"document.querySelector('#segments li[data-index=\"{last}\"] .note')?.textContent",
            seconds=10,
        )
        assert "check this name" in note
        exports = await page.evaluate(
            "Promise.all([...document.querySelectorAll('#exports a')].map("
            "a => fetch(a.href).then(r => [a.dataset.format, r.status])))"
        )
        assert exports == [["txt", 200], ["srt", 200], ["vtt", 200], ["json", 200]]


async def test_cancel_a_slow_job_from_the_page(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    server.slow("long.m4a", bytes_per_second=4096)
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/", "document.body.dataset.feed === 'open'")
        await type_links(page, server.url("long.m4a"))
        await page.evaluate("document.getElementById('submit').click(); true")
        await page.wait_for(f"{_JOBS}[0]?.dataset.state === 'downloading'", seconds=30)
        await page.evaluate(f"{_JOBS}[0].querySelector('[data-action=cancel]').click(); true")
        await page.wait_for(f"{_JOBS}[0].dataset.state === 'cancelled'", seconds=30)
        # Retry queues it again, same job, same row.
        await page.evaluate(f"{_JOBS}[0].querySelector('[data-action=retry]').click(); true")
        await page.wait_for(f"{_JOBS}[0].dataset.state === 'downloading'", seconds=30)
        assert await page.evaluate(f"{_JOBS}.length") == 1
        await page.evaluate(f"{_JOBS}[0].querySelector('[data-action=cancel]').click(); true")
        await page.wait_for(f"{_JOBS}[0].dataset.state === 'cancelled'", seconds=30)
        # The same from the job's own page.
        job_id = await page.evaluate(f"{_JOBS}[0].dataset.jobId")
        await page.open(f"{base}/jobs/{job_id}", "!!document.querySelector('[data-action=retry]')")
        await page.evaluate("document.querySelector('[data-action=retry]').click(); true")
        await page.wait_for("document.body.dataset.state === 'downloading'", seconds=30)
        await page.evaluate("document.querySelector('[data-action=cancel]').click(); true")
        await page.wait_for("document.body.dataset.state === 'cancelled'", seconds=30)
        # Each run's end shows in the timeline, once, as the event stream brings it.
        await page.wait_for(
            "document.querySelectorAll('#timeline li[data-type=\"job.cancelled\"]').length === 3",
            seconds=30,
        )
        assert await page.evaluate("document.querySelectorAll('#timeline li').length") > 6


async def test_queue_order_and_priority_from_the_page(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    server.slow("long.m4a", bytes_per_second=4096)
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/", "document.body.dataset.feed === 'open'")
        async with httpx.AsyncClient(base_url=base) as client:
            ids = [
                (await client.post("/api/downloads", json={"url": server.url(name)})).json()["id"]
                for name in ("long.m4a", "long.m4a", "tone.m4a", "tone.mp3")
            ]  # two run (the limit is 2), two wait
        row = "document.querySelector('#jobs > li[data-job-id=\"%s\"]')"
        place = f"{row}?.querySelector('.job-head .muted:last-child').textContent"
        await page.wait_for(
            f"{place % ids[2]} === '#1 in queue' && {place % ids[3]} === '#2 in queue'",
            seconds=30,
        )
        await page.evaluate(
            f"{row % ids[3]}.querySelector('input[type=number]').value = '9';"
            f"{row % ids[3]}.querySelector('[data-action=priority]').click(); true"
        )
        await page.wait_for(
            f"{place % ids[3]} === '#1 in queue' && {place % ids[2]} === '#2 in queue'",
            seconds=30,
        )
        assert "priority 9" in await page.evaluate(f"{row % ids[3]}.textContent")
        for job_id in reversed(ids):  # the waiting ones first: nothing starts, nothing is left
            await page.evaluate(f"{row % job_id}.querySelector('[data-action=cancel]').click()")
            await page.wait_for(f"{row % job_id}.dataset.state === 'cancelled'", seconds=30)


async def test_keys_wrong_refused_right_works(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    keyed = msgspec.structs.replace(settings, api_keys=(API_KEY,))
    async with app_in_browser(keyed, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/", "document.getElementById('key-dialog').open")

        async def give(key: str) -> None:
            await page.evaluate(
                f"document.getElementById('key-input').value = {json.dumps(key)};"
                "document.querySelector('#key-form button[type=submit]').click(); true"
            )

        await give("not-the-key")
        refused = await page.wait_for(
            "document.getElementById('key-dialog').open"
            " && document.getElementById('key-error').textContent",
            seconds=10,
        )
        assert "refused" in refused
        await give(API_KEY)
        await page.wait_for("document.body.dataset.feed === 'open'", seconds=10)
        await type_links(page, server.url("tone.mp3"))
        await page.evaluate("document.getElementById('submit').click(); true")
        await page.wait_for(f"{_JOBS}[0]?.dataset.state === 'completed'", seconds=60)
        # The file, fetched with the key in a header, downloads from an object URL.
        await page.evaluate("document.querySelector('[data-action=download]').click(); true")
        name = await page.wait_for(
            "document.querySelector('[data-action=download]').href.startsWith('blob:')"
            " && document.querySelector('[data-action=download]').download",
            seconds=10,
        )
        assert name.endswith(".m4a")  # the server's name for it, not the object URL's
        urls = page.requested_urls()
        assert all(API_KEY not in url for url in urls)
        # The event stream went with the key in a header (a fetch stream, not EventSource).
        streams = [
            {name.lower(): value for name, value in event["params"]["request"]["headers"].items()}
            for event in page.events
            if event["method"] == "Network.requestWillBeSent"
            and event["params"]["request"]["url"] == f"{base}/api/events"
        ]
        assert streams
        assert all(headers.get("x-api-key") == API_KEY for headers in streams)


PAGES = ["/", "/schedules", "/webhooks", "/live", "/docs"]


async def test_pages_fit_phone_and_desktop_widths(
    settings: Settings, speech_server: MediaServer, server: MediaServer, tmp_path: Path
) -> None:
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        job_id = await grab_transcribed(page, base, speech_server.url("speech.wav"))
        links = [
            server.url("tone.m4a"),
            "https://x.com/i/spaces/1YqKDqDXAbwKV",
            "https://x.com/a/likes",
        ]
        for width in (390, 1280):
            await viewport(page, width)
            for path in [*PAGES, f"/jobs/{job_id}"]:
                ready = _READY.get(path.split("/")[1], "true")
                await page.open(f"{base}{path}", ready)
                if path == "/":
                    await type_links(page, *links)
                    await page.wait_for(
                        "document.querySelectorAll('#lookups li[data-ok]').length === 3", seconds=10
                    )
                wide = await page.evaluate(_OVERFLOW)
                assert wide == [], (path, width, wide)
                await screenshot(page, path, width)
        # Dark mode follows the system setting.
        await viewport(page, 390)
        await page.call(
            "Emulation.setEmulatedMedia",
            features=[{"name": "prefers-color-scheme", "value": "dark"}],
        )
        await page.open(f"{base}/jobs/{job_id}", _READY["jobs"])
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(20, 20, 24)"
        await screenshot(page, "/dark", 390)


async def viewport(page: DevTools, width: int) -> None:
    """A window `width` CSS pixels wide (a phone's below 600)."""
    await page.call(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=900,
        deviceScaleFactor=1,
        mobile=width < 600,
    )


_READY = {
    "": "document.body.dataset.feed === 'open'",
    "docs": "document.querySelectorAll('.swagger-ui .opblock').length > 10",
    "jobs": "document.querySelector('audio.player')?.readyState >= 1"
    " && document.querySelectorAll('#segments li').length > 1",
    "live": "!!document.getElementById('start')",
}
# Elements wider than the viewport, or reaching past its right edge (the page scrolling
# sideways); scrolling boxes (tables, code) may hold wide content inside them.
_OVERFLOW = """(() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  const page = document.documentElement.scrollWidth;
  if (page > width) wide.push('page ' + page);
  for (const node of document.querySelectorAll('body *')) {
    const box = node.getBoundingClientRect();
    if (!box.width || node.closest('.scroll, .opblock-body, pre')) continue;
    if (box.right > width + 1 || box.width > width + 1) {
      wide.push(node.tagName + '#' + node.id + '.' + node.className);
    }
  }
  return wide.slice(0, 10);
})()"""


async def screenshot(page: DevTools, path: str, width: int) -> None:
    """The page from its top, at most 1,600 px of it (kept in SCREENSHOTS when set)."""
    metrics = await page.call("Page.getLayoutMetrics")
    height = min(metrics["cssContentSize"]["height"], 1600)
    shot = await page.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    )
    assert shot["data"]
    if SCREENSHOTS:
        name = {"": "grab", "jobs": "job"}.get(path.split("/")[1], path.strip("/"))
        target = Path(SCREENSHOTS) / f"{name}-{width}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(shot["data"]))


async def test_api_docs_work_offline(settings: Settings, tmp_path: Path) -> None:
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/docs", _READY["docs"], seconds=30)
        paths = await page.evaluate(
            "[...document.querySelectorAll('.opblock-summary-path')].map(p => p.textContent)"
        )
        assert "/api/resolve" in "".join(paths)
        await page.open(f"{base}/api/schema", "!!document.querySelector('.swagger-ui .opblock')")
        assert shutil.which("true")  # nothing but loopback was asked: see app_in_browser


async def test_the_jobs_list_resumes_after_a_dropped_connection(
    settings: Settings, server: MediaServer, tmp_path: Path
) -> None:
    async with (
        serving(settings) as base,
        cuttable_proxy(base) as proxy,
        chromium(tmp_path / "profile") as page,
    ):
        for domain in ("Page", "Runtime", "Log", "Network"):
            await page.call(f"{domain}.enable")
        front = f"http://127.0.0.1:{proxy.port}"
        await page.open(f"{front}/", "document.body.dataset.feed === 'open'")
        await page.evaluate(
            """window.feedStates = [];
            new MutationObserver(() => window.feedStates.push(document.body.dataset.feed))
              .observe(document.body, {attributes: true, attributeFilter: ['data-feed']});
            true"""
        )
        done = "document.querySelector('#jobs > li[data-job-id=\"%s\"]')?.dataset.state"
        async with httpx.AsyncClient(base_url=base) as client:  # beside the page, not through it

            async def submit() -> str:
                answer = await client.post("/api/downloads", json={"url": server.url("tone.mp3")})
                return str(answer.json()["id"])

            first = await submit()
            await page.wait_for(f"{done % first} === 'completed'", seconds=60)
            proxy.cut()
            second = await submit()  # while the page's stream is down
        await page.wait_for(f"{done % second} === 'completed'", seconds=60)
        assert "reconnecting" in await page.evaluate("window.feedStates")
        resumed = [
            event["params"]["request"]["headers"]
            for event in page.events
            if event["method"] == "Network.requestWillBeSent"
            and event["params"]["request"]["url"] == f"{front}/api/events"
        ]
        assert len(resumed) >= 2
        assert resumed[0]["last-event-id"] == "0"  # the log's head when the page opened
        assert int(resumed[-1]["last-event-id"]) > 0  # where it was when the line dropped
        check_clean(page, front)


async def test_upload_a_file_with_the_forms_options(
    settings: Settings, media_root: Path, tmp_path: Path
) -> None:
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/", "document.body.dataset.feed === 'open'")
        await page.evaluate(
            "document.getElementById('format').value = 'mp3';"
            "document.getElementById('transcribe').checked = true; true"
        )
        await page.call("DOM.enable")
        document = await page.call("DOM.getDocument")
        found = await page.call(
            "DOM.querySelector", nodeId=document["root"]["nodeId"], selector="#upload-file"
        )
        await page.call(
            "DOM.setFileInputFiles", files=[str(media_root / "tone.m4a")], nodeId=found["nodeId"]
        )
        await page.wait_for(f"{_JOBS}[0]?.dataset.state === 'completed'", seconds=120)
        status = await page.evaluate("document.getElementById('upload-status').textContent")
        assert "tone.m4a uploaded" in status
        shown = await page.evaluate(f"{_JOBS}[0].textContent")
        assert "upload · mp3 · transcript" in shown  # the form's options went with the file


async def test_schedules_and_webhooks_pages(settings: Settings, tmp_path: Path) -> None:
    async with app_in_browser(settings, tmp_path / "profile") as (base, page):
        await page.open(f"{base}/schedules", "!!document.getElementById('s-url')")
        await page.evaluate(
            "document.getElementById('s-url').value = 'https://x.com/i/spaces/1YqKDqDXAbwKV';"
            "document.getElementById('s-cron').value = '0 7 * * mon-fri';"
            "document.querySelector('#schedule-form button[type=submit]').click(); true"
        )
        row = "document.querySelector('#schedules tr[data-schedule-id]')"
        shown = await page.wait_for(f"{row}?.textContent", seconds=10)
        assert "0 7 * * mon-fri" in shown
        await page.evaluate(f"{row}.querySelector('button').click(); true")
        await page.wait_for(f"{row}.textContent.includes('cancelled')", seconds=10)
        # A schedule without a time is refused, in words, next to the form.
        await page.evaluate(
            "document.getElementById('s-url').value = 'https://example.com/a.mp3';"
            "document.querySelector('#schedule-form button[type=submit]').click(); true"
        )
        assert await page.wait_for(
            "document.getElementById('schedule-error').textContent", seconds=5
        )

        await page.open(f"{base}/webhooks", "!!document.getElementById('w-url')")
        hook = f"{base}/api/health"  # any loopback URL will do: nothing is delivered here
        await page.evaluate(
            f"document.getElementById('w-url').value = {json.dumps(hook)};"
            "document.querySelector('#endpoint-form button[type=submit]').click(); true"
        )
        secret = await page.wait_for(
            "document.querySelector('#endpoints code')?.textContent", seconds=10
        )
        assert secret.startswith("whsec_")
        await page.evaluate("document.getElementById('w-test').click(); true")
        kind = await page.wait_for(
            "document.querySelector('#deliveries tr td')?.textContent", seconds=10
        )
        assert kind == "webhook.test"
