"""Deployment artifacts: the checks of deploy/validate.py pass, and each one catches the breakage it exists for.

Rendering needs kubectl (kustomize) and schema checks need kubernetes-validate; tests that need a missing
tool are skipped with the reason. Everything is offline.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis
import yaml  # type: ignore[import-untyped, unused-ignore]

from service.processes import start_redis

ROOT = Path(__file__).resolve().parents[2]
Manifest = dict[str, Any]


def _load_validate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("autostack_deploy_validate", ROOT / "deploy" / "validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


validate = _load_validate()

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed: the kustomizations cannot be rendered"
)


def _has_kubernetes_validate() -> bool:
    return importlib.util.find_spec("kubernetes_validate") is not None


needs_schemas = pytest.mark.skipif(
    not _has_kubernetes_validate(), reason="kubernetes-validate is not installed: no Kubernetes schemas offline"
)


@pytest.fixture(scope="module")
def base() -> list[Manifest]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the kustomizations cannot be rendered")
    rendered: list[Manifest] = validate.render(validate.BASE)
    return rendered


@pytest.fixture(scope="module")
def production() -> list[Manifest]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the kustomizations cannot be rendered")
    rendered: list[Manifest] = validate.render(validate.PRODUCTION)
    return rendered


def one(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = validate.find_one(manifests, kind, name)
    assert found is not None, f"no single {kind}/{name}"
    result: Manifest = found
    return result


def container_of(manifests: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = validate.first_container(one(manifests, kind, name))
    return found


def config_map_named(manifests: list[Manifest], prefix: str) -> Manifest:
    """A generated ConfigMap by its name before kustomize's hash suffix."""
    found = [
        m
        for m in manifests
        if m["kind"] == "ConfigMap" and re.fullmatch(rf"{prefix}(-[a-z0-9]+)?", m["metadata"]["name"])
    ]
    assert len(found) == 1, f"no single ConfigMap {prefix}"
    return found[0]


# ---- the rendered manifests keep the contract ----------------------------------------------------------


@needs_kubectl
def test_base_and_production_pass_every_contract_check(base: list[Manifest], production: list[Manifest]) -> None:
    assert validate.kubernetes_checks(base) == []
    assert validate.check_in_cluster_redis(base) == []
    assert validate.kubernetes_checks(production) == []
    assert validate.check_production(production) == []


@needs_kubectl
@needs_schemas
@pytest.mark.parametrize("which", ["base", "production"])
def test_rendered_objects_match_the_kubernetes_schemas(which: str, request: pytest.FixtureRequest) -> None:
    manifests: list[Manifest] = request.getfixturevalue(which)
    assert validate.check_schemas(manifests) == []


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "production"])
def test_web_is_probed_on_readyz_and_healthz_and_drains(which: str, request: pytest.FixtureRequest) -> None:
    manifests: list[Manifest] = request.getfixturevalue(which)
    web = container_of(manifests, "Deployment", "autostack-web")
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["command"] == ["autostack", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert web["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    spec = validate.pod_spec(one(manifests, "Deployment", "autostack-web"))
    assert spec["terminationGracePeriodSeconds"] >= 10 + 20


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "production"])
def test_worker_outlives_its_longest_job(which: str, request: pytest.FixtureRequest) -> None:
    manifests: list[Manifest] = request.getfixturevalue(which)
    worker = one(manifests, "Deployment", "autostack-worker")
    assert validate.first_container(worker)["command"] == ["autostack", "worker"]
    assert validate.pod_spec(worker)["terminationGracePeriodSeconds"] >= 120 + 30
    assert "replicas" not in worker["spec"], "KEDA owns the worker replicas"


