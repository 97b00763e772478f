"""The benchmark's reporting: Markdown table, runs.csv read back and merged, and ``--report`` on saved runs."""

from __future__ import annotations

import csv
import math

import pytest

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
