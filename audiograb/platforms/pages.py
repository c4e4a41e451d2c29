"""Reading public web pages: `<meta>` tags, embedded JSON, and typed JSON lookups.

Sites without an API still describe their pages for link previews (Open Graph `og:` and
`music:` meta tags) and for their own front end (Next.js's `__NEXT_DATA__`, JSON-LD). These
helpers read those with the standard library's forgiving HTML parser, and walk the decoded JSON
without trusting its shape: every lookup checks the type it expects.
"""

import json
from html.parser import HTMLParser
from typing import Any

from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["PageData", "dig", "dig_float", "dig_str", "read_json", "read_page"]


class PageData:
    """What a page says about itself: its meta tags and its JSON script blocks."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}
        """`property`/`name` -> content; the first occurrence wins."""
        self.scripts: dict[str, str] = {}
        """Script blocks by `id` (e.g. `__NEXT_DATA__`)."""
        self.json_ld: list[str] = []
        """Bodies of `application/ld+json` scripts."""
        self.title: str | None = None


class _Reader(HTMLParser):
    def __init__(self, data: PageData) -> None:
        super().__init__(convert_charrefs=True)
        self._data = data
        self._script: tuple[str | None, str] | None = None
        self._chunks: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "meta":
            key = values.get("property") or values.get("name")
            if key and "content" in values:
                self._data.meta.setdefault(key.strip().lower(), values["content"].strip())
        elif tag == "script":
            self._script = (values.get("id"), values.get("type", "").lower())
            self._chunks = []
        elif tag == "title":
            self._in_title = True
            self._chunks = []

    def handle_data(self, data: str) -> None:
        if self._script is not None or self._in_title:
            self._chunks.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            script_id, kind = self._script
            body = "".join(self._chunks)
            if script_id:
                self._data.scripts.setdefault(script_id, body)
            if kind == "application/ld+json":
                self._data.json_ld.append(body)
            self._script = None
        elif tag == "title" and self._in_title:
            self._data.title = "".join(self._chunks).strip() or None
            self._in_title = False


def read_page(html: str) -> PageData:
    """Parse an HTML page for its meta tags and script blocks."""
    data = PageData()
    reader = _Reader(data)
    reader.feed(html)
    reader.close()
    return data


def read_json(text: str, what: str) -> Any:
    """Decode JSON a site embedded or served; a broken body is `download_failed`, named."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise AudiograbError(ErrorCode.DOWNLOAD_FAILED, f"{what} is not valid JSON") from error


def dig(data: Any, *path: str | int) -> Any:
    """`data[p0][p1]...`, or None as soon as a step is missing or of the wrong kind."""
    for step in path:
        if isinstance(step, int) and isinstance(data, list) and -len(data) <= step < len(data):
            data = data[step]
        elif isinstance(step, str) and isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def dig_str(data: Any, *path: str | int) -> str | None:
    """A non-empty string at `path`, stripped, or None."""
    value = dig(data, *path)
    return value.strip() or None if isinstance(value, str) else None


def dig_float(data: Any, *path: str | int) -> float | None:
    """A number at `path` (numeric strings too), or None."""
    value = dig(data, *path)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