@needs_kubectl
def test_keda_scales_workers_on_the_rq_queue_list(base: list[Manifest]) -> None:
    scaled = one(base, "ScaledObject", "autostack-worker")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == "autostack-worker"
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (1, 16)
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == "rq:queue:autostack"
    assert int(trigger["metadata"]["listLength"]) > 0
    variable = trigger["metadata"]["addressFromEnv"]
    address = validate.env_entry(container_of(base, "Deployment", "autostack-worker"), variable)
    assert address == {"name": variable, "value": "autostack-redis:6379"}


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "production"])
def test_every_container_runs_as_non_root(which: str, request: pytest.FixtureRequest) -> None:
    manifests: list[Manifest] = request.getfixturevalue(which)
    assert validate.check_pod_security(manifests) == []
    for workload in validate.workloads(manifests):
        assert validate.pod_spec(workload)["securityContext"]["runAsNonRoot"] is True


@needs_kubectl
@pytest.mark.parametrize("which", ["base", "production"])
def test_no_secret_in_any_config_map(which: str, request: pytest.FixtureRequest) -> None:
    manifests: list[Manifest] = request.getfixturevalue(which)
    assert validate.check_no_secrets_in_config_maps(manifests) == []
    for cm in validate.find(manifests, "ConfigMap"):
        assert not validate.SECRET_SETTINGS & set(cm.get("data", {}))
    assert not validate.find(manifests, "Secret"), "secrets are referenced by name, never rendered"


