"""Settings: one msgspec Struct, read from `AUDIOGRAB_*` variables and an optional TOML file.

Precedence: explicit keyword overrides, then environment variables, then the TOML file named by
`AUDIOGRAB_CONFIG`, then defaults. Empty strings count as unset. Invalid values stop the start
with a message that names the setting. `docs/configuration.md` lists every setting; it is
generated from this module by `audiograb.config_reference` (`make docs`).
"""

import hashlib
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import msgspec
from msgspec import Meta

__all__ = ["CONFIG_ENV", "ENV_PREFIX", "Settings", "SettingsError", "env_var", "load_settings"]

ENV_PREFIX = "AUDIOGRAB_"
CONFIG_ENV = "AUDIOGRAB_CONFIG"


#: Settings that hold a base URL: they must be absolute http(s) URLs.
_URL_FIELDS = (
    "itunes_api_base",
    "spotify_base",
    "xiaoyuzhou_base",
    "bot_api_base",
    "public_url",
    "polish_url",
    "webhook_url",
)
#: An `api_keys` entry that names its holder: `name:key`.
_NAMED_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_.-]{0,31}):(.{16,})")
#: A `platform_limits` entry: `platform=N`.
_PLATFORM_LIMIT = re.compile(r"([a-z0-9_]+)=([1-9][0-9]*)")
#: A `whisper_language_models` entry: `language=model` (a name or a directory).
_LANGUAGE_MODEL = re.compile(r"([a-z]{2,3})=(\S+)")

Count = Annotated[int, Meta(ge=0)]
"""A number of things or tries: zero or more."""
PositiveCount = Annotated[int, Meta(ge=1)]
"""A number of things that must be at least one."""
Seconds = Annotated[float, Meta(gt=0)]
"""A time span in seconds, more than zero."""


def env_var(name: str) -> str:
    """The environment variable of the setting `name` (`AUDIOGRAB_<NAME>`)."""
    return f"{ENV_PREFIX}{name.upper()}"


class SettingsError(ValueError):
    """A setting has an invalid value; the message names it."""

    @classmethod
    def invalid(cls, name: str, reason: str) -> "SettingsError":
        """The error for setting `name`, naming its environment variable too."""
        return cls(f"invalid setting {name} ({env_var(name)}): {reason}")


