"""tools/gpu_check.py: the report, the bundle, and a clear refusal where there is no GPU (its GPU work runs
only on a GPU machine, through ``make gpu-check``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_check)


@pytest.fixture(autouse=True)
def own_environment(monkeypatch):
    """main() points os.environ and sys.path at the repo and bundle for its child processes: keep that here."""
    import os
    import sys

    monkeypatch.setattr(os, "environ", os.environ.copy())
    monkeypatch.setattr(sys, "path", sys.path[:])


def test_pytest_closing_lines_become_counts(tmp_path):
    log = tmp_path / "log"
    log.write_text("....\nFAILED tests/x.py::t\n2 failed, 40 passed, 7 skipped, 1 error in 9.12s\n")
    assert gpu_check.pytest_counts(log) == {"failed": 2, "passed": 40, "skipped": 7, "error": 1}
    log.write_text("no tests ran\n")
    assert gpu_check.pytest_counts(log) == {}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_without_cuda_it_refuses_instead_of_passing(tmp_path, capsys):
    assert gpu_check.main(["--out", str(tmp_path), "--only", "env"]) == 2
    assert "no CUDA device" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


def test_env_section_writes_both_reports(tmp_path):
    assert gpu_check.main(["--out", str(tmp_path), "--only", "env", "--allow-cpu"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] is True and set(report["sections"]) == {"env"}
    assert report["sections"]["env"]["missing"] == []  # the dev install has everything the checks need
    assert "## env: ok" in (tmp_path / "report.md").read_text()


def test_a_failing_section_fails_the_whole_check(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "UNIT_NEEDS", ("surely_not_an_installed_module",))
    assert gpu_check.main(["--out", str(tmp_path), "--only", "env,unit", "--allow-cpu"]) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] is False and "surely_not_an_installed_module" in report["sections"]["unit"]["skipped"]
    assert "**FAILED**" in (tmp_path / "report.md").read_text()


def test_unknown_sections_are_refused(tmp_path):
    with pytest.raises(SystemExit):
        gpu_check.main(["--out", str(tmp_path), "--only", "env,speed"])


def test_a_bundle_points_the_run_at_its_data_and_skips_wheels_already_installed(tmp_path, monkeypatch):
    bundle = tmp_path / "bundle"
    (bundle / "fashion-mnist").mkdir(parents=True)
    (bundle / "wheels").mkdir()
    (bundle / "wheels" / "torch-0.0.1-py3-none-any.whl").write_bytes(b"not a wheel")  # torch is installed
    env: dict[str, str] = {}
    notes = gpu_check.use_bundle(bundle, env)
    assert env["GANLAB_DATA"] == str((bundle / "fashion-mnist").resolve())
    assert "PYTHONPATH" not in env  # the installed torch is not shadowed: nothing was unpacked
    assert notes == [f"Fashion-MNIST from {bundle / 'fashion-mnist'}"]
    with pytest.raises(SystemExit, match="make gpu-bundle"):
        gpu_check.use_bundle(tmp_path / "missing", {})
