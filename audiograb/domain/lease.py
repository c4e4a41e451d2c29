"""Job ownership: a process runs a job only while it holds the job's lease.

A lease names its owner (one running AudioGrab instance) and an attempt number that goes up
with every claim. Everything an owner records about the job carries its lease, and the store
refuses a write whose lease is no longer the job's: an owner that lost its lease (it stalled
past the expiry and another process reclaimed the job) can change nothing.
"""

import msgspec

from audiograb.domain.job import Job


class Lease(msgspec.Struct, frozen=True, kw_only=True):
    """The right to run one job: held by `owner`, fenced by `attempt`."""

    job_id: str
    owner: str
    attempt: int


class LeaseLost(Exception):  # noqa: N818 (a fact, like StopIteration)
    """A write carried a lease that is no longer the job's: its owner must stop, quietly.

    Not an `AudiograbError`: it never reaches a user, and it must not fail the job (the job
    belongs to another owner now).
    """

    def __init__(self, lease: Lease) -> None:
        super().__init__(
            f"job {lease.job_id}: lease attempt {lease.attempt} of {lease.owner} lapsed"
        )
        self.lease = lease


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """A job this instance now owns, as it stands (queued), and whether a cancel waits."""

    job: Job
    lease: Lease
    cancel_requested: bool


class Held(msgspec.Struct, frozen=True, kw_only=True):
    """One job this instance holds, as the store sees it after a heartbeat."""

    job_id: str
    lease_attempt: int
    cancel_requested: bool
