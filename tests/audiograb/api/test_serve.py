"""`audiograb serve` refuses to expose an open API beyond loopback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audiograb.config import load_settings
from audiograb.server.http import exposure_problem, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_exposure_needs_keys_or_insecure() -> None:
    exposed = load_settings(environ={}, host="0.0.0.0")
    assert exposure_problem(exposed, insecure=False) is not None
    assert exposure_problem(exposed, insecure=True) is None
    keyed = load_settings(environ={}, host="0.0.0.0", api_keys=["k" * 32])
    assert exposure_problem(keyed, insecure=False) is None
    assert exposure_problem(load_settings(environ={}), insecure=False) is None


def test_cli_refuses_an_open_public_bind(tmp_path: Path) -> None:
    env = {**os.environ, "AUDIOGRAB_DATA_DIR": str(tmp_path), "AUDIOGRAB_API_KEYS": ""}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "audiograb"), "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "without an API key" in result.stderr
    assert "--insecure" in result.stderr
    assert not (tmp_path / "audiograb.sqlite3").exists()  # refused before opening anything