@needs_kubectl
def test_in_cluster_redis_has_aof_and_noeviction(base: list[Manifest]) -> None:
    conf = validate.parse_redis_conf(config_map_named(base, "autostack-redis-conf")["data"]["redis.conf"])
    assert conf["appendonly"] == ["yes"]
    assert conf["maxmemory-policy"] == ["noeviction"]
    redis_set = one(base, "StatefulSet", "autostack-redis")
    assert redis_set["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


@needs_kubectl
def test_production_uses_an_external_redis_from_the_secret(production: list[Manifest]) -> None:
    assert not validate.find(production, "StatefulSet")
    assert not validate.find(production, "ConfigMap", "autostack-redis-conf")
    for name in ("autostack-web", "autostack-worker"):
        ref = validate.env_entry(container_of(production, "Deployment", name), "REDIS_URL")
        assert ref == {
            "name": "REDIS_URL",
            "valueFrom": {"secretKeyRef": {"name": "autostack-secrets", "key": "REDIS_URL"}},
        }
    images = {c["image"] for w in validate.workloads(production) for c in validate.containers(w)}
    assert images == {"registry.example.com/autostack:0.1.0"}
    assert one(production, "Deployment", "autostack-web")["spec"]["replicas"] == 3
    assert config_map_named(production, "autostack-config")["data"]["AUTOSTACK_DRY_RUN"] == "false"


# ---- the checks catch breakage -----------------------------------------------------------------------------


def _web(manifests: list[Manifest]) -> dict[str, Any]:
    found: dict[str, Any] = validate.first_container(validate.find_one(manifests, "Deployment", "autostack-web"))
    return found


def _worker_spec(manifests: list[Manifest]) -> dict[str, Any]:
    found: dict[str, Any] = validate.pod_spec(validate.find_one(manifests, "Deployment", "autostack-worker"))
    return found


def _trigger(manifests: list[Manifest]) -> dict[str, Any]:
    found: dict[str, Any] = validate.find_one(manifests, "ScaledObject", "autostack-worker")["spec"]["triggers"][0]
    return found


def _settings_map(manifests: list[Manifest]) -> dict[str, str]:
    found: dict[str, str] = config_map_named(manifests, "autostack-config")["data"]
    return found


def _redis_conf_map(manifests: list[Manifest]) -> dict[str, str]:
    found: dict[str, str] = config_map_named(manifests, "autostack-redis-conf")["data"]
    return found


BREAKAGES: dict[str, tuple[Callable[[list[Manifest]], None], str]] = {
    "readiness on /healthz": (lambda m: _web(m)["readinessProbe"]["httpGet"].update(path="/healthz"), "check_web"),
    "no liveness probe": (lambda m: _web(m).pop("livenessProbe"), "check_web"),
    "no preStop": (lambda m: _web(m).pop("lifecycle"), "check_web"),
    "root web container": (lambda m: _web(m)["securityContext"].update(runAsNonRoot=False), "check_pod_security"),
    "writable root filesystem": (
        lambda m: _web(m)["securityContext"].update(readOnlyRootFilesystem=False),
        "check_pod_security",
    ),
    "latest image": (lambda m: _web(m).update(image="autostack:latest"), "check_pod_security"),
    "no memory limit": (lambda m: _web(m)["resources"].pop("limits"), "check_pod_security"),
    "short worker grace": (lambda m: _worker_spec(m).update(terminationGracePeriodSeconds=30), "check_worker"),
    "other list": (lambda m: _trigger(m)["metadata"].update(listName="rq:queue:other"), "check_scaled_object"),
    "literal address": (lambda m: _trigger(m)["metadata"].update(address="redis:6379"), "check_scaled_object"),
    "queue renamed alone": (lambda m: _settings_map(m).update(AUTOSTACK_QUEUE="stacks"), "check_scaled_object"),
    "token in ConfigMap": (
        lambda m: _settings_map(m).update(FRAMEIO_TOKEN="abc"),
        "check_no_secrets_in_config_maps",
    ),
    "password in a Redis URL": (
        lambda m: _settings_map(m).update(CACHE="redis://:hunter2@redis:6379/0"),
        "check_no_secrets_in_config_maps",
    ),
    "misspelt setting": (lambda m: _settings_map(m).update(AUTOSTACK_QUEU="x"), "check_env_names"),
    "no secret reference": (lambda m: _web(m)["envFrom"].pop(), "check_secret_reference"),
    "redis evicts": (
        lambda m: _redis_conf_map(m).update({"redis.conf": "# evict\nappendonly yes\nmaxmemory-policy allkeys-lru\n"}),
        "check_in_cluster_redis",
    ),
    "no PDB": (
        lambda m: m.remove(validate.find_one(m, "PodDisruptionBudget", "autostack-worker")),
        "check_services_and_budgets",
    ),
}


@pytest.fixture(scope="module")
def base_any_way() -> list[Manifest]:
    """The rendered base, or without kubectl the base assembled from its files (the checks are the same)."""
    if shutil.which("kubectl") is None:
        assembled: list[Manifest] = validate.assemble_base_without_kustomize()
        return assembled
    rendered: list[Manifest] = validate.render(validate.BASE)
    return rendered


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_checks_catch_a_broken_base(breakage: str, base_any_way: list[Manifest]) -> None:
    manifests = copy.deepcopy(base_any_way)
    check_name = BREAKAGES[breakage][1]
    check = getattr(validate, check_name)
    assert check(manifests) == [], f"{check_name} fails before the breakage"
    BREAKAGES[breakage][0](manifests)
    assert check(manifests) != [], f"{check_name} does not notice: {breakage}"


@needs_kubectl
@needs_schemas
def test_schema_check_catches_an_unknown_field(base: list[Manifest]) -> None:
    manifests = copy.deepcopy(base)
    _web(manifests)["readinesProbe"] = {"httpGet": {"path": "/readyz", "port": 8000}}
    problems = validate.check_schemas(manifests)
    assert any("readinesProbe" in p for p in problems)


@needs_kubectl
def test_production_check_catches_a_literal_redis_url_and_the_in_cluster_redis(
    base: list[Manifest], production: list[Manifest]
) -> None:
    manifests = copy.deepcopy(production)
    entry = validate.env_entry(_web(manifests), "REDIS_URL")
    entry.pop("valueFrom")
    entry["value"] = "redis://autostack-redis:6379/0"
    manifests.append(one(base, "StatefulSet", "autostack-redis"))
    problems = validate.check_production(manifests)
    assert any("REDIS_URL" in p for p in problems)
    assert any("StatefulSet/autostack-redis" in p for p in problems)


def test_base_can_be_checked_without_kustomize() -> None:
    manifests = validate.assemble_base_without_kustomize()
    assert validate.kubernetes_checks(manifests) == []
    assert validate.check_in_cluster_redis(manifests) == []


# ---- Redis configuration ---------------------------------------------------------------------------------


def test_redis_conf_keeps_aof_and_noeviction() -> None:
    text = validate.REDIS_CONF.read_text()
    assert validate.check_redis_conf(text) == []
    conf = validate.parse_redis_conf(text)
    assert conf["appendonly"] == ["yes"]
    assert conf["appendfsync"] == ["everysec"]
    assert conf["maxmemory-policy"] == ["noeviction"]
    assert validate.check_links() == []


@pytest.mark.parametrize(
    ("directive", "broken"),
    [
        ("appendonly", "appendonly no"),
        ("maxmemory-policy", "maxmemory-policy allkeys-lru"),
        ("appendfsync", "appendfsync no"),
    ],
)
def test_redis_conf_check_catches(directive: str, broken: str) -> None:
    text = validate.REDIS_CONF.read_text() + f"\n{broken}\n"
    assert any(directive in p for p in validate.check_redis_conf(text))


@pytest.fixture
def redis_with_our_conf(tmp_path: Path) -> Iterator[redis.Redis]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed: the conf cannot be loaded")
    conf = tmp_path / "redis.conf"
    conf.write_text(validate.REDIS_CONF.read_text().replace("dir /data", f"dir {tmp_path}"))
    child, url = start_redis(config=conf, log_dir=tmp_path)
    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        yield client
    finally:
        client.close()
        child.stop()


def test_redis_server_accepts_the_conf(redis_with_our_conf: redis.Redis) -> None:
    config = redis_with_our_conf.config_get("*")
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["maxmemory-policy"] == "noeviction"


def test_rules_file_loads_and_its_check_catches_an_unknown_key(tmp_path: Path) -> None:
    assert validate.check_rules_file() == []
    bad = tmp_path / "rules.toml"
    bad.write_text('annotation_wrods = ["ok"]\n')
    assert validate.check_rules_file(bad) != []


# ---- docker compose ---------------------------------------------------------------------------------------


@pytest.fixture
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(validate.COMPOSE.read_text())
    return loaded


def test_compose_runs_redis_web_worker_and_a_sandbox_profile(compose: dict[str, Any]) -> None:
    assert validate.check_compose(compose, validate.ENV_EXAMPLE.read_text()) == []
    services = compose["services"]
    assert "redis-data" in compose["volumes"]
    assert "8000:8000" in services["web"]["ports"]
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert "container_name" not in services["worker"]


COMPOSE_BREAKAGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "worker with a container_name": lambda c: c["services"]["worker"].update(container_name="worker"),
    "worker with a port": lambda c: c["services"]["worker"].update(ports=["9000:9000"]),
    "worker killed after 10 s": lambda c: c["services"]["worker"].update(stop_grace_period="10s"),
    "sandbox always on": lambda c: c["services"]["sandbox"].pop("profiles"),
    "token inline": lambda c: c["services"]["web"]["environment"].update(FRAMEIO_TOKEN="abc"),
    "redis without its conf": lambda c: c["services"]["redis"].update(volumes=["redis-data:/data"]),
    "redis data not persisted": lambda c: c["services"]["redis"].update(
        volumes=["./redis.conf:/usr/local/etc/redis/redis.conf:ro"]
    ),
    "web not health-checked": lambda c: c["services"]["web"].pop("healthcheck"),
    "no env file": lambda c: c["services"]["worker"].pop("env_file"),
}


