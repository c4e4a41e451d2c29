"""Jobs a user asked to stop, so their progress messages say so at once.

Stopping a job can take a while (a worker thread notices at its next check), and the facade's
`cancel` waits for the end. The bot does not: a cancel marks the job here, its progress message
turns to "Cancelling…" without the cancel button straight away, and `ag.cancel` runs in the
background. The follower asks `asked(job_id)` to keep that line until the job has ended.
"""

from collections.abc import Callable

__all__ = ["Stopping"]


class Stopping:
    """The followed jobs, how to announce that each is being stopped, and which are."""

    def __init__(self) -> None:
        self._announce: dict[str, Callable[[], None]] = {}
        self._asked: set[str] = set()

    def follow(self, job_id: str, announce: Callable[[], None]) -> None:
        """Call `announce` when the job is asked to stop (its follower has started)."""
        self._announce[job_id] = announce

    def forget(self, job_id: str) -> None:
        """The job has ended and its follower is done."""
        self._announce.pop(job_id, None)
        self._asked.discard(job_id)

    def ask(self, job_id: str) -> bool:
        """Mark the job as being stopped and announce it; False if it was already asked."""
        if job_id in self._asked:
            return False
        self._asked.add(job_id)
        announce = self._announce.get(job_id)
        if announce is not None:
            announce()
        return True

    def asked(self, job_id: str) -> bool:
        """Whether the job is being stopped."""
        return job_id in self._asked
