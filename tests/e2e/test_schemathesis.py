"""Property-based API tests: schemathesis generates requests for every documented operation
of a live server (a real uvicorn on loopback) and runs all of its checks on the answers:
statuses, content types, headers and bodies as documented, no server errors, methods as the
schema says. A bounded number of examples per operation keeps it to about a minute."""

import sys
from pathlib import Path

import anyio
import msgspec
import pytest

from audiograb.config import Settings
from tests.e2e.api_support import API_KEY, running_api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CONFIG = Path(__file__).parents[2] / "schemathesis.toml"
EXAMPLES_PER_OPERATION = 5


async def test_the_api_holds_to_its_schema(settings: Settings, tmp_path: Path) -> None:
    # Keyed like a served API; no rate limit (thousands of requests in a minute); downloads
    # under the network guard, so generated URLs never reach a private address.
    served = msgspec.structs.replace(
        settings, api_keys=(API_KEY,), rate_limit_per_minute=0, allow_private_networks=False
    )
    argv = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(CONFIG), "--no-color",
        "run", "--checks", "all", "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--seed", "17", "--no-shrink", "--generation-database", "none", "--workers", "1",
        "--header", f"X-API-Key: {API_KEY}", "--request-timeout", "30",
        # The all-jobs event stream runs until the server stops: no answer ever ends.
        "--exclude-path", "/api/events",
    ]  # fmt: skip
    async with running_api(served) as api:
        argv.append(f"{api.base_url}/api/schema/openapi.json")
        with anyio.fail_after(600):
            # In a folder of its own: schemathesis keeps a cache where it runs.
            result = await anyio.run_process(argv, check=False, cwd=tmp_path)
    report = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    assert result.returncode == 0, report[-20_000:]