@pytest.mark.parametrize("breakage", sorted(COMPOSE_BREAKAGES))
def test_compose_check_catches(breakage: str, compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    COMPOSE_BREAKAGES[breakage](broken)
    assert validate.check_compose(broken, validate.ENV_EXAMPLE.read_text()) != []


def test_env_example_holds_placeholders_only() -> None:
    text = validate.ENV_EXAMPLE.read_text()
    assert validate.check_env_example(text) == []
    assert validate.check_env_example(text + "\nFRAMEIO_WEBHOOK_SECRETS=9f86d081884c7d659a2feaa0c55ad015\n") != []
    assert validate.check_env_example(text + "\n# FRAMEIO_CLIENT_SECRET=s3cr3t\n") != []
    assert validate.check_env_example(text + "\nAUTOSTACK_QUEU=autostack\n") != []


# ---- Dockerfile ------------------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_non_root_and_health_checked() -> None:
    text = validate.DOCKERFILE.read_text()
    assert validate.check_dockerfile(text) == []
    instructions = validate.parse_dockerfile(text)
    assert sum(i.keyword == "FROM" for i in instructions) == 2
    user = [i.arguments for i in instructions if i.keyword == "USER"][-1]
    assert int(user.split(":")[0]) > 0
    assert validate.check_dockerignore(validate.DOCKERIGNORE.read_text(), text) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("USER 10001:10001", "USER root"),
        ('CMD ["autostack", "serve"', 'CMD ["autostack", "worker"'),
        ("/healthz", "/"),
        ("FROM ${PYTHON_IMAGE} AS runtime", "FROM python:3.12 AS runtime"),
        ("ENV PYTHONUNBUFFERED=1", "ENV FRAMEIO_TOKEN=abc PYTHONUNBUFFERED=1"),
        ("org.opencontainers.image.revision=", "org.example.revision="),
    ],
)
def test_dockerfile_check_catches(old: str, new: str) -> None:
    text = validate.DOCKERFILE.read_text()
    assert old in text
    assert validate.check_dockerfile(text.replace(old, new)) != []


