"""The error table covers every code the domain can raise."""

from http import HTTPStatus

from audiograb.api.errors import STATUS_OF, ApiCode, status_of
from audiograb.domain import ErrorCode


def test_every_code_has_a_status() -> None:
    assert set(ErrorCode) | set(ApiCode) == set(STATUS_OF)


def test_client_mistakes_are_4xx() -> None:
    for code in (ErrorCode.INVALID_URL, ErrorCode.INVALID_REQUEST, ErrorCode.FORBIDDEN_ADDRESS):
        assert 400 <= status_of(code) < 500
    assert status_of(ErrorCode.JOB_NOT_FOUND) == HTTPStatus.NOT_FOUND
    assert status_of(ErrorCode.INVALID_STATE) == HTTPStatus.CONFLICT
    assert status_of("something new") == HTTPStatus.INTERNAL_SERVER_ERROR
