"""Suite-wide options: the `network` marker runs only with `--network`."""

import pytest


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
