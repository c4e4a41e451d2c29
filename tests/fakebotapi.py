"""A loopback fake of the Telegram Bot API, speaking its real wire format, for bot tests.

Real aiogram talks to it through `TelegramAPIServer.from_base(api.base_url)`. Like Telegram it
takes `POST /bot<token>/<method>` with form-encoded parameters whose nested values (keyboards,
entity lists, update kinds) are JSON-encoded strings, or multipart bodies when files are
uploaded, each file a part named by an `attach://<name>` reference in a parameter. It answers
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}`, with
`parameters.retry_after` on 429s. It keeps the chats' messages, so editing a message to its
current text gets Telegram's "message is not modified" refusal, and files it was sent can be
sent again by file id. `getUpdates` long-polls the updates a test feeds in.

Every call is recorded (method, decoded parameters, uploads, monotonic time), and tests wait on
the log with deadlines, never sleeps:

    async with fake_bot_api() as api:
        api.send_text(USER, "https://...")
        [keyboard] = await api.wait_for("sendMessage")
        api.fail_next("editMessageText", retry_after=1)

It runs an aiohttp server in the test's (asyncio) event loop: aiogram needs asyncio anyway.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from aiohttp import web

__all__ = [
    "BOT_ID",
    "TOKEN",
    "ApiCall",
    "FakeBotApi",
    "Upload",
    "fake_bot_api",
]

BOT_ID = 700_000_001
TOKEN = f"{BOT_ID}:AAFakeSecretTokenForTests_0123456789abc"
#: Parameters Telegram expects as JSON-encoded strings.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "media",
        "link_preview_options",
        "reply_parameters",
        "scope",
    }
)
_FILE_PARAMS = {"sendAudio": "audio", "sendVideo": "video", "sendDocument": "document"}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes


@dataclass
class ApiCall:
    """One Bot API request as received, and how it was answered."""

    method: str
    params: dict[str, Any]
    """Parameters: JSON ones decoded, the rest the strings sent."""
    raw: dict[str, str]
    """Every non-file parameter exactly as sent."""
    uploads: dict[str, Upload]
    """Uploaded files by the parameter that references them (`audio`, `thumbnail`...)."""
    content_type: str
    at: float
    """`time.monotonic()` when the request arrived."""
    ok: bool = True
    error_code: int | None = None
    result: Any = None
    """What a successful call answered (a message dict for the send methods)."""

    @property
    def chat_id(self) -> int | None:
        """The `chat_id` parameter as an int."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


@dataclass
class _Failure:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | None
    times: int
    page: str | None


