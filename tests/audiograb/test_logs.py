"""Log lines: JSON with job and request ids, and no secret ever printed."""

import io
import json
import logging

from audiograb.config import load_settings
from audiograb.logs import REQUEST_ID, JsonFormatter, Redactor, RequestContext, secrets_of


def emit(logger: logging.Logger, stream: io.StringIO, *secrets: str) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Redactor(secrets))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def test_lines_are_json_with_job_ids_and_no_secrets() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("audiograb.test.logs")
    emit(logger, stream, "s3cret-key-value")
    logger.info("job %s used %s", "abc", "s3cret-key-value", extra={"job_id": "abc"})
    line = json.loads(stream.getvalue())
    assert line["msg"] == "job abc used <redacted>"
    assert line["job_id"] == "abc"
    assert line["level"] == "info"


def test_exception_texts_are_redacted_too() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("audiograb.test.logs.exc")
    emit(logger, stream, "tok:123")
    try:
        raise RuntimeError("GET https://api.telegram.org/bottok:123/getMe failed")
    except RuntimeError:
        logger.exception("request failed")
    assert "tok:123" not in stream.getvalue()
    assert "<redacted>" in json.loads(stream.getvalue())["exc"]


def test_request_ids_come_from_the_context() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = REQUEST_ID.set("req-1")
    try:
        RequestContext().filter(record)
    finally:
        REQUEST_ID.reset(token)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "req-1"


def test_every_configured_secret_is_known() -> None:
    settings = load_settings(
        environ={},
        api_keys=("k" * 20,),
        bot_token="1:bot",
        x_auth_token="xa",
        x_ct0="ct",
        polish_api_key="pk",
        storage_secret_access_key="s3-secret",
        database_url="postgresql://audiograb:pg-secret@db:5432/audiograb",
    )
    assert set(secrets_of(settings)) == {
        "k" * 20,
        "1:bot",
        "xa",
        "ct",
        "pk",
        "s3-secret",
        "pg-secret",
    }
