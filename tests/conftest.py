"""Suite-wide options (the `network` marker runs only with `--network`) and the servers
that several test folders share, each started once per session by its fixture."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import DATABASES, database_location
from tests.pgserver import PgServer, postgres_server
from tests.s3server import S3Server, s3_server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--network",
        action="store_true",
        default=False,
        help="also run tests marked `network`, which reach real public sites",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--network"):
        return
    skip = pytest.mark.skip(reason="needs the internet; run with --network")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 server (SeaweedFS) for the whole session; each test uses its own prefix."""
    with s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """A real PostgreSQL server for the whole session; `create_database()` gives a test its own
    database."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """An empty job database, once on SQLite and once on PostgreSQL (`open_store` takes
    either): the tests that use it run against both."""
    return database_location(request, tmp_path)
