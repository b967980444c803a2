"""autostack's own contract with its deploy files, read against the code (never against copies of
its names): the backlog KEDA scales on, the grace a worker gets against the job timeout, no secret
in a ConfigMap, Redis with AOF and noeviction, the settings' names, the ports and probe paths.
Generic well-formedness (schemas, Dockerfile, compose, PromQL) is the maintained tools' job:
tests/deploy/test_tools.py and ``make deploy-check``."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import redis
from dotenv import dotenv_values
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue
from starlette.routing import Route

from service.app import create_app
from service.metrics_port import render_text
from service.processes import start_redis
from service.webhooks import WebhookContext
from tests.deploy.conftest import BASE, DEPLOY, Manifest, compose, container, one, pod_spec
from workers import metrics
from workers.ingest.inbox import Inbox
from workers.ingest.queue import enqueue_drain
from workers.naming.rules import load_rules
from workers.settings import Settings, load_settings, metrics_listen
from workers.tools.doctor import durability_warning

SETTINGS_ENV = BASE / "settings.env"
NOT_SETTINGS = frozenset({"PYTHONUNBUFFERED"})  # environment a container needs that autostack does not read


def deployed_settings() -> Settings:
    """The settings the Kubernetes base gives every pod (its settings.env), as the code reads them."""
    values = {key: value or "" for key, value in dotenv_values(SETTINGS_ENV).items()}
    return load_settings({**values, "FRAMEIO_TOKEN": "t", "FRAMEIO_WEBHOOK_SECRETS": "s"})


def secret_settings() -> set[str]:
    """Settings the code keeps secret: SecretStr fields, and those kept out of repr (REDIS_URL)."""
    return {
        name.upper()
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation) or field.repr is False
    }


def the_trigger(manifests: list[Manifest]) -> dict[str, Any]:
    (trigger,) = one(manifests, "ScaledObject", "autostack-worker")["spec"]["triggers"]
    found: dict[str, Any] = trigger
    return found


# ---- scaling ----------------------------------------------------------------------------------------


def test_keda_scales_on_a_gauge_the_web_tier_exports(rendered: list[Manifest]) -> None:
    scaled = one(rendered, "ScaledObject", "autostack-worker")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "autostack-worker"
    assert "replicas" not in one(rendered, "Deployment", "autostack-worker")["spec"], "KEDA owns the replicas"
    trigger = the_trigger(rendered)
    assert trigger["type"] == "prometheus", "a Redis list length cannot see the inbox"
    (name,) = set(re.findall(r"autostack_[a-z_]+", trigger["metadata"]["query"]))
    assert metrics.HELP[name][0] == "gauge"
    assert int(trigger["metadata"]["threshold"]) > 0


@pytest.fixture
def burst(redis_url: str, redis_client: redis.Redis) -> WebhookContext:
    """One account's burst of 100 files, accepted as the web tier does: one drain job queued."""
    settings = deployed_settings().model_copy(update={"redis_url": redis_url})
    context: WebhookContext = create_app(settings, redis_client).state.webhooks
    inbox = Inbox(redis_client, "acc")
    for n in range(100):
        if inbox.accept(f"file{n}", "file.upload.completed", 3600).queue_drain:
            enqueue_drain(context.queue, "acc", settings)
    return context


def test_a_burst_in_one_account_scales_the_workers_out(
    base: list[Manifest], burst: WebhookContext, redis_client: redis.Redis
) -> None:
    trigger = the_trigger(base)["metadata"]
    (name,) = set(re.findall(r"autostack_[a-z_]+", trigger["query"]))
    assert "sum without (part)" in trigger["query"] and trigger["query"].startswith("max(")
    # What the query computes on one pod's scrape: the sum of the gauge's parts.
    scraped = [s for f in text_string_to_metric_families(render_text(burst)) for s in f.samples if s.name == name]
    backlog = sum(sample.value for sample in scraped)
    assert backlog == 100 + 1  # the files in the inbox and the drain job
    spec = one(base, "ScaledObject", "autostack-worker")["spec"]
    wanted = min(spec["maxReplicaCount"], math.ceil(backlog / int(trigger["threshold"])))
    assert wanted > spec["minReplicaCount"]
    # The queue's list, which the old trigger watched, holds one job: never above a threshold.
    queue = Queue(deployed_settings().autostack_queue, connection=redis_client)
    assert redis_client.llen(queue.key) == 1