def test_dockerignore_check_catches_an_excluded_source() -> None:
    text = validate.DOCKERIGNORE.read_text()
    assert validate.check_dockerignore(text.replace("!workers/\n", ""), validate.DOCKERFILE.read_text()) != []


def _lint(path: Path) -> list[str]:
    try:
        problems: list[str] = validate.lint_dockerfile(path)
    except validate.ToolMissing as missing:
        pytest.skip(str(missing))
    return problems


def test_hadolint_passes_the_dockerfile() -> None:
    assert _lint(validate.DOCKERFILE) == []


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nADD . /app\n")
    assert _lint(bad) != []


# ---- Grafana dashboard -------------------------------------------------------------------------------------


@pytest.fixture
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(validate.DASHBOARD.read_text())
    return loaded


def test_dashboard_queries_only_autostack_metrics(dashboard: dict[str, Any]) -> None:
    assert validate.check_dashboard(dashboard) == []
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    metrics = {
        s.metric
        for panel in validate.dashboard_panels(dashboard)
        for target in panel.get("targets", [])
        for s in validate.parse_promql(target["expr"])[0]
    }
    assert metrics <= set(validate.METRICS)


@pytest.mark.parametrize(
    ("expr", "complaint"),
    [
        ("sum(rate(http_requests_total[5m]))", "unknown metric http_requests_total"),
        ("rate(autostack_webhook_total[5m])", "unknown metric autostack_webhook_total"),
        ('rate(autostack_jobs_total{outcome="done"}[5m])', "outcome='done'"),
        ("max by (endpoint) (rate(autostack_jobs_total[5m]))", "unknown label endpoint"),
        ('rate(autostack_decisions_total{rule="x"}[5m])', "no label rule"),
    ],
)
def test_promql_check_catches(expr: str, complaint: str) -> None:
    assert any(complaint in p for p in validate.check_promql(expr))


def test_promql_check_accepts_aggregations_functions_and_grouping() -> None:
    expr = (
        "histogram_quantile(0.95, sum without (instance, pod)"
        " (rate(autostack_job_duration_seconds_bucket[$__rate_interval])))"
        " / on (le) group_left max by (le) (autostack_job_duration_seconds_bucket offset 1h30m)"
    )
    assert validate.check_promql(expr) == []


def test_dashboard_check_catches_a_foreign_metric_and_a_missing_panel(dashboard: dict[str, Any]) -> None:
    broken = copy.deepcopy(dashboard)
    for panel in validate.dashboard_panels(broken):
        for target in panel.get("targets", []):
            if "autostack_frameio_429_total" in target["expr"]:
                target["expr"] = "rate(process_cpu_seconds_total[5m])"
    problems = validate.check_dashboard(broken)
    assert any("process_cpu_seconds_total" in p for p in problems)
    assert any("no panel shows autostack_frameio_429_total" in p for p in problems)


# ---- the command CI runs ---------------------------------------------------------------------------------------


def test_validate_script_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code = validate.main([])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out
