"""Annotations on a job's transcript: notes on a time range, and threaded replies to them.

A top-level annotation covers `[start, end]` seconds of the transcript; a reply names its
`parent_id` and carries no time range of its own. Deleting an annotation deletes its replies.
"""

from audiograb.domain.annotations import Annotation
from audiograb.store.connection import Row
from audiograb.store.store import JobStore

__all__ = ["Annotation", "AnnotationStore"]


_COLUMNS = "id, job_id, parent_id, author, start_s, end_s, text, created_at, updated_at"


def _annotation(row: Row) -> Annotation:
    return Annotation(
        id=row[0],
        job_id=row[1],
        parent_id=row[2],
        author=row[3],
        start=row[4],
        end=row[5],
        text=row[6],
        created_at=row[7],
        updated_at=row[8],
    )


class AnnotationStore:
    """Annotations in the job store's database."""

    def __init__(self, db: JobStore) -> None:
        self._db = db

    async def insert(self, annotation: Annotation) -> None:
        """Store a new annotation."""
        a = annotation
        await self._db.execute(
            f"INSERT INTO annotations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                a.id,
                a.job_id,
                a.parent_id,
                a.author,
                a.start,
                a.end,
                a.text,
                a.created_at,
                a.updated_at,
            ),
        )

    async def get(self, annotation_id: str) -> Annotation | None:
        """The annotation, or None."""
        rows = await self._db.read(
            f"SELECT {_COLUMNS} FROM annotations WHERE id = ?", (annotation_id,)
        )
        return _annotation(rows[0]) if rows else None

    async def of_job(
        self, job_id: str, *, start: float | None = None, end: float | None = None
    ) -> list[Annotation]:
        """The job's annotations overlapping `[start, end]` (either open), with all replies.

        Top-level annotations come in transcript order, each followed by nothing: replies are
        listed after all of them, oldest first (group them by `parent_id`).
        """
        sql = f"SELECT {_COLUMNS} FROM annotations WHERE job_id = ? AND parent_id IS NULL"
        params: list[object] = [job_id]
        if start is not None:
            sql += " AND end_s >= ?"
            params.append(start)
        if end is not None:
            sql += " AND start_s <= ?"
            params.append(end)
        tops = [
            _annotation(row)
            for row in await self._db.read(sql + " ORDER BY start_s, created_at", params)
        ]
        if not tops:
            return []
        replies = await self._db.read(
            f"WITH RECURSIVE thread(id) AS (SELECT id FROM annotations WHERE id IN "
            f"({', '.join('?' * len(tops))}) UNION SELECT a.id FROM annotations a "
            "JOIN thread t ON a.parent_id = t.id) "
            f"SELECT {_COLUMNS} FROM annotations WHERE parent_id IS NOT NULL AND id IN "
            "(SELECT id FROM thread) ORDER BY created_at, rowid",
            [top.id for top in tops],
        )
        return [*tops, *(_annotation(row) for row in replies)]

    async def update(self, annotation: Annotation) -> None:
        """Store changed text or times of an existing annotation."""
        a = annotation
        await self._db.execute(
            "UPDATE annotations SET text = ?, start_s = ?, end_s = ?, updated_at = ? WHERE id = ?",
            (a.text, a.start, a.end, a.updated_at, a.id),
        )

    async def delete(self, annotation_id: str) -> bool:
        """Delete an annotation and its replies; False if there was none."""
        return await self._db.execute("DELETE FROM annotations WHERE id = ?", (annotation_id,)) > 0
