"""The alert rules: promtool checks them and runs their unit tests (deploy/prometheus/tests.yaml, made-up
series), every metric and label value they read is one the code exports, and the PrometheusRule of the
production overlay holds the same groups as the plain rules file."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

from service.signature import SignatureError
from tests.deploy.conftest import DEPLOY, PRODUCTION
from workers import metrics
from workers.frameio.credential import STATES

RULES = DEPLOY / "prometheus" / "autostack-alerts.yaml"
TESTS = DEPLOY / "prometheus" / "tests.yaml"
ISSUE_16 = {
    "AutostackNoWebhooksAccepted",
    "AutostackWebhooksRefused",
    "AutostackEnqueueFailures",
    "AutostackJobsFailing",
    "AutostackInboxWaitingTooLong",
    "AutostackFrameio429Sustained",
    "AutostackFrameioTokenExpiring",
    "AutostackFrameioCredentialFailing",
    "AutostackSweepNotRun",
}


def groups() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["groups"]
    return found


def rules() -> list[dict[str, Any]]:
    return [rule for group in groups() for rule in group["rules"]]


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (Debian's prometheus package; make deploy-check requires it)")
    return found


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_passes_its_unit_tests_on_made_up_series() -> None:
    result = subprocess.run(
        [promtool(), "test", "rules", TESTS.name], cwd=TESTS.parent, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_and_every_issue_case_has_one() -> None:
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    tested = set(re.findall(r"alertname: (\w+)", TESTS.read_text()))
    assert alerts >= ISSUE_16
    assert alerts <= tested, alerts - tested


def test_the_rules_read_only_what_the_code_exports() -> None:
    exported = set(metrics.HELP)
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    for rule in rules():
        names = set(re.findall(r"\b(autostack[a-z0-9_:]*)", rule["expr"]))
        assert names <= exported | recorded, (rule.get("alert"), names - exported - recorded)


def test_the_label_values_the_rules_match_are_the_code_s() -> None:
    text = RULES.read_text()
    states = set(re.findall(r'state=~?"([a-z_|]+)"', text))
    assert {s for group in states for s in group.split("|")} <= set(STATES)
    codes = {SignatureError("x").code, SignatureError("x", "stale").code, SignatureError("x", "bad_timestamp").code}
    refused = re.search(r'outcome=~"([a-z_|]+)"', text)
    assert refused is not None and set(refused.group(1).split("|")) == codes


def test_the_prometheus_rule_holds_the_same_groups() -> None:
    rule = yaml.safe_load((PRODUCTION / "prometheusrule.yaml").read_text())
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == groups()
    kustomization = yaml.safe_load((PRODUCTION / "kustomization.yaml").read_text())
    assert "prometheusrule.yaml" in kustomization["resources"]
