"""The maintained tools ``make deploy-check`` runs, on autostack's files: each passes them, and each
catches the breakage it is there for. kubernetes-validate: the rendered objects against the
Kubernetes schemas; hadolint: the Dockerfile; check-jsonschema: compose against the Compose spec;
promtool: the PromQL of the dashboard (the alert rules: test_alerts.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

from tests.deploy.conftest import DEPLOY, ROOT, Manifest, compose
from workers import metrics

BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.32.0"


def tool(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if found is None:
        pytest.skip(f"{name} is not installed (make deploy-check requires it)")
    return found


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def kubernetes_validate(manifests: list[Manifest], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(manifests))
    return run(tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(path))


def test_rendered_objects_match_the_kubernetes_schemas(rendered: list[Manifest], tmp_path: Path) -> None:
    result = kubernetes_validate(rendered, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_catches_a_misspelt_field(base: list[Manifest], tmp_path: Path) -> None:
    broken = json.loads(json.dumps(base))
    web = next(m for m in broken if m["kind"] == "Deployment" and m["metadata"]["name"] == "autostack-web")
    web["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz", "port": 8000}}
    result = kubernetes_validate(broken, tmp_path)
    assert result.returncode != 0 and "readinesProbe" in result.stdout + result.stderr


def test_hadolint_passes_the_dockerfile_and_fails_a_bad_one(tmp_path: Path) -> None:
    hadolint = tool("hadolint")
    result = run(hadolint, "--no-color", "--failure-threshold", "warning", str(ROOT / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    assert run(hadolint, "--no-color", "--failure-threshold", "warning", str(bad)).returncode != 0


def test_compose_matches_the_compose_spec_and_a_typo_does_not(tmp_path: Path) -> None:
    checker = tool("check-jsonschema")
    result = run(checker, "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "docker-compose.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    broken = compose()
    broken["services"]["worker"]["stop_grace_priod"] = "180s"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    assert run(checker, "--builtin-schema", "vendor.compose-spec", str(path)).returncode != 0


def dashboard_queries() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "autostack-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_the_dashboard_queries_only_exported_metrics() -> None:
    exported = set(metrics.HELP) | {f"{name}_{part}" for name in metrics.HELP for part in ("bucket", "sum", "count")}
    named = {name for expr in dashboard_queries() for name in re.findall(r"autostack_[a-z0-9_]+", expr)}
    assert named and named <= exported, named - exported


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    promtool = tool("promtool")
    queries = [re.sub(r"\$__\w+", "5m", expr) for expr in dashboard_queries()]
    rules = {
        "groups": [
            {"name": "dashboard", "rules": [{"record": f"dashboard:q{n}", "expr": q} for n, q in enumerate(queries)]}
        ]
    }
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    result = run(promtool, "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    path.write_text(
        yaml.safe_dump({"groups": [{"name": "x", "rules": [{"record": "x:y", "expr": "max(rate(x[5m])"}]}]})
    )
    assert run(promtool, "check", "rules", str(path)).returncode != 0
