"""File names from titles never escape the output folder and stay readable."""

from pathlib import Path

import pytest

from audiograb.pipeline.workspace import Workspace, safe_stem


@pytest.mark.parametrize(
    ("title", "stem"),
    [
        ("My Space: AMA / Q&A", "My Space AMA Q&A"),
        ("../../etc/passwd", "etc passwd"),
        ("..", "fallback"),
        ("", "fallback"),
        (None, "fallback"),
        ("小红书 笔记\n第二行", "小红书 笔记 第二行"),
        ('a<b>c:"d"|e?*', "a b c d e"),
    ],
)
def test_safe_stem(title: str | None, stem: str) -> None:
    assert safe_stem(title, fallback="fallback") == stem


def test_long_titles_are_cut() -> None:
    assert len(safe_stem("x" * 500, fallback="f")) == 120


@pytest.mark.parametrize(
    "title",
    ["小宇宙播客第一百二十期：关于人工智能的长谈" * 8, "🎧" * 100],
    ids=["chinese", "emoji"],
)
def test_long_non_latin_titles_make_names_the_file_system_takes(tmp_path: Path, title: str) -> None:
    # 120 Chinese characters are 360 bytes, emoji 4 bytes each: over the 255-byte limit of a
    # file name, which failed the job with "File name too long" once it was converted.
    stem = safe_stem(title, fallback="f")
    assert title.startswith(stem)
    workspace = Workspace(tmp_path / "work", tmp_path)
    output = workspace.output_path(title, "0123456789abcdef", "opus")
    assert output.name.startswith(stem)
    output.write_bytes(b"")
    output.with_name(f".{output.name}.part").write_bytes(b"")  # the converter's partial file


def test_output_names_carry_the_job_id(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "work", tmp_path / "out")
    path = workspace.output_path("Talk", "0123456789abcdef", "mp3")
    assert path == tmp_path / "out" / "Talk [01234567].mp3"
    elsewhere = workspace.output_path(None, "0123456789abcdef", "m4a", folder=tmp_path)
    assert elsewhere == tmp_path / "0123456789abcdef [01234567].m4a"


def test_discard_removes_the_work_folder(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "work", tmp_path / "out")
    folder = workspace.job_dir("job")
    (folder / "part.ytdl").write_text("x")
    workspace.discard("job")
    assert not folder.exists()
    workspace.discard("job")  # twice is fine