@dataclass
class FakeBotApi:
    """The fake's state and the test's controls."""

    token: str = TOKEN
    upload_limit: int = 50_000_000
    base_url: str = ""
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    """Every message in every chat, by (chat id, message id), as last edited."""
    files: dict[str, bytes] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _failures: list[_Failure] = field(default_factory=list)
    _changed: anyio.Event = field(default_factory=anyio.Event)
    _closing: bool = False

    # ---- feeding updates ------------------------------------------------------------------

    def push(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update `{kind: payload}` for `getUpdates`; returns its update id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._notify()
        return update_id

    def user_message(
        self, user_id: int, chat_id: int | None = None, **content: Any
    ) -> dict[str, Any]:
        """A message from a user (stored in its chat), e.g. `text=...` or `voice={...}`."""
        chat = chat_id if chat_id is not None else user_id
        message = self._new_message(chat, sender=_user(user_id), **content)
        return message

    def send_text(self, user_id: int, text: str, chat_id: int | None = None) -> int:
        """The user sends `text`; `http(s)://` words get `url` entities, `/words` commands."""
        message = self.user_message(user_id, chat_id, text=text, entities=_entities(text))
        return self.push("message", message)

    def press(self, user_id: int, message: dict[str, Any], data: str) -> int:
        """The user presses an inline button carrying `data` under `message`."""
        query = {
            "id": f"cq{next(self._update_ids)}",
            "from": _user(user_id),
            "chat_instance": f"ci{message['chat']['id']}",
            "message": self.messages[(message["chat"]["id"], message["message_id"])],
            "data": data,
        }
        return self.push("callback_query", query)

    def add_file(self, content: bytes) -> str:
        """Make a file Telegram has (a voice message, say); returns its file id."""
        file_id = f"file-{next(self._file_ids)}"
        self.files[file_id] = content
        return file_id

    # ---- misbehaving on demand ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
        page: str | None = None,
    ) -> None:
        """Refuse the next `times` calls of `method` (in `chat_id`, if given).

        A `retry_after` makes it Telegram's flood-control answer (429 with `parameters`). A
        `page` is answered as is, as HTML, instead of the Bot API's JSON: what a proxy in front
        of a local Bot API server says when that server is down (`error_code` is its status).
        """
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}" if retry_after else "Bad Request"
            )
        self._failures.append(
            _Failure(method, error_code, description, retry_after, chat_id, times, page)
        )

    # ---- reading the log ------------------------------------------------------------------

    def calls_to(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        """Calls of `method` (to `chat_id`, if given), oldest first."""
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        where: Callable[[ApiCall], bool] | None = None,
        within: float = 10.0,
    ) -> list[ApiCall]:
        """Wait up to `within` seconds for `count` calls of `method` (matching `where`)."""
        with anyio.fail_after(within):
            while True:
                found = [c for c in self.calls_to(method) if where is None or where(c)]
                if len(found) >= count:
                    return found
                await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    # ---- the Bot API ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        form = await request.post()
        raw: dict[str, str] = {}
        parts: dict[str, Upload] = {}
        for name, value in form.items():
            if isinstance(value, web.FileField):
                parts[name] = Upload(value.filename, value.file.read())
            else:
                raw[name] = str(value)
        call = ApiCall(
            method=method,
            params={},
            raw=raw,
            uploads={},
            content_type=request.content_type,
            at=time.monotonic(),
        )
        self.calls.append(call)
        try:
            call.params = _decode(raw)
            call.uploads = _resolve_attachments(raw, parts)
            failure = self._take_failure(method, call.chat_id)
            if failure is not None and failure.page is not None:
                call.ok, call.error_code = False, failure.error_code
                return web.Response(
                    status=failure.error_code, text=failure.page, content_type="text/html"
                )
            if failure is not None:
                raise _ApiError(failure.error_code, failure.description, failure.retry_after)
            result = call.result = await self._dispatch(method, call)
        except _ApiError as error:
            call.ok, call.error_code = False, error.code
            return error.response()
        finally:
            self._notify()
        return web.json_response({"ok": True, "result": result})

    def _take_failure(self, method: str, chat_id: int | None) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    async def _dispatch(self, method: str, call: ApiCall) -> Any:
        p = call.params
        match method:
            case "getMe":
                return {**_bot_user(), "can_join_groups": True}
            case "getUpdates":
                return await self._get_updates(p)
            case "sendMessage":
                return self._new_message(_int(p, "chat_id"), text=p["text"], **_markup(p))
            case "editMessageText":
                return self._edit(_int(p, "chat_id"), _int(p, "message_id"), p["text"], p)
            case "sendAudio" | "sendVideo" | "sendDocument":
                return self._send_file(method, call)
            case "getFile":
                return self._get_file(p["file_id"])
            case (
                "deleteWebhook"
                | "setWebhook"
                | "setMyCommands"
                | "answerCallbackQuery"
                | "sendChatAction"
                | "deleteMessage"
            ):
                return True
        raise _ApiError(404, "Not Found: method not found")

    async def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset", 0))
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        with anyio.move_on_after(float(p.get("timeout", 0))):
            while not self._updates and not self._closing:
                await self._changed.wait()
        return list(self._updates)

    def _new_message(
        self, chat_id: int, *, sender: dict[str, Any] | None = None, **content: Any
    ) -> dict[str, Any]:
        ids = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = {
            "message_id": next(ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": sender or _bot_user(),
            **{k: v for k, v in content.items() if v is not None},
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _edit(self, chat_id: int, message_id: int, text: str, p: dict[str, Any]) -> Any:
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        markup = p.get("reply_markup")
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    def _send_file(self, method: str, call: ApiCall) -> dict[str, Any]:
        param = _FILE_PARAMS[method]
        upload = call.uploads.get(param)
        if upload is not None:
            if len(upload.content) > self.upload_limit:
                raise _ApiError(413, "Request Entity Too Large")
            file_id = f"{param}-{next(self._file_ids)}"
            self.files[file_id] = upload.content
            name = upload.filename
        else:
            file_id = call.params.get(param, "")
            if file_id not in self.files:
                raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            name = None
        p = call.params
        attachment: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_name": name,
        }
        if param in ("audio", "video"):
            attachment["duration"] = int(p.get("duration", 0))
        if param == "audio":
            attachment.update(title=p.get("title"), performer=p.get("performer"))
        if param == "video":
            attachment.update(width=320, height=240)
        return self._new_message(
            _int(p, "chat_id"), caption=p.get("caption"), **{param: _clean(attachment)}
        )

    def _get_file(self, file_id: str) -> dict[str, Any]:
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"files/{file_id}",
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        content = self.files.get(request.match_info["path"].removeprefix("files/"))
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content)