def test_the_worker_outlives_its_longest_job(rendered: list[Manifest]) -> None:
    worker = one(rendered, "Deployment", "autostack-worker")
    assert container(rendered, "autostack-worker")["command"] == ["autostack", "worker"]
    assert pod_spec(worker)["terminationGracePeriodSeconds"] >= deployed_settings().autostack_job_timeout_s + 30


# ---- the web tier ------------------------------------------------------------------------------------


def test_probes_and_ports_match_the_app_and_the_metrics_setting(rendered: list[Manifest]) -> None:
    web = container(rendered, "autostack-web")
    app = create_app(deployed_settings(), redis.Redis(port=9))
    paths = {route.path for route in app.routes if isinstance(route, Route)}
    assert {web["readinessProbe"]["httpGet"]["path"], web["livenessProbe"]["httpGet"]["path"]} <= paths
    assert "/metrics" not in paths
    ports = {port["name"]: port["containerPort"] for port in web["ports"]}
    _, metrics_port = metrics_listen(deployed_settings().autostack_metrics_address)
    assert ports["metrics"] == metrics_port
    assert web["command"][-1] == str(ports["http"])
    annotations = one(rendered, "Deployment", "autostack-web")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(metrics_port)
    public = one(rendered, "Service", "autostack-web")
    assert [port["targetPort"] for port in public["spec"]["ports"]] == ["http"], "no metrics on the public Service"
    assert one(rendered, "Service", "autostack-metrics")["spec"]["ports"][0]["targetPort"] == "metrics"


def test_the_service_monitor_scrapes_the_metrics_service(production: list[Manifest]) -> None:
    monitor = one(production, "ServiceMonitor", "autostack")
    service = one(production, "Service", "autostack-metrics")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == ["metrics"]


# ---- secrets and settings ----------------------------------------------------------------------------


def test_no_secret_in_any_config_map(rendered: list[Manifest]) -> None:
    secret = secret_settings()
    assert {"FRAMEIO_TOKEN", "FRAMEIO_CLIENT_SECRET", "FRAMEIO_WEBHOOK_SECRETS", "REDIS_URL"} <= secret
    for config_map in (m for m in rendered if m["kind"] == "ConfigMap"):
        assert not secret & set(config_map.get("data", {})), config_map["metadata"]["name"]
        for value in config_map.get("data", {}).values():
            assert not re.search(r"rediss?://[^@\s]*:[^@\s]+@", value), "a password in a Redis URL"
    assert not [m for m in rendered if m["kind"] == "Secret"], "secrets are referenced by name, never rendered"
    for name in ("autostack-web", "autostack-worker"):
        refs = [source.get("secretRef", {}).get("name") for source in container(rendered, name)["envFrom"]]
        assert "autostack-secrets" in refs


def env_names_everywhere(manifests: list[Manifest]) -> set[str]:
    names = set(dotenv_values(SETTINGS_ENV)) | set(dotenv_values(DEPLOY / ".env.example"))
    for name in ("autostack-web", "autostack-worker"):
        names |= {entry["name"] for entry in container(manifests, name).get("env", [])}
    for service in compose()["services"].values():
        names |= set(service.get("environment") or {})
    commented = re.findall(r"^#\s*([A-Z][A-Z0-9_]+)=", (DEPLOY / ".env.example").read_text(), re.MULTILINE)
    return names | set(commented)


def test_every_variable_the_deploy_files_set_is_a_setting(rendered: list[Manifest]) -> None:
    known = {name.upper() for name in Settings.model_fields} | NOT_SETTINGS
    assert env_names_everywhere(rendered) - known == set()


