"""The distribution and the image's dependencies: a name of our own on PyPI, the metadata a package
index and a type checker read, ``autostack --version``, and locks with hashes that the Dockerfile and
the Makefile's bootstrap install from, so two builds a month apart install the same versions."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from typing import Any

from packaging.requirements import Requirement

import service
from tests.deploy.conftest import ROOT

LOCKS = ROOT / "requirements"


def project() -> dict[str, Any]:
    found: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return found


def pins(lock: str) -> dict[str, str]:
    """name -> version of every requirement in a lock, each followed by at least one hash."""
    text = (LOCKS / lock).read_text()
    found = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\\n\s+--hash=sha256:[0-9a-f]{64}", text, re.MULTILINE))
    assert len(found) == len(re.findall(r"^[a-z0-9]", text, re.MULTILINE)), f"a requirement of {lock} has no hash"
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_version_prints_the_release() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "service.cli", "--version"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == f"autostack {service.__version__}"
    assert project()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "service.__version__"}


def test_the_distribution_metadata() -> None:
    meta = project()["project"]
    assert meta["name"] == "frameio-autostack"  # "autostack" on PyPI is an unrelated project
    assert meta["scripts"] == {"autostack": "service.cli:main"}
    assert isinstance(meta["license"], str) and meta["license"].startswith("LicenseRef-")  # an SPDX expression
    assert {"Typing :: Typed", "Private :: Do Not Upload"} <= set(meta["classifiers"])
    assert not [c for c in meta["classifiers"] if c.startswith("License ::")], "the expression replaces them"
    assert meta["urls"]
    for package in ("service", "workers", "sandbox"):
        assert (ROOT / package / "py.typed").exists()
    assert project()["tool"]["setuptools"]["package-data"] == {"*": ["py.typed"]}


def test_the_runtime_lock_pins_every_dependency_and_no_dev_tool() -> None:
    locked = {canonical(name): version for name, version in pins("runtime.lock").items()}
    for spec in project()["project"]["dependencies"]:
        requirement = Requirement(spec)
        assert requirement.specifier.contains(locked[canonical(requirement.name)]), spec
    dev = {canonical(Requirement(spec).name) for spec in project()["project"]["optional-dependencies"]["dev"]}
    tools = dev - {"python-dotenv"}  # pydantic-settings needs python-dotenv at run time too
    assert not tools & set(locked), "the image would carry test, demo or lint tools"


def test_the_dev_lock_pins_the_runtime_versions_too() -> None:
    runtime, dev = pins("runtime.lock"), pins("dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_the_image_and_the_bootstrap_install_from_the_locks() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes --wheel-dir /wheels -r requirements/runtime.lock" in dockerfile
    assert "--require-hashes -r /requirements/runtime.lock" in dockerfile
    assert "--no-deps /wheels/frameio_autostack-*.whl" in dockerfile
    assert "!requirements/runtime.lock" in (ROOT / ".dockerignore").read_text().splitlines()
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes -r requirements/dev.lock" in makefile
    assert "pip install -q --no-deps -e ." in makefile
