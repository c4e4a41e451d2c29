"""docs/configuration.md is generated from the settings type and must match it."""

from pathlib import Path

import pytest

from audiograb.config import Settings
from audiograb.config_reference import describe_settings, render_reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_doc_is_current() -> None:
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    if committed != render_reference():
        pytest.fail("docs/configuration.md is stale: run `make docs` and commit the result")


def test_every_setting_is_described_with_its_env_var_and_default() -> None:
    docs = {doc.name: doc for doc in describe_settings()}
    assert list(docs) == list(Settings.__struct_fields__)
    assert all(doc.description for doc in docs.values())
    port = docs["port"]
    assert port.env == "AUDIOGRAB_PORT"
    assert (port.type, port.default) == ("integer, ≥ 0, ≤ 65535", "`8000`")
    assert docs["output_dir"].default == "unset"
    assert docs["api_keys"].type == "list of string, at least 16 characters each"
    assert docs["allow_private_networks"].default == "`false`"
    assert "XDG_DATA_HOME" in docs["data_dir"].default


def test_reference_rows_cannot_break_the_table() -> None:
    rows = [line for line in render_reference().splitlines() if line.startswith("| `")]
    assert len(rows) == len(Settings.__struct_fields__)
    # Five cells per row: an unescaped `|` inside a cell would add one.
    assert {line.replace("\\|", "").count("|") for line in rows} == {6}
