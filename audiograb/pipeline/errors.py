"""Errors of the queue's companions (batches, schedules, annotations) that the domain's codes
do not name precisely: the API answers them 404 `<kind>_not_found` and 403 `not_author`.

They are `AudiograbError`s, so every face that handles those handles these; their `code` is
the nearest domain code for faces that know no better.
"""

from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["NotAuthorError", "NotFoundError"]


class NotFoundError(AudiograbError):
    """No batch, schedule or annotation with this id."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(ErrorCode.INVALID_REQUEST, f"no {kind} {ident!r}")
        self.kind = kind
        """`batch`, `schedule` or `annotation`."""


class NotAuthorError(AudiograbError):
    """Only an annotation's author may change or delete it."""

    def __init__(self, annotation_id: str) -> None:
        super().__init__(
            ErrorCode.INVALID_REQUEST, f"only the author may change annotation {annotation_id}"
        )
