"""The waiting room: priority, then arrival; platform limits skip, never block, other jobs."""

import msgspec

from audiograb.domain import Job, JobRequest
from audiograb.pipeline.queue import WaitQueue, with_priority


def job(name: str, *, priority: int = 5, at: float = 0.0, platform: str = "generic") -> Job:
    return Job(
        id=name,
        request=JobRequest(url=f"https://example.com/{name}", priority=priority),
        platform=platform,
        created_at=at,
    )


def drain(queue: WaitQueue, room: set[str] | None = None) -> list[str]:
    taken = []
    while (found := queue.pop_next(lambda p: room is None or p in room)) is not None:
        taken.append(found.id)
    return taken


def test_higher_priority_first_then_first_come() -> None:
    queue = WaitQueue()
    for item in (
        job("a", at=1),
        job("b", priority=9, at=2),
        job("c", at=3),
        job("d", priority=1, at=0),
    ):
        queue.push(item)
    assert [j.id for j in queue.ordered()] == ["b", "a", "c", "d"]
    assert drain(queue) == ["b", "a", "c", "d"]
    assert len(queue) == 0


def test_a_full_platform_does_not_hold_up_the_others() -> None:
    queue = WaitQueue()
    queue.push(job("yt1", priority=9, at=1, platform="youtube"))
    queue.push(job("yt2", priority=9, at=2, platform="youtube"))
    queue.push(job("gen", priority=1, at=3))
    assert drain(queue, room={"generic"}) == ["gen"]
    assert drain(queue) == ["yt1", "yt2"]


def test_priority_changes_keep_arrival_order_among_equals() -> None:
    queue = WaitQueue()
    for index, name in enumerate("abc"):
        queue.push(job(name, at=index))
    queue.replace(with_priority(queue.get("c") or job("x"), 7))
    queue.replace(with_priority(queue.get("a") or job("x"), 7))
    assert [j.id for j in queue.ordered()] == ["a", "c", "b"]
    moved = queue.get("a")
    assert moved is not None
    assert moved.request.priority == 7


def test_removed_jobs_never_come_out_and_the_heap_compacts() -> None:
    queue = WaitQueue()
    for index in range(100):
        queue.push(job(f"j{index}", at=index))
    for index in range(0, 100, 2):
        assert queue.remove(f"j{index}") is not None
    assert queue.remove("j0") is None
    assert "j1" in queue
    assert "j0" not in queue
    assert drain(queue) == [f"j{index}" for index in range(1, 100, 2)]


def test_requeued_jobs_keep_their_arrival_from_the_job() -> None:
    queue = WaitQueue()
    old = job("old", at=10)
    queue.push(job("new", at=20))
    queue.push(msgspec.structs.replace(old, queued_at=5.0))
    assert drain(queue) == ["old", "new"]
