"""Keeping the bot token out of logs.

aiogram puts the token in every request URL, and an exception text or a third-party debug line
could echo one. `TokenRedactor` is a logging filter that rewrites any record mentioning the
token; `redact_token` installs it on every handler of the root logger.
"""

import logging

__all__ = ["REDACTED", "TokenRedactor", "redact_token"]

REDACTED = "<bot-token>"


class TokenRedactor(logging.Filter):
    """Replace the token in a record's message (and exception text) before it is emitted."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token in message:
            record.msg = message.replace(self._token, REDACTED)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._token in record.exc_text:
            record.exc_text = record.exc_text.replace(self._token, REDACTED)
        return True


def redact_token(token: str, logger: logging.Logger | None = None) -> TokenRedactor:
    """Install a redactor on every handler of `logger` (default: the root logger)."""
    redactor = TokenRedactor(token)
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redactor)
    return redactor