def _default_data_dir() -> Path:
    """`$XDG_DATA_HOME/audiograb`, else `~/.local/share/audiograb`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "audiograb"


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting of AudioGrab, with its default. Env var: `AUDIOGRAB_<NAME>` upper-cased."""

    data_dir: Path = msgspec.field(default_factory=_default_data_dir)
    """Where the job database and per-job work folders live."""

    output_dir: Path | None = None
    """Where finished files are kept; defaults to `<data_dir>/output`."""

    database_url: str | None = None
    """PostgreSQL job store shared by every node: `postgresql://user:password@host:5432/db`
    (its password is never logged). None: the SQLite file in `data_dir` (one machine)."""

    storage_url: str | None = None
    """S3-compatible object store for finished files, shared by every node:
    `s3://bucket/prefix?endpoint=http://host:port&region=us-east-1`. None: `output_dir` only."""

    storage_access_key_id: str | None = None
    """Access key of `storage_url`; None: the `AWS_*` environment variables are used."""

    storage_secret_access_key: str | None = None
    """Secret key that goes with `storage_access_key_id`; never logged."""

    max_concurrent_jobs: PositiveCount = 3
    """How many jobs one process downloads or converts at the same time."""

    max_concurrent_transcriptions: PositiveCount = 1
    """How many transcriptions run at once (each uses every CPU core whisper is given)."""

    lease_seconds: Annotated[float, Meta(ge=1)] = 30.0
    """How long a job's lease lasts without a heartbeat: a job whose process died (and that
    no process on the same machine can see is gone) is taken over by another after this."""

    wake_interval: Annotated[float, Meta(gt=0, le=5)] = 0.1
    """Seconds between looks at the database's change counter (SQLite) or the wake-ups other
    nodes sent (PostgreSQL `NOTIFY`): how soon a process notices a job, request or webhook
    written by another process or node."""

    whisper_model: str | None = None
    """Default whisper model: a name or a model directory; None is the bundled `tiny.en`."""

    whisper_language_models: tuple[str, ...] = ()
    """Default model per language, `language=model` entries such as `zh=base`; any other
    language than English without one gets an installed multilingual model."""

    whisper_model_dir: Path | None = None
    """Where named models are looked up first and packaged ones (the `multilingual` extra's
    `base`) are reassembled; defaults to `<data_dir>/models`."""

    whisper_batch_size: PositiveCount = 8
    """VAD-cut chunks whisper decodes at once in long files: 8 measured on 2 idle CPU cores
    (docs/transcription.md); more helps on a GPU; 1: faster-whisper's sequential loop."""

    whisper_batch_from: Seconds = 60.0
    """Seconds of audio from which a file is transcribed in batches."""

    live_max_sessions: PositiveCount = 3
    """Live microphone sessions served at once; one more gets a `busy` error."""

    polish_url: str | None = None
    """OpenAI-compatible chat completions URL to polish live transcripts; None: off."""

    polish_model: str = "gpt-4o-mini"
    """Model name sent to `polish_url`."""

    polish_api_key: str | None = None
    """Bearer key for `polish_url`; never logged."""

    ffmpeg_path: str | None = None
    """FFmpeg binary; default: `ffmpeg` on PATH, else the one from the imageio-ffmpeg wheel."""

    download_retries: Count = 10
    """Retries of a failed HTTP request (yt-dlp `retries`; its CLI default)."""

    fragment_retries: Count = 10
    """Retries of a failed HLS/DASH fragment (yt-dlp `fragment_retries`)."""

    socket_timeout: Seconds = 20.0
    """Seconds without data before a connection counts as failed."""

    progress_interval: Annotated[float, Meta(ge=0)] = 0.25
    """Minimum seconds between two progress events of one job."""

    allow_private_networks: bool = False
    """Let downloads reach private, loopback and link-local addresses (home use, tests)."""

    allow_networks: tuple[str, ...] = ()
    """Addresses or networks (CIDR) downloads may reach even when private, e.g. `10.0.0.5/32`."""

    cookies_file: Path | None = None
    """A Netscape cookies.txt passed to extractors for private or age-restricted media."""

    x_auth_token: str | None = None
    """X (Twitter) `auth_token` cookie, for protected Spaces and posts; never logged."""

    x_ct0: str | None = None
    """X (Twitter) `ct0` cookie that goes with `x_auth_token`."""

    itunes_api_base: str = "https://itunes.apple.com"
    """iTunes lookup and search API (Apple Podcasts and Spotify episode matching)."""

    spotify_base: str = "https://open.spotify.com"
    """Where Spotify's public pages are read for titles, shows and durations."""

    xiaoyuzhou_base: str = "https://www.xiaoyuzhoufm.com"
    """Where 小宇宙 episode and podcast pages are read."""

    host: str = "127.0.0.1"
    """Address `audiograb serve` binds to; anything but loopback needs `api_keys`."""

    port: Annotated[int, Meta(ge=0, le=65535)] = 8000
    """Port `audiograb serve` listens on; 0 picks a free one."""

    api_keys: tuple[Annotated[str, Meta(min_length=16)], ...] = ()
    """Keys accepted by the API (`Authorization: Bearer` or `X-API-Key`); comma-separated.
    `name:key` names its holder (annotation author); a plain key's holder is `key-<sha256[:8]>`."""

    rate_limit_per_minute: Count = 120
    """Requests a minute allowed per API key (or client address without one); 0: no limit."""

    max_request_bytes: PositiveCount = 1_048_576
    """Largest request body the API accepts (uploads have their own limit)."""

    max_upload_bytes: PositiveCount = 512 * 1_048_576
    """Largest file `POST /api/transcriptions` accepts as an upload."""

    max_header_count: PositiveCount = 100
    """Most header fields one request may send; more get 431 `headers_too_large`."""

    max_header_bytes: Annotated[int, Meta(ge=1024)] = 16_384
    """Largest total size of one request's header names and values; more get 431. A request
    head still incomplete at four times this size is cut off with 400."""

    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (CIDR) of reverse proxies whose `X-Forwarded-For` and
    `X-Forwarded-Proto` are believed; comma-separated. Empty: nobody's, loopback included."""

    bot_token: str | None = None
    """Telegram bot token from @BotFather; never logged."""

    bot_allowed_ids: tuple[int, ...] = ()
    """Telegram user and chat ids the bot serves; comma-separated. Empty: nobody."""

    bot_api_base: str | None = None
    """A local Bot API server (e.g. `http://127.0.0.1:8081`): lifts the upload limit to 2000 MB."""

    bot_jobs_per_user: PositiveCount = 2
    """Jobs one Telegram user may have running at once."""

    bot_webhook_secret: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,256}$")] | None = None
    """Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` in webhook mode."""

    public_url: str | None = None
    """The API's public base URL, for links to files too large to send through Telegram."""

    platform_limits: tuple[str, ...] = ()
    """Jobs of one platform run at once, as `platform=N` (e.g. `youtube=1,x_spaces=2`)."""

    retry_limit: Count = 3
    """Automatic retries of a job after a transient failure (network, interrupted); 0: none."""

    retry_base_delay: Seconds = 2.0
    """Seconds before the first automatic retry; each next one waits twice as long (jittered)."""

    retry_max_delay: Seconds = 300.0
    """The longest wait before an automatic retry."""

    webhook_url: str | None = None
    """Default webhook endpoint: gets `job.started/completed/failed` and `batch.completed`."""

    webhook_secret: Annotated[str, Meta(pattern=r"^whsec_[A-Za-z0-9+/]{16,}={0,2}$")] | None = None
    """Signing secret of `webhook_url` (`whsec_` and base64); None: one is made and stored."""

    webhook_timeout: Seconds = 10.0
    """Seconds a webhook endpoint has to answer one delivery."""

    webhook_retry_base_delay: Seconds = 5.0
    """Seconds before a failed webhook delivery is tried again; doubles each time (jittered)."""

    webhook_retry_max_delay: Seconds = 3600.0
    """The longest wait between two tries of one webhook delivery."""

    webhook_max_age: Seconds = 259_200.0
    """Seconds a webhook message is retried for (3 days) before it is given up as failed."""

    max_download_bytes: PositiveCount = 4 * 1024**3
    """Largest download a job may make (4 GiB); a request may ask for less, never more."""

    max_duration: Seconds = 43_200.0
    """Longest media, or live recording, a job may download (12 h); a request may ask for less."""

    min_free_disk_mb: Count = 512
    """`/api/ready` fails when the data or output folder has less free space (MB); 0: no check."""

    def __post_init__(self) -> None:
        """Checks a type cannot express; msgspec also runs them on `structs.replace`."""
        for name in _URL_FIELDS:
            url = getattr(self, name)
            if url is not None and not _is_http_url(url):
                raise SettingsError.invalid(name, f"{url!r} is not an http(s) URL with a host")
        if self.webhook_url is not None and "@" in urlsplit(self.webhook_url).netloc:
            raise SettingsError.invalid(
                "webhook_url", "credentials (user@host) would be shown wherever the URL is"
            )
        for entry in self.platform_limits:
            if _PLATFORM_LIMIT.fullmatch(entry) is None:
                raise SettingsError.invalid(
                    "platform_limits", f"{entry!r} is not `platform=N` with N at least 1"
                )
        if self.database_url is not None and not self.database_url.startswith(
            ("postgresql://", "postgres://")
        ):
            raise SettingsError.invalid("database_url", "must start with postgresql://")
        if self.storage_url is not None and (reason := _storage_url_problem(self.storage_url)):
            raise SettingsError.invalid("storage_url", reason)
        for entry in self.whisper_language_models:
            if _LANGUAGE_MODEL.fullmatch(entry) is None:
                raise SettingsError.invalid(
                    "whisper_language_models", f"{entry!r} is not `language=model`, e.g. `zh=base`"
                )
        for name in ("allow_networks", "trusted_proxies"):
            for network in getattr(self, name):
                try:
                    ipaddress.ip_network(network, strict=False)
                except ValueError:
                    raise SettingsError.invalid(
                        name, f"{network!r} is not an IP address or network (CIDR)"
                    ) from None

    @property
    def named_api_keys(self) -> tuple[tuple[str, str], ...]:
        """`api_keys` as `(identity, key)` pairs: the key to compare, and who holds it."""
        pairs = []
        for entry in self.api_keys:
            named = _NAMED_KEY.fullmatch(entry)
            if named is not None:
                pairs.append((named.group(1), named.group(2)))
            else:
                digest = hashlib.sha256(entry.encode()).hexdigest()[:8]
                pairs.append((f"key-{digest}", entry))
        return tuple(pairs)

    @property
    def platform_limit_map(self) -> dict[str, int]:
        """`platform_limits` as a mapping from platform id to its limit."""
        pairs = (entry.split("=", 1) for entry in self.platform_limits)
        return {platform: int(limit) for platform, limit in pairs}

    @property
    def whisper_language_map(self) -> dict[str, str]:
        """`whisper_language_models` as a mapping from language code to model."""
        pairs = (entry.partition("=") for entry in self.whisper_language_models)
        return {language: model for language, _, model in pairs}

    @property
    def model_root(self) -> Path:
        """The whisper model cache."""
        return self.whisper_model_dir or self.data_dir / "models"

    @property
    def output_root(self) -> Path:
        """The folder finished files go to."""
        return self.output_dir or self.data_dir / "output"

    @property
    def database_path(self) -> Path:
        """The SQLite job database."""
        return self.data_dir / "audiograb.sqlite3"

    @property
    def database_password(self) -> str | None:
        """The password inside `database_url`, if any (a secret for the log redactor)."""
        return urlsplit(self.database_url).password if self.database_url else None

    @property
    def database(self) -> Path | str:
        """Where the job store is: `database_url` when set, else the SQLite file."""
        return self.database_url or self.database_path

    @property
    def work_root(self) -> Path:
        """Per-job temporary folders live below this."""
        return self.data_dir / "work"


