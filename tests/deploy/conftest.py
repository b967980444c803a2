"""The deploy files, rendered and read as data: kustomize (kubectl) renders the Kubernetes
overlays; a test that needs a missing tool is skipped with the reason (``make deploy-check`` runs
the tools themselves and fails when one is missing)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "k8s" / "base"
PRODUCTION = DEPLOY / "k8s" / "overlays" / "production"
Manifest = dict[str, Any]


def render(kustomization: Path) -> list[Manifest]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the kustomizations cannot be rendered")
    out = subprocess.run(["kubectl", "kustomize", str(kustomization)], capture_output=True, text=True, check=True)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="session")
def base() -> list[Manifest]:
    return render(BASE)


@pytest.fixture(scope="session")
def production() -> list[Manifest]:
    return render(PRODUCTION)


@pytest.fixture(params=["base", "production"])
def rendered(request: pytest.FixtureRequest) -> list[Manifest]:
    manifests: list[Manifest] = request.getfixturevalue(request.param)
    return manifests


def one(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    """The object of that kind and name; a generated ConfigMap by its name before the hash suffix."""
    found = [
        m
        for m in manifests
        if m["kind"] == kind and re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", m["metadata"]["name"])
    ]
    assert len(found) == 1, f"no single {kind}/{name}"
    return found[0]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(manifests: list[Manifest], deployment: str) -> dict[str, Any]:
    (found,) = pod_spec(one(manifests, "Deployment", deployment))["containers"]
    result: dict[str, Any] = found
    return result


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded
