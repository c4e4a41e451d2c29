"""Keeping the bot token out of logs.

aiogram puts the token in every request URL, and an exception text or a third-party debug line
could echo one. `redact_token` installs a `Redactor` for it on every handler of the root logger
(`audiograb serve` and `audiograb bot` also redact every other configured secret).
"""

import logging

from audiograb.logs import Redactor

__all__ = ["redact_token"]


def redact_token(token: str, logger: logging.Logger | None = None) -> Redactor:
    """Install a redactor of `token` on every handler of `logger` (default: the root logger)."""
    redactor = Redactor([token])
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(redactor)
    return redactor
