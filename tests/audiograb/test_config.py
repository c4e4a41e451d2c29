"""Settings: environment, TOML file, precedence, empty values, and messages for bad values."""

from pathlib import Path

import msgspec
import pytest

from audiograb.config import Settings, SettingsError, load_settings
from audiograb.config_reference import EXAMPLE_TOML


def _toml(tmp_path: Path, text: str) -> dict[str, str]:
    """An environment that points `AUDIOGRAB_CONFIG` at a file holding `text`."""
    path = tmp_path / "audiograb.toml"
    path.write_text(text, encoding="utf-8")
    return {"AUDIOGRAB_CONFIG": str(path)}


def test_defaults_without_any_source(tmp_path: Path) -> None:
    settings = load_settings(environ={"XDG_DATA_HOME": str(tmp_path)})
    assert settings == Settings(data_dir=settings.data_dir)
    assert settings.port == 8000
    assert settings.api_keys == ()
    assert settings.output_root == settings.data_dir / "output"


def test_environment_values_are_parsed_to_their_types() -> None:
    settings = load_settings(
        environ={
            "AUDIOGRAB_DATA_DIR": "~/grabs",
            "AUDIOGRAB_MAX_CONCURRENT_JOBS": "5",
            "AUDIOGRAB_SOCKET_TIMEOUT": "2.5",
            "AUDIOGRAB_ALLOW_PRIVATE_NETWORKS": "true",
            "AUDIOGRAB_PORT": "0",
            "AUDIOGRAB_UNRELATED_THING": "ignored",
        }
    )
    assert settings.data_dir == Path.home() / "grabs"
    assert settings.max_concurrent_jobs == 5
    assert settings.socket_timeout == 2.5
    assert settings.allow_private_networks is True
    assert settings.port == 0


@pytest.mark.parametrize(("text", "expected"), [("1", True), ("0", False), ("False", False)])
def test_booleans_accept_words_and_digits(text: str, expected: bool) -> None:
    settings = load_settings(environ={"AUDIOGRAB_ALLOW_PRIVATE_NETWORKS": text})
    assert settings.allow_private_networks is expected


def test_list_settings_are_comma_separated_in_the_environment() -> None:
    settings = load_settings(
        environ={
            "AUDIOGRAB_API_KEYS": " first-key-0123456789 , second-key-0123456789,, ",
            "AUDIOGRAB_BOT_ALLOWED_IDS": "11111111,-100222",
            "AUDIOGRAB_ALLOW_NETWORKS": "10.0.0.5/32, fd00::/8",
        }
    )
    assert settings.api_keys == ("first-key-0123456789", "second-key-0123456789")
    assert settings.bot_allowed_ids == (11111111, -100222)
    assert settings.allow_networks == ("10.0.0.5/32", "fd00::/8")


def test_empty_values_count_as_unset(tmp_path: Path) -> None:
    environ = _toml(tmp_path, 'public_url = ""\nmax_concurrent_jobs = 6\n')
    environ |= {"AUDIOGRAB_MAX_CONCURRENT_JOBS": "  ", "AUDIOGRAB_API_KEYS": ""}
    settings = load_settings(environ=environ, whisper_model="")
    assert settings.public_url is None
    assert settings.max_concurrent_jobs == 6  # the blank variable does not hide the file
    assert settings.api_keys == ()
    assert settings.whisper_model is None


def test_the_documented_example_file_loads(tmp_path: Path) -> None:
    settings = load_settings(environ=_toml(tmp_path, EXAMPLE_TOML))
    assert settings.data_dir == Path("/srv/audiograb")
    assert settings.max_concurrent_jobs == 4
    assert settings.bot_allowed_ids == (11111111, -100222)


def test_precedence_is_overrides_then_environment_then_file(tmp_path: Path) -> None:
    environ = _toml(tmp_path, "port = 1111\nmax_concurrent_jobs = 7\nhost = '0.0.0.0'\n")
    environ |= {"AUDIOGRAB_PORT": "2222", "AUDIOGRAB_HOST": "::1"}
    settings = load_settings(environ=environ, host="127.0.0.2", whisper_model=None)
    assert settings.max_concurrent_jobs == 7  # file only
    assert settings.port == 2222  # environment over file
    assert settings.host == "127.0.0.2"  # keyword override over both


