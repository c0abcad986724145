"""User errors of `refit doctor`: one line, exit 2, nothing run."""

from __future__ import annotations

import pytest

from refit.cli import main
from refit.cli.doctor import parse_duration


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.mark.parametrize("args, message", [
    (["doctor", "--output", "yaml", "--template", "t.json"], "-o/--output takes text, json or sarif, not 'yaml'"),
    (["doctor", "--fail-on", "critical", "--template", "t.json"], "--fail-on must be one of high, medium, low, info"),
    (["doctor", "--template", "a.json", "--terraform-plan", "p.json"], "--template and --terraform-plan exclude each other"),
    (["doctor", "--parameters", "p.json"], "--parameters needs --template"),
    (["doctor", "--template", "missing.json"], "template 'missing.json' does not exist"),
    (["doctor", "--terraform-plan", "missing.json"], "Terraform plan 'missing.json' does not exist"),
    (["doctor", "--boot-budget", "soon", "--template", "t.json"], "--boot-budget must be a duration like 10m"),
    (["doctor", "--critical-tag", "critical", "--template", "t.json"], "--critical-tag must be NAME=VALUE"),
    (["doctor", "--check", "RF-NOPE-1", "--template", "t.json"], "unknown check id(s) RF-NOPE-1"),
])
def test_user_errors(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_not_a_template_or_plan_is_a_user_error(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text('{"hello": 1}')
    code, _, err = run(capsys, "doctor", "--template", "x.json")
    assert code == 2 and "not an ARM template" in err
    code, _, err = run(capsys, "doctor", "--terraform-plan", "x.json")
    assert code == 2 and "not a Terraform plan" in err
    (tmp_path / "bad.json").write_text("{")
    code, _, err = run(capsys, "doctor", "--terraform-plan", "bad.json")
    assert code == 2 and "not JSON" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text, minutes", [("10m", 10), ("90s", 1.5), ("1h30m", 90), ("PT15M", 15), ("2h", 120)])
def test_boot_budget_durations(text, minutes):
    assert parse_duration(text) == minutes
