"""The benchmark's reporting: Markdown table, runs.csv read back and merged, and ``--report`` on saved runs."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pytest
import torch

from ganlab.experiments import mode_collapse as mc
from ganlab.experiments import mode_table as mt


def _row(dataset: str, method: str, seed: int, modes: int, quality: float, kl: float = 0.0) -> dict:
    return {"dataset": dataset, "method": method, "label": f"{method} label", "seed": seed, "steps": 100,
            "device": "cpu", "modes": modes, "high_quality": quality, "reverse_kl": kl, "seconds": 2.0 + seed}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_markdown_puts_data_sets_side_by_side_with_blanks_where_a_method_did_not_run() -> None:
    rows = [_row("ring8", "gan", 0, 8, 90.0), _row("ring8", "gan", 1, 6, 80.0, 0.5),
            _row("grid25", "gan", 0, 20, 50.0), _row("grid25", "gan", 1, 22, 60.0),
            _row("grid25", "grid_only", 0, 25, 95.0)]
    lines = mt.format_markdown(mt.summarise(rows)).splitlines()
    header = _cells(lines[0])
    assert header[:4] == ["method", "seeds", "steps", "ring8 modes"] and "grid25 high quality %" in header
    assert all(len(_cells(line)) == len(header) for line in lines[2:])  # every row fills every column
    gan, only = (_cells(line) for line in lines[2:4])
    assert gan[:6] == ["gan label", "2", "100", "7.0 ± 1.0", "85.0 ± 5.0", "0.25 ± 0.25"]
    assert gan[6:9] == ["21.0 ± 1.0", "55.0 ± 5.0", "0.00 ± 0.00"] and gan[-1] == "2"  # mean of 2 s and 3 s
    assert only[3:6] == ["", "", ""] and only[6] == "25.0 ± 0.0"
    published = [_cells(line) for line in lines[4:]]
    assert [p[0] for p in published] == list(mt.PUBLISHED)
    pacgan = published[-1]
    assert pacgan[1] == "10" and pacgan[3:5] == ["7.8", "95.9"] and pacgan[6:8] == ["24.8", "93.6"]


def test_a_run_with_no_good_sample_is_counted_not_averaged_in() -> None:
    rows = [_row("ring8", "hist", 0, 8, 90.0, 0.1), _row("ring8", "hist", 1, 8, 80.0, 0.3),
            _row("ring8", "hist", 2, 0, 0.0, math.inf), _row("ring8", "dead", 0, 0, 0.0, math.inf)]
    hist, dead = mt.summarise(rows)
    assert hist["reverse_kl_mean"] == math.inf and hist["reverse_kl_infinite_runs"] == 1
    assert hist["reverse_kl_finite_mean"] == pytest.approx(0.2) and hist["reverse_kl_finite_std"] == pytest.approx(0.1)
    table = mt.format_table([hist, dead])
    assert "0.20 ± 0.10 (1 inf)" in table and table.rstrip().count("inf") >= 2
    markdown = mt.format_markdown([hist, dead]).splitlines()
    assert _cells(markdown[2])[5] == "0.20 ± 0.10 (1 inf)" and _cells(markdown[3])[5] == "inf"
    lines = [line for line in table.splitlines() if line.startswith("  ")]
    assert len({len(line) for line in lines[:3]}) == 1  # the wider cell still lines up


def test_a_data_set_the_papers_did_not_use_gets_no_published_rows() -> None:
    table = mt.format_table(mt.summarise([_row("spiral", "gan", 0, 1, 50.0)]))
    assert "gan label" in table and "Lin et al." not in table


def test_runs_read_back_typed_and_merged_but_never_twice(tmp_path) -> None:
    first = [_row("ring8", "gan", s, 8 - s, 90.0 - s) for s in range(2)]
    second = [_row("ring8", "pacgan4", 0, 7, 10.5)]
    a = mt.write_csv(first, tmp_path / "a" / "runs.csv")
    b = mt.write_csv(second, tmp_path / "b" / "runs.csv")
    back = mt.read_runs([a, b])
    assert back == first + second  # ints stay ints, floats floats
    with pytest.raises(ValueError, match=r"also in .*a/runs\.csv"):
        mt.read_runs([a, b, a])


def test_bad_runs_files_are_named(tmp_path) -> None:
    with pytest.raises(ValueError, match="no such runs file"):
        mt.read_runs([tmp_path / "missing.csv"])
    other = tmp_path / "other.csv"
    other.write_text("name,value\nx,1\n")
    with pytest.raises(ValueError, match=r"other\.csv: not a benchmark runs\.csv .*'dataset'"):
        mt.read_runs([other])
    broken = mt.write_csv([_row("ring8", "gan", 0, 8, 90.0)], tmp_path / "broken.csv")
    broken.write_text(broken.read_text().replace(",8,90.0,", ",eight,90.0,"))
    with pytest.raises(ValueError, match=r"broken\.csv, line 2: unreadable"):
        mt.read_runs([broken])


def test_report_rebuilds_the_tables_from_saved_runs_without_training(tmp_path, capsys) -> None:
    trained = mc.main(["--seeds", "2", "--steps", "3", "--methods", "gan", "--datasets", "ring8",
                       "--workers", "1", "--out", str(tmp_path / "run")])
    first_table = capsys.readouterr().out.split("\n\n")[0]
    assert (tmp_path / "run" / "summary.md").read_text().startswith("| method | seeds | steps | ring8 modes")
    reported = mc.main(["--report", str(tmp_path / "run" / "runs.csv"), "--out", str(tmp_path / "report")])
    printed = capsys.readouterr().out
    assert printed.split("\n\n")[0] == first_table and "| gan" not in printed and "| GAN |" in printed
    assert [(s["modes_mean"], s["high_quality_mean"]) for s in reported] == \
        [(s["modes_mean"], s["high_quality_mean"]) for s in trained]
    assert (tmp_path / "report" / "mode_collapse.png").stat().st_size > 0
    assert not (tmp_path / "report" / "samples.png").exists()  # saved runs keep no samples
    with (tmp_path / "report" / "runs.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 2


def test_report_never_overwrites_runs_it_was_not_given(tmp_path) -> None:
    kept = mt.write_csv([_row("ring8", "gan", 0, 8, 90.0)], tmp_path / "out" / "runs.csv")
    before = kept.read_text()
    other = mt.write_csv([_row("ring8", "pacgan4", 0, 7, 10.0)], tmp_path / "other" / "runs.csv")
    with pytest.raises(SystemExit, match=r"out/runs\.csv exists and is not one of the files reported"):
        mc.main(["--report", str(other), "--out", str(tmp_path / "out")])
    assert kept.read_text() == before
    summary = mc.main(["--report", str(other), str(kept), "--out", str(tmp_path / "out")])  # merged in place
    assert {s["method"] for s in summary} == {"gan", "pacgan4"} and len(mt.read_runs([kept])) == 2


def test_report_of_an_empty_runs_file_says_so(tmp_path) -> None:
    empty = tmp_path / "runs.csv"
    empty.write_text(",".join(["dataset", "method", "label", "device", "seed", "steps", "modes", "high_quality",
                               "reverse_kl", "seconds"]) + "\n")
    with pytest.raises(SystemExit, match="no runs"):
        mc.main(["--report", str(empty), "--out", str(tmp_path / "out")])


# ------------------------------------------------------------------------------------------ nothing lost in --out
def _fake_run(calls: list | None = None, fail_at: int | None = None):
    """A stand-in for ``run_one`` that trains nothing: quick rows, ``modes`` counting the calls, and a
    KeyboardInterrupt at call ``fail_at`` (as Ctrl-C would raise)."""
    calls = [] if calls is None else calls

    def run_one(dataset, method, seed, steps=mc.STEPS, device="auto", n_samples=mc.N_SAMPLES):
        calls.append((dataset, method, seed))
        if len(calls) == fail_at:
            raise KeyboardInterrupt
        return {**_row(dataset, method, seed, len(calls), 50.0), "label": mc.METHODS[method].label,
                "steps": round(steps * mc.METHODS[method].steps_scale), "samples": torch.zeros(n_samples, 2)}

    return run_one


def _cli(out, methods: str, *extra: str) -> list:
    # --sequential: every run goes through run_one, the stand-in (batched seeds are tests/test_mode_collapse.py's)
    return mc.main(["--seeds", "2", "--steps", "3", "--methods", methods, "--datasets", "ring8", "--workers", "1",
                    "--out", str(out), "--sequential", *extra])


def test_a_second_run_into_the_same_out_adds_its_runs(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(mc, "run_one", _fake_run())
    _cli(tmp_path, "gan")
    summary = _cli(tmp_path, "pacgan4")  # README's workflow: method subsets one after another
    runs = mt.read_runs([tmp_path / "runs.csv"])
    assert [(r["method"], r["seed"], r["modes"]) for r in runs] == [("gan", 0, 1), ("gan", 1, 2),
                                                                    ("pacgan4", 0, 3), ("pacgan4", 1, 4)]
    assert [s["method"] for s in summary] == ["gan", "pacgan4"]
    with (tmp_path / "summary.csv").open() as f:
        assert [r["method"] for r in csv.DictReader(f)] == ["gan", "pacgan4"]
    markdown = (tmp_path / "summary.md").read_text()
    assert "| GAN |" in markdown and "| PacGAN4 |" in markdown


def test_a_run_already_in_runs_csv_is_refused_before_training_unless_overwrite(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(mc, "run_one", _fake_run())
    _cli(tmp_path, "gan,pacgan4")
    before = (tmp_path / "runs.csv").read_text()
    calls: list = []
    monkeypatch.setattr(mc, "run_one", _fake_run(calls))
    with pytest.raises(SystemExit, match=r"already holds 2 of the runs .*'gan', 0.*--overwrite"):
        _cli(tmp_path, "gan")
    assert calls == [] and (tmp_path / "runs.csv").read_text() == before
    _cli(tmp_path, "gan", "--overwrite")
    runs = mt.read_runs([tmp_path / "runs.csv"])
    assert [(r["method"], r["seed"], r["modes"]) for r in runs] == [("gan", 0, 1), ("gan", 1, 2),
                                                                    ("pacgan4", 0, 3), ("pacgan4", 1, 4)]
    assert calls == [("ring8", "gan", 0), ("ring8", "gan", 1)]  # the new gan rows replaced the old in place


def test_other_step_counts_for_a_method_in_runs_csv_are_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(mc, "run_one", _fake_run())
    mc.main(["--seeds", "3", "--steps", "3", "--methods", "gan", "--datasets", "ring8", "--workers", "1",
             "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match=r"gan on ring8 trained for 3 steps, but this run trains it for 5"):
        _cli(tmp_path, "gan", "--steps", "5", "--overwrite")  # seeds 0, 1 replaced, but seed 2 would stay at 3
    _cli(tmp_path, "gan", "--overwrite")  # the same budget is fine
    assert [r["steps"] for r in mt.read_runs([tmp_path / "runs.csv"])] == [3, 3, 3]


def test_each_finished_run_is_on_disk_when_the_benchmark_is_interrupted(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(mc, "run_one", _fake_run())
    _cli(tmp_path, "gan")
    monkeypatch.setattr(mc, "run_one", _fake_run(fail_at=3))
    with pytest.raises(KeyboardInterrupt):
        _cli(tmp_path, "pacgan4,minibatch_std")
    runs = mt.read_runs([tmp_path / "runs.csv"])
    assert [(r["method"], r["seed"]) for r in runs] == [("gan", 0), ("gan", 1), ("pacgan4", 0), ("pacgan4", 1)]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no half-written file left


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path, monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(mc, "run_one", _fake_run(calls))
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    for workers in ("1", "2"):
        with pytest.raises(SystemExit, match=r"notes\.txt is a file, not a folder"):
            mc.main(["--seeds", "1", "--steps", "2", "--methods", "gan", "--datasets", "ring8", "--workers", workers,
                     "--out", str(target)])
    with pytest.raises(SystemExit, match=r"notes\.txt is a file, not a folder"):
        mc.main(["--report", str(mt.write_csv([_row("ring8", "gan", 0, 8, 90.0)], tmp_path / "r.csv")),
                 "--out", str(target)])
    assert calls == [] and target.read_text() == "keep me"


def test_an_unwritable_out_is_refused_before_training(tmp_path, monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(mc, "run_one", _fake_run(calls))
    locked = tmp_path / "locked"
    locked.mkdir()
    real_mkstemp = mt.tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # root may write anywhere, so the refusal is simulated
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied", str(locked))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(mt.tempfile, "mkstemp", mkstemp)
    with pytest.raises(SystemExit, match=r"locked cannot be written \(Permission denied\)"):
        _cli(locked, "gan")
    assert calls == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write to a read-only folder")
def test_a_read_only_out_is_refused_before_training(tmp_path, monkeypatch) -> None:
    calls: list = []
    monkeypatch.setattr(mc, "run_one", _fake_run(calls))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(SystemExit, match="cannot be written"):
            _cli(locked, "gan")
    finally:
        locked.chmod(0o700)
    assert calls == []


def test_report_of_a_binary_or_unreadable_file_says_what_it_is(tmp_path) -> None:
    binary = tmp_path / "runs.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match=r"runs\.csv: not a benchmark runs\.csv \(it is not a readable CSV text"):
        mt.read_runs([binary])
    with pytest.raises(SystemExit, match=r"not a benchmark runs\.csv"):
        mc.main(["--report", str(binary), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
    nul = tmp_path / "nul.csv"
    nul.write_text("dataset,method\x00,label\n")
    with pytest.raises(ValueError, match=r"nul\.csv: not a benchmark runs\.csv"):
        mt.read_runs([nul])
