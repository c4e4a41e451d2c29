"""Annotations over HTTP and the WebSocket: authors from API keys, threads, live changes."""

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from audiograb.config import Settings
from audiograb.domain import JobState
from tests.e2e.api_support import RunningApi, running_api
from tests.mediaserver import MediaServer

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("database")]  # SQLite and PostgreSQL


ALICE = "alice-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdefgh"
PLAIN = "plain-key-0123456789abcdef"


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[RunningApi]:
    keyed = msgspec.structs.replace(settings, api_keys=(f"alice:{ALICE}", f"bob:{BOB}", PLAIN))
    async with running_api(keyed) as running:
        yield running


def client(api: RunningApi, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=api.base_url, headers={"X-API-Key": key}, timeout=30)


async def transcribed_job(api: RunningApi, server: MediaServer) -> str:
    """A job that asked for a transcript (it fails fast: annotations need no finished one)."""
    async with client(api, ALICE) as http:
        response = await http.post(
            "/api/downloads", json={"url": server.url("gone.mp3"), "transcribe": True}
        )
    job_id = str(response.json()["id"])
    with anyio.fail_after(20):
        assert (await api.ag.wait(job_id)).state is JobState.FAILED
    return job_id


async def test_authors_threads_time_ranges_and_permissions(
    api: RunningApi, server: MediaServer
) -> None:
    job_id = await transcribed_job(api, server)
    base = f"/api/jobs/{job_id}/annotations"
    async with client(api, ALICE) as alice, client(api, BOB) as bob, client(api, PLAIN) as plain:
        first = (await alice.post(base, json={"text": "intro", "start": 0, "end": 5})).json()
        assert first["author"] == "alice"
        later = (await bob.post(base, json={"text": "the point", "start": 60, "end": 90})).json()
        assert later["author"] == "bob"
        reply = await bob.post(base, json={"text": "agreed", "parent_id": first["id"]})
        assert reply.status_code == 201
        nested = await alice.post(base, json={"text": "thanks", "parent_id": reply.json()["id"]})
        assert nested.status_code == 201
        anonymous_key = (await plain.post(base, json={"text": "x", "start": 1, "end": 2})).json()
        assert anonymous_key["author"].startswith("key-")

        threads = (await bob.get(base, params={"start": 0, "end": 10})).json()
        assert [t["annotation"]["text"] for t in threads] == ["intro", "x"]
        assert [r["text"] for r in threads[0]["replies"]] == ["agreed", "thanks"]
        assert [
            t["annotation"]["text"] for t in (await bob.get(base, params={"start": 70})).json()
        ] == ["the point"]

        url = f"{base}/{first['id']}"
        refused = await bob.patch(url, json={"text": "mine now"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_author"
        assert (await bob.delete(url)).status_code == 403
        changed = await alice.patch(url, json={"text": "introduction", "end": 7})
        assert changed.status_code == 200
        assert (changed.json()["text"], changed.json()["end"]) == ("introduction", 7)
        assert (await alice.patch(url, json={"start": 9})).status_code == 400  # start > end
        assert (await alice.get(url)).json()["text"] == "introduction"
        assert (await alice.delete(url)).status_code == 204
        gone = await alice.get(url)
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "annotation_not_found"
        assert (await bob.get(f"{base}/{reply.json()['id']}")).status_code == 404  # thread went

        bad = await alice.post(base, json={"text": "no times"})
        assert bad.status_code == 400
        assert (await alice.post(base, json={"text": "", "start": 0, "end": 1})).status_code == 422
        unknown = await alice.post(
            "/api/jobs/nope/annotations", json={"text": "a", "start": 0, "end": 1}
        )
        assert unknown.status_code == 404
        assert (await httpx.AsyncClient(base_url=api.base_url).get(base)).status_code == 401


async def receive(socket: ClientConnection) -> dict[str, Any]:
    with anyio.fail_after(10):
        message: dict[str, Any] = json.loads(await socket.recv())
    return message


async def test_two_clients_on_the_websocket_see_each_others_changes(
    api: RunningApi, server: MediaServer
) -> None:
    job_id = await transcribed_job(api, server)
    ws = api.base_url.replace("http", "ws") + f"/api/jobs/{job_id}/annotations/ws"
    async with (
        connect(f"{ws}?token={ALICE}") as alice,
        connect(ws, additional_headers={"X-API-Key": BOB}) as bob,
        client(api, BOB) as bob_http,
    ):
        await alice.send(json.dumps({"type": "create", "text": "hello", "start": 1, "end": 2}))
        created = await receive(bob)
        assert created["type"] == "annotation.created"
        assert created["annotation"]["author"] == "alice"
        assert (await receive(alice))["annotation"]["id"] == created["annotation"]["id"]
        note_id = created["annotation"]["id"]

        await bob.send(json.dumps({"type": "create", "text": "hi", "parent_id": note_id}))
        reply = await receive(alice)
        assert reply["annotation"]["parent_id"] == note_id
        assert reply["annotation"]["author"] == "bob"
        await receive(bob)

        await bob.send(json.dumps({"type": "update", "id": note_id, "text": "taken over"}))
        assert await receive(bob) == {
            "type": "error",
            "code": "not_author",
            "message": f"only the author may change annotation {note_id}",
        }
        await bob.send("{not json")
        assert (await receive(bob))["code"] == "invalid_message"
        await bob.send('{"type": "delete", "id": "x", "extra": ' + "[" * 200_000)
        assert (await receive(bob))["code"] == "invalid_message"  # nested too deep: no crash

        await alice.send(json.dumps({"type": "update", "id": note_id, "text": "hello all"}))
        updated = await receive(bob)
        assert (updated["type"], updated["annotation"]["text"]) == (
            "annotation.updated",
            "hello all",
        )
        await receive(alice)

        later = await bob_http.post(
            f"/api/jobs/{job_id}/annotations", json={"text": "via REST", "start": 3, "end": 4}
        )
        assert (await receive(alice))["annotation"]["id"] == later.json()["id"]
        await receive(bob)

        await alice.send(json.dumps({"type": "delete", "id": note_id}))
        assert await receive(bob) == {"type": "annotation.deleted", "id": note_id, "job_id": job_id}


async def test_the_websocket_needs_a_key(api: RunningApi, server: MediaServer) -> None:
    job_id = await transcribed_job(api, server)
    ws = api.base_url.replace("http", "ws") + f"/api/jobs/{job_id}/annotations/ws"
    with pytest.raises(InvalidStatus, match=r"HTTP 40[13]"):
        async with connect(ws) as socket:
            await socket.recv()