class _ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        return _error(self.code, self.description, self.retry_after)


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)


def _decode(raw: dict[str, str]) -> dict[str, Any]:
    """JSON-typed parameters decoded, as Telegram does; malformed JSON is a 400."""
    params: dict[str, Any] = dict(raw)
    for name in JSON_PARAMS & raw.keys():
        try:
            params[name] = json.loads(raw[name])
        except json.JSONDecodeError:
            raise _ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return params


def _resolve_attachments(raw: dict[str, str], parts: dict[str, Upload]) -> dict[str, Upload]:
    """Map each `attach://name` parameter to its file part; a dangling reference is a 400."""
    uploads: dict[str, Upload] = {}
    for name, value in raw.items():
        if value.startswith("attach://"):
            part = parts.get(value.removeprefix("attach://"))
            if part is None:
                raise _ApiError(400, f"Bad Request: file for {name} not found in the request")
            uploads[name] = part
    return uploads


def _int(p: dict[str, Any], name: str) -> int:
    try:
        return int(p[name])
    except (KeyError, ValueError):
        raise _ApiError(400, f"Bad Request: {name} is missing or invalid") from None


def _markup(p: dict[str, Any]) -> dict[str, Any]:
    return {"reply_markup": p["reply_markup"]} if "reply_markup" in p else {}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "AudioGrab", "username": "audiograb_bot"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "group", "title": f"Group{-chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}


def _entities(text: str) -> list[dict[str, Any]] | None:
    """Entities Telegram would mark: links and a leading bot command (UTF-16 offsets)."""
    entities = []
    offset = 0
    for word in text.split(" "):
        start = len(text[:offset].encode("utf-16-le")) // 2
        length = len(word.encode("utf-16-le")) // 2
        if word.startswith(("http://", "https://")):
            entities.append({"type": "url", "offset": start, "length": length})
        elif word.startswith("/") and offset == 0:
            entities.append({"type": "bot_command", "offset": 0, "length": length})
        offset += len(word) + 1
    return entities or None


@contextlib.asynccontextmanager
async def fake_bot_api(
    token: str = TOKEN, *, upload_limit: int = 50_000_000
) -> AsyncIterator[FakeBotApi]:
    """Serve a fresh fake on a free loopback port for the block's duration."""
    api = FakeBotApi(token=token, upload_limit=upload_limit)
    app = web.Application(client_max_size=upload_limit + 10_000_000)
    app.router.add_post("/bot{token}/{method}", api._handle)
    app.router.add_get("/file/bot{token}/{path:.+}", api._download)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    api.base_url = f"http://{host}:{port}"
    try:
        yield api
    finally:
        api._closing = True
        api._notify()
        with anyio.CancelScope(shield=True):
            await runner.cleanup()
