# AudioGrab developer tasks. `make test` is what CI runs (.ci/run).
UV ?= uv
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup run test test-fast lint type check bench docs container clean

setup: ## Install uv when missing, then the locked environment.
	@command -v $(UV) >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --extra multilingual

run: setup ## Serve the API (and /live) on http://127.0.0.1:8000.
	$(UV) run audiograb serve

test: setup ## The whole suite, slow end-to-end tests included.
	$(UV) run pytest

test-fast: setup ## Everything but the slow end-to-end tests.
	$(UV) run pytest -m "not slow"

lint: setup ## ruff and the import-linter layering contracts.
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

type: setup ## mypy --strict over both packages.
	$(UV) run mypy

check: lint type test

bench: setup ## Speed goals, as ratios against baselines measured in the same run.
	@failed=""; for script in bench/*_bench.py; do echo "== $$script"; \
		PYTHONPATH=. $(UV) run python $$script || failed="$$failed $$script"; done; \
	if [ -n "$$failed" ]; then echo "missed goals in:$$failed"; exit 1; fi

docs: setup ## Regenerate docs/configuration.md from the settings type.
	$(UV) run python -m audiograb.config_reference > docs/configuration.md.tmp
	mv docs/configuration.md.tmp docs/configuration.md

container: ## Build the service image with podman or docker.
	@engine=$$(command -v podman || command -v docker) || { echo "podman or docker is needed"; exit 1; }; \
	format=$$(case "$$engine" in *podman) echo "--format docker";; esac); \
	$$engine build $$format -f Containerfile -t audiograb:latest .

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