def test_the_env_example_holds_placeholders_only() -> None:
    values = dotenv_values(DEPLOY / ".env.example")
    for name in secret_settings() & set(values):
        assert (values[name] or "").startswith("replace-with-"), name


# ---- Redis --------------------------------------------------------------------------------------------


def test_redis_conf_loads_with_aof_and_noeviction(tmp_path: Path) -> None:
    conf = tmp_path / "redis.conf"
    conf.write_text((DEPLOY / "redis.conf").read_text().replace("dir /data", f"dir {tmp_path}"))
    child, url = start_redis(config=conf, log_dir=tmp_path)
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        assert durability_warning(client) is None  # what serve, worker and the doctor check
        assert client.config_get("appendfsync")["appendfsync"] == "everysec"
    finally:
        client.close()
        child.stop()


def test_every_redis_the_deploy_files_run_uses_that_conf(base: list[Manifest]) -> None:
    assert one(base, "ConfigMap", "autostack-redis-conf")["data"]["redis.conf"] == (DEPLOY / "redis.conf").read_text()
    assert one(base, "StatefulSet", "autostack-redis")["spec"]["template"]["spec"]["containers"][0]["command"][-1] == (
        "/etc/redis/redis.conf"
    )
    service = compose()["services"]["redis"]
    assert "./redis.conf:/usr/local/etc/redis/redis.conf:ro" in service["volumes"]
    assert service["command"][-1] == "/usr/local/etc/redis/redis.conf"


def test_production_takes_redis_from_the_secret_and_runs_none(production: list[Manifest]) -> None:
    assert not [m for m in production if m["kind"] == "StatefulSet"]
    for name in ("autostack-web", "autostack-worker"):
        (entry,) = [e for e in container(production, name)["env"] if e["name"] == "REDIS_URL"]
        assert entry == {
            "name": "REDIS_URL",
            "valueFrom": {"secretKeyRef": {"name": "autostack-secrets", "key": "REDIS_URL"}},
        }


def test_the_rules_file_loads() -> None:
    load_rules(DEPLOY / "rules.toml")


def test_every_pod_runs_non_root_read_only_and_bounded(rendered: list[Manifest]) -> None:
    for workload in (m for m in rendered if m["kind"] in ("Deployment", "StatefulSet")):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, workload["metadata"]["name"]
        for box in spec["containers"]:
            assert box["securityContext"]["readOnlyRootFilesystem"] is True
            assert box["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert "memory" in box["resources"]["limits"]


def test_the_build_context_leaves_out_env_files() -> None:
    ignored = (DEPLOY.parent / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*")] == "*" and "**/.env" in ignored


# ---- recovery (issue 19) -------------------------------------------------------------------------------


def test_a_worker_is_restarted_and_its_probe_reads_the_stamp_it_writes(rendered: list[Manifest]) -> None:
    """Kubernetes restarts the worker (restartPolicy, a liveness probe that fails once it has not
    reached Redis), compose restarts it on exit and marks it unhealthy; both give the worker and
    its probe the same stamp file, in a writable place."""
    probe = ["autostack", "worker", "--alive"]
    worker = container(rendered, "autostack-worker")
    spec = pod_spec(one(rendered, "Deployment", "autostack-worker"))
    assert spec.get("restartPolicy", "Always") == "Always"
    assert worker["livenessProbe"]["exec"]["command"] == probe
    assert worker["startupProbe"]["exec"]["command"] == probe
    (stamp,) = [e["value"] for e in worker["env"] if e["name"] == "AUTOSTACK_LIVENESS_FILE"]
    mounts = {mount["mountPath"] for mount in worker["volumeMounts"]}
    assert str(Path(stamp).parent) in mounts, "the stamp must live on a writable volume"

    services = compose()["services"]
    for name in ("web", "worker", "redis"):
        assert services[name].get("restart") in ("always", "unless-stopped"), name
    assert services["worker"]["healthcheck"]["test"] == ["CMD", *probe]
    assert Path(services["worker"]["environment"]["AUTOSTACK_LIVENESS_FILE"]).parent == Path("/tmp")
    assert "/tmp" in services["worker"]["tmpfs"]
