"""The repository's GitHub Actions workflows (the reusable `refit plan` workflow, the doctor example) are
valid workflows by GitHub's own schema, checked by check-jsonschema (installed from PyPI with the test
dependencies; its schema is vendored, so this runs offline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = [REPO / ".github" / "workflows" / "refit-plan.yml", REPO / "docs" / "doctor-github-actions.yml"]


def _check(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, files)], capture_output=True, text=True, check=False)


def test_the_workflows_are_valid():
    r = _check(*WORKFLOWS)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_checker_refuses_a_broken_workflow(tmp_path):
    broken = yaml.safe_load(WORKFLOWS[0].read_text())
    broken["jobs"]["apply"]["runs-on"] = {"group": 7, "labels": None}  # a shape GitHub refuses
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    assert _check(path).returncode == 1


def test_the_reusable_workflow_is_called_gated_and_secretless():
    wf = yaml.safe_load(WORKFLOWS[0].read_text())
    on = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as true
    assert set(on) == {"workflow_call"}
    jobs = wf["jobs"]
    assert list(jobs) == ["doctor", "plan", "apply"]
    assert jobs["apply"]["environment"] == "${{ inputs.environment }}"  # the approval
    assert jobs["apply"]["needs"] == "plan" and jobs["plan"]["needs"] == "doctor"
    assert "secrets" not in on["workflow_call"] and "secrets." not in WORKFLOWS[0].read_text()
    logins = [s for j in jobs.values() for s in j["steps"] if str(s.get("uses", "")).startswith("azure/login")]
    assert len(logins) == 3 and all(set(s["with"]) == {"client-id", "tenant-id", "subscription-id"} for s in logins)
    assert all(j["permissions"].get("id-token") == "write" for j in jobs.values())  # OIDC