@pytest.mark.parametrize(
    ("text", "needle"),
    [("port = [", "not valid TOML"), ("colour = 'blue'", "unknown field `colour`")],
)
def test_a_broken_file_is_reported(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        load_settings(environ=_toml(tmp_path, text))


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read config file"):
        load_settings(environ={"AUDIOGRAB_CONFIG": str(tmp_path / "absent.toml")})


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("max_concurrent_jobs", "0", ">= 1"),
        ("max_concurrent_transcriptions", "-1", ">= 1"),
        ("live_max_sessions", "0", ">= 1"),
        ("download_retries", "-1", ">= 0"),
        ("socket_timeout", "0", "> 0"),
        ("progress_interval", "-0.5", ">= 0"),
        ("port", "65536", "<= 65535"),
        ("port", "eighty", "Expected `int`"),
        ("rate_limit_per_minute", "-5", ">= 0"),
        ("max_request_bytes", "0", ">= 1"),
        ("bot_jobs_per_user", "0", ">= 1"),
        ("bot_allowed_ids", "123,abc", "Expected `int`"),
        ("api_keys", "long-enough-key-123456,short", "length >= 16"),
        ("allow_networks", "10.0.0.0/8,10.0.0.300", "'10.0.0.300' is not an IP address"),
        ("allow_private_networks", "maybe", "Expected `bool`"),
        ("public_url", "grab.example.org", "not an http(s) URL"),
        ("itunes_api_base", "ftp://itunes.apple.com", "not an http(s) URL"),
        ("bot_api_base", "http://", "not an http(s) URL"),
        ("bot_webhook_secret", "has spaces", "matching regex"),
        ("whisper_language_models", "zh=base,chinese", "'chinese' is not `language=model`"),
        ("whisper_batch_size", "0", ">= 1"),
        ("storage_url", "https://bucket.example.org/x", "not an s3://bucket/prefix URL"),
        ("storage_url", "s3:///prefix", "not an s3://bucket/prefix URL"),
        ("storage_url", "s3://media/x?endpoint=ftp://h", "not one http(s) URL"),
        ("storage_url", "s3://media/x?bucket=other", "unknown parameters ['bucket']"),
        ("database_url", "mysql://db.example.org/audiograb", "must start with postgresql://"),
    ],
)
def test_an_invalid_value_names_the_setting_and_its_variable(
    name: str, value: str, reason: str
) -> None:
    variable = f"AUDIOGRAB_{name.upper()}"
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: value})
    message = str(caught.value)
    assert message.startswith(f"invalid setting {name} ({variable}): ")
    assert reason in message


def test_invalid_values_from_a_file_or_an_override_are_named_too(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^invalid setting port \(AUDIOGRAB_PORT\)"):
        load_settings(environ=_toml(tmp_path, "port = 70000\n"))
    with pytest.raises(SettingsError, match=r"^invalid setting max_concurrent_jobs "):
        load_settings(environ={}, max_concurrent_jobs=0)


def test_secret_values_stay_out_of_messages() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"AUDIOGRAB_API_KEYS": "sekrit"})
    assert "sekrit" not in str(caught.value)


def test_language_models_become_a_mapping() -> None:
    settings = load_settings(environ={"AUDIOGRAB_WHISPER_LANGUAGE_MODELS": "zh=base,ja=/m/ja"})
    assert settings.whisper_language_map == {"zh": "base", "ja": "/m/ja"}


def test_checks_run_on_replace_too() -> None:
    with pytest.raises(SettingsError, match="allow_networks"):
        msgspec.structs.replace(Settings(), allow_networks=("not-a-network",))


def test_a_storage_url_with_endpoint_and_region_is_taken() -> None:
    url = "s3://media/audiograb/jobs?endpoint=http://127.0.0.1:8333&region=eu-west-1"
    assert load_settings(environ={"AUDIOGRAB_STORAGE_URL": url}).storage_url == url


def test_the_store_is_the_sqlite_file_unless_a_database_url_is_set(tmp_path: Path) -> None:
    assert load_settings(environ={}, data_dir=tmp_path).database == tmp_path / "audiograb.sqlite3"
    url = "postgresql://audiograb:secret@db:5432/audiograb"
    settings = load_settings(environ={"AUDIOGRAB_DATABASE_URL": url}, data_dir=tmp_path)
    assert settings.database == url
