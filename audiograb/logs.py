"""Logging for the long-running faces: one JSON object a line, with job and request ids, and
every configured secret redacted.

Pipeline code logs with `extra={"job_id": ...}`; the API sets `REQUEST_ID` for the request it
serves. `configure_logging` (called by `audiograb serve` and `audiograb bot`) installs the
formatter and the filters on the root logger, so third-party lines (uvicorn, aiogram) get them
too.
"""

import json
import logging
import re
import time
from collections.abc import Iterable
from contextvars import ContextVar

from audiograb.config import Settings

__all__ = [
    "REDACTED",
    "REQUEST_ID",
    "JsonFormatter",
    "Redactor",
    "RequestContext",
    "configure_logging",
    "secrets_of",
]

REDACTED = "<redacted>"
#: The id of the HTTP request being served, for log lines written while serving it.
REQUEST_ID: ContextVar[str | None] = ContextVar("audiograb_request_id", default=None)


#: A key in a URL's query (`?token=...`, as EventSource and WebSocket clients send it): hidden
#: whether or not it is a valid key, since a near miss of one is a secret too.
_QUERY_TOKEN = re.compile(r"([?&]token=)[^&#\s\"']*")


class Redactor(logging.Filter):
    """Replace each secret, and every `?token=` value, in a record's message and exception text
    before it is emitted."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _QUERY_TOKEN.sub(rf"\g<1>{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


class RequestContext(logging.Filter):
    """Stamp each record with the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "job_id", "request_id", "exc"}`, one line a record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("job_id", "request_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_text or record.exc_info:
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret a log line must never show."""
    return [
        *settings.api_keys,
        *(key for _, key in settings.named_api_keys),
        *(
            value
            for value in (
                settings.bot_token,
                settings.bot_webhook_secret,
                settings.x_auth_token,
                settings.x_ct0,
                settings.polish_api_key,
                settings.storage_secret_access_key,
                settings.database_password,
            )
            if value
        ),
    ]


def configure_logging(
    settings: Settings, *, json_lines: bool = True, level: int = logging.INFO
) -> None:
    """Send every log record to stderr, formatted and redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RequestContext())
    handler.addFilter(Redactor(secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
