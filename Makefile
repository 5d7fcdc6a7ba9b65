# One entry point. `make study` runs the default study end to end; `make test` runs the tests.
# Both set up the environment first and are fast when nothing changed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.study-installed
PARAMS ?= params/default.yaml

.PHONY: study env encoder data browser test test-fast lint smoke bench lab clean-env

study: env encoder data  ## the main job: default study -> reports/<study>/index.html
	@echo "running $(PARAMS) (a 4-minute check of the whole pipeline first? make smoke)"
	@$(VENV)/bin/study run $(PARAMS)

env: $(STAMP)  ## virtualenv with the pinned dependencies (reinstalls only when pyproject.toml changes)

$(STAMP): pyproject.toml requirements-nodeps.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	@touch $@

encoder: env  ## rebuild the offline encoder (skipped when an identical checkpoint exists)
	$(VENV)/bin/study model build

data: env  ## verify the data bundle; build it from its public upstream sources when there is none
	@$(VENV)/bin/study data fetch

test: env encoder data browser  ## the whole suite, slow end-to-end tests included, the longer fuzz profile (what CI runs)
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q

test-fast: env encoder  ## skip the slow end-to-end tests
	$(PY) -m pytest -q -m "not slow"

browser:  ## headless Chromium for the report test (Debian package; needs root, skipped if present)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null; } || echo "warning: could not install chromium"

lint: env
	$(VENV)/bin/ruff check src tests

smoke: env encoder data
	$(VENV)/bin/study run params/smoke.yaml

lab: env encoder data  ## JupyterLab on the notebooks, with the project's kernel (python3 of .venv)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks

bench: env encoder data  ## the performance suite -> reports/bench/bench.{json,md} (~30 min on 2 cores)
	$(VENV)/bin/study bench

clean-env:
	rm -rf $(VENV)