def _list_fields() -> frozenset[str]:
    """Settings holding several values: their env vars are comma-separated."""
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    sequences = (msgspec.inspect.VarTupleType, msgspec.inspect.ListType)
    return frozenset(f.name for f in info.fields if isinstance(f.type, sequences))


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    fields = {name.upper(): name for name in Settings.__struct_fields__}
    lists = _list_fields()
    values: dict[str, Any] = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and value.strip() != "":
            name = fields.get(key[len(ENV_PREFIX) :])
            if name in lists:
                values[name] = [item.strip() for item in value.split(",") if item.strip()]
            elif name is not None:
                values[name] = value
    return values


def _file_values(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise SettingsError(f"cannot read config file {path}: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"config file {path} is not valid TOML: {error}") from error
    return {key: value for key, value in data.items() if value != ""}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment, the optional TOML file and explicit overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = env.get(CONFIG_ENV, "").strip()
    if config_file:
        values.update(_file_values(Path(config_file)))
    values.update(_env_values(env))
    values.update({k: v for k, v in overrides.items() if v is not None and v != ""})
    try:
        return msgspec.convert(values, Settings, strict=False, dec_hook=_decode_path)
    except msgspec.ValidationError as error:
        raise SettingsError(_explain(error)) from error


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _storage_url_problem(url: str) -> str | None:
    """Why `url` is no `s3://bucket/prefix?endpoint=…&region=…` URL; None when it is one."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        return f"{url!r} is not an s3://bucket/prefix URL"
    query = parse_qs(parts.query)
    unknown = set(query) - {"endpoint", "region"}
    if unknown:
        return f"{url!r} has unknown parameters {sorted(unknown)} (endpoint and region exist)"
    endpoints = query.get("endpoint", [])
    if endpoints and (len(endpoints) > 1 or not _is_http_url(endpoints[0])):
        return f"its endpoint {endpoints} is not one http(s) URL with a host"
    return None


def _decode_path(kind: type, value: Any) -> Any:
    """Let path settings be given as strings (env vars, TOML, keyword overrides)."""
    if kind is Path and isinstance(value, str | Path):
        return Path(value).expanduser()
    raise NotImplementedError


def _explain(error: msgspec.ValidationError) -> str:
    """Turn msgspec's `... - at `$.name`` into a message that names the env var too."""
    if isinstance(error.__cause__, SettingsError):
        return str(error.__cause__)  # raised by `Settings.__post_init__`: it names the setting
    text = str(error)
    marker = "at `$."
    if marker in text:
        field = text.split(marker, 1)[1].split("`", 1)[0].split(".")[0].split("[")[0]
        reason = text.split(" - at ", 1)[0]
        return str(SettingsError.invalid(field, reason))
    return f"invalid settings: {text}"
