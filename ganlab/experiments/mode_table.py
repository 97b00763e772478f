"""What the mode-collapse benchmark reports: mean ± std over seeds, the printed and Markdown tables beside the
published rows, and runs.csv written and read back (so a table can be rebuilt, or merged from several runs,
without training again: ``python -m ganlab.experiments.mode_collapse --report a/runs.csv b/runs.csv``).

Files are written whole or not at all (a temporary sibling renamed over the target), so a crash or Ctrl-C
mid-write leaves the previous runs.csv intact.
"""

from __future__ import annotations

import csv
import math
import os
import statistics
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import toy

# Published rows, (modes captured, % high-quality samples) per data set, on the same data (ring of radius 1
# with std 0.01, grid of spacing 2 with std 0.05). GAN and PacGAN4: PacGAN's Table 1 (Lin et al. 2018), 10 runs
# each, a batch of 100 packs, 400 epochs of 1,000 batches. Unrolled GAN and VEEGAN: VEEGAN's Table 1
# (Srivastava et al. 2017), 5 runs each; PacGAN quotes them, but VEEGAN's own plain GAN scored far lower there.
PUBLISHED: dict[str, dict[str, tuple[float, float]]] = {
    "GAN (Lin et al. 2018)": {"ring8": (6.3, 98.2), "grid25": (17.3, 94.8)},
    "Unrolled GAN (Srivastava et al. 2017)": {"ring8": (7.6, 35.6), "grid25": (23.6, 16.0)},
    "VEEGAN (Srivastava et al. 2017)": {"ring8": (8.0, 52.9), "grid25": (24.6, 40.0)},
    "PacGAN4 (Lin et al. 2018)": {"ring8": (7.8, 95.9), "grid25": (24.8, 93.6)},
}
PUBLISHED_RUNS: dict[str, int] = {"GAN (Lin et al. 2018)": 10, "Unrolled GAN (Srivastava et al. 2017)": 5,
                                  "VEEGAN (Srivastava et al. 2017)": 5, "PacGAN4 (Lin et al. 2018)": 10}

METRICS = ("modes", "high_quality", "reverse_kl", "seconds")
_TYPES = {"seed": int, "steps": int, "modes": int, "high_quality": float, "reverse_kl": float, "seconds": float}


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and population std over seeds of modes, high-quality % and reverse KL, per (data set, method)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["method"]), []).append(row)
    out = []
    for (dataset, method), runs in groups.items():
        entry: dict[str, Any] = {"dataset": dataset, "method": method, "label": runs[0]["label"],
                                 "seeds": len(runs), "steps": runs[0]["steps"], "device": runs[0]["device"]}
        for key in METRICS:
            values = [float(r[key]) for r in runs]
            entry[f"{key}_mean"] = statistics.fmean(values)
            entry[f"{key}_std"] = statistics.pstdev(values) if all(map(math.isfinite, values)) else math.nan
        # A run with no high-quality sample has an infinite reverse KL; the tables show the finite runs' mean
        # and std and count the others, so one such run does not hide what the rest did.
        finite = [float(r["reverse_kl"]) for r in runs if math.isfinite(float(r["reverse_kl"]))]
        entry["reverse_kl_infinite_runs"] = len(runs) - len(finite)
        entry["reverse_kl_finite_mean"] = statistics.fmean(finite) if finite else math.inf
        entry["reverse_kl_finite_std"] = statistics.pstdev(finite) if finite else math.nan
        out.append(entry)
    return out


def costs(rows: Sequence[dict[str, Any]]) -> str:
    """What each method cost in these rows: runs, how they ran (batched or alone) and the summed run seconds."""
    per: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        per.setdefault(row["method"], []).append(row)
    lines = [f"{'method':26s} {'runs':>5s} {'how':>12s} {'seconds':>9s} {'s/run':>7s}"]
    for method, runs in per.items():
        total = sum(float(r["seconds"]) for r in runs)
        size = max(int(r.get("batch") or 1) for r in runs)  # rows without the column ran alone
        how = "alone" if size == 1 else f"batches of {size}"
        lines.append(f"{method:26s} {len(runs):5d} {how:>12s} {total:9.0f} {total / len(runs):7.1f}")
    return "\n".join(lines)


def format_table(summary: Sequence[dict[str, Any]]) -> str:
    """Plain-text table per data set: ours (mean ± std over seeds) then the published rows."""
    lines = []
    for dataset in dict.fromkeys(s["dataset"] for s in summary):
        dist = toy.get(dataset)
        mine = [s for s in summary if s["dataset"] == dataset]
        w = max(40, *(len(s["label"]) for s in mine))  # the label column fits the longest label
        lines.append(f"\n{dataset}: {len(dist.modes)} modes, std {dist.std:g}; {mine[0]['seeds']} seeds on "
                     f"{mine[0]['device']}; mean ± std over seeds")
        lines.append(f"  {'method':{w}s} {'steps':>6s} {'modes':>12s} {'high quality %':>15s} {'reverse KL':>19s} "
                     f"{'s/run':>7s}")
        for s in mine:
            lines.append(f"  {s['label']:{w}s} {s['steps']:>6d} {_pm(s, 'modes', 1):>12s} "
                         f"{_pm(s, 'high_quality', 1):>15s} {_pm(s, 'reverse_kl', 2):>19s} {s['seconds_mean']:7.1f}")
        for label, row in PUBLISHED.items():
            if dataset not in row:  # a toy set the papers did not use
                continue
            modes, quality = row[dataset]
            lines.append(f"  {label:{w}s} {'':>6s} {modes:>12.1f} {quality:>15.1f}")
    return "\n".join(lines)


def format_markdown(summary: Sequence[dict[str, Any]]) -> str:
    """One Markdown row per method with every data set side by side (README's layout), then the published rows.

    A method run on only some data sets leaves the others' cells empty; seeds or steps that differ between
    data sets are shown as ``a/b``.
    """
    datasets = list(dict.fromkeys(s["dataset"] for s in summary))
    devices = sorted({s["device"] for s in summary})
    header = ["method", "seeds", "steps"]
    for d in datasets:
        header += [f"{d} modes", f"{d} high quality %", f"{d} reverse KL"]
    header.append(f"s/run ({', '.join(devices)})")  # the mean over data sets
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in dict.fromkeys(s["method"] for s in summary):
        cells = {s["dataset"]: s for s in summary if s["method"] == method}
        first = next(iter(cells.values()))
        row = [first["label"], _joined(s["seeds"] for s in cells.values()),
               _joined(s["steps"] for s in cells.values())]
        for d in datasets:
            s = cells.get(d)
            row += [_pm(s, "modes", 1), _pm(s, "high_quality", 1), _pm(s, "reverse_kl", 2)] if s else ["", "", ""]
        row.append(f"{statistics.fmean(s['seconds_mean'] for s in cells.values()):.0f}")  # over data sets
        lines.append("| " + " | ".join(row) + " |")
    for label, published in PUBLISHED.items():
        row = [label, str(PUBLISHED_RUNS[label]), ""]
        for d in datasets:
            row += [f"{published[d][0]:.1f}", f"{published[d][1]:.1f}", ""] if d in published else ["", "", ""]
        lines.append("| " + " | ".join([*row, ""]) + " |")
    return "\n".join(lines)


def _joined(values: Iterable[Any]) -> str:
    return "/".join(str(v) for v in dict.fromkeys(values))


def _pm(s: dict[str, Any], key: str, digits: int) -> str:
    infinite = s.get(key + "_infinite_runs", 0)
    if infinite:  # reverse KL: some runs had no high-quality sample at all
        if infinite == s["seeds"]:
            return "inf"
        mean, std = s[key + "_finite_mean"], s[key + "_finite_std"]
        return f"{mean:.{digits}f} ± {std:.{digits}f} ({infinite} inf)"
    mean, std = s[key + "_mean"], s[key + "_std"]
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Rows as CSV (the samples column is left out), written atomically: ``path`` is either the old file or
    the new one, never half of it."""
    keys = [k for k in rows[0] if k != "samples"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(path) as f:
        writer = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_text(text: str, path: Path) -> Path:
    """``text`` into ``path``, atomically (see ``write_csv``)."""
    with _atomic(path) as f:
        f.write(text)
    return path


class _atomic:
    """``with _atomic(path) as f``: a text file in ``path``'s folder, fsynced and renamed over ``path`` on
    success, removed on any error (Ctrl-C included)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Any:
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self.file = os.fdopen(fd, "w", newline="")
        return self.file

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        try:
            if kind is None:
                self.file.flush()
                os.fsync(self.file.fileno())
            self.file.close()
            if kind is None:
                os.replace(self.tmp, self.path)
        finally:
            Path(self.tmp).unlink(missing_ok=True)  # gone already after the rename


def check_folder(out: Path) -> Path:
    """Create ``out`` if needed and prove it writable, before any training: a ValueError naming the problem
    otherwise (a file where the folder should be, a folder that cannot be created or written)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; pass a folder for runs.csv and the tables")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(f"--out {out} cannot be written ({err.strerror or err}); pass a folder you can "
                         "write to") from err
    return out


def read_runs(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """The rows of one or more runs.csv files, typed as ``run_one`` returns them (without the samples).

    A missing or unreadable file (binary, not UTF-8 text, not CSV), a missing column or a (data set, method,
    seed) run found twice raises a ValueError that names the file, so two tables cannot be merged silently
    into one that counts a run twice.
    """
    need = ("dataset", "method", "label", "device", *_TYPES)
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, int], Path] = {}
    for path in map(Path, paths):
        if not path.is_file():
            raise ValueError(f"{path}: no such runs file; pass the runs.csv that a benchmark run wrote to --out")
        try:
            rows += _read_one(path, need, seen)
        except (UnicodeDecodeError, csv.Error) as error:
            raise ValueError(f"{path}: not a benchmark runs.csv (it is not a readable CSV text file: {error}); "
                             "pass the runs.csv that a benchmark run wrote to --out") from None
        except OSError as error:
            raise ValueError(f"{path} cannot be read ({error.strerror or error})") from error
    return rows


def _read_one(path: Path, need: Sequence[str], seen: dict[tuple[str, str, int], Path]) -> list[dict[str, Any]]:
    rows = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [k for k in need if k not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a benchmark runs.csv (missing columns {missing})")
        for line, raw in enumerate(reader, start=2):
            try:
                row = {**raw, **{k: cast(raw[k]) for k, cast in _TYPES.items()}}
            except (TypeError, ValueError) as error:
                raise ValueError(f"{path}, line {line}: unreadable value ({error})") from None
            key = (row["dataset"], row["method"], row["seed"])
            if key in seen:
                raise ValueError(f"{path}, line {line}: run {key} is also in {seen[key]}; pass each run once")
            seen[key] = path
            rows.append(row)
    return rows


def earlier_runs(path: Path, planned: dict[tuple[str, str, int], int], overwrite: bool = False
                 ) -> dict[tuple[str, str, int], dict[str, Any]]:
    """The rows already in runs.csv ``path``, by (data set, method, seed); {} when there is none.

    ``planned`` maps the runs about to be trained to their step counts. ValueError (before any training) when
    one of them is already there, unless ``overwrite``, or when a row left in place has the same data set
    and method but another step count: one table row would average the two budgets.
    """
    if not path.exists():
        return {}
    earlier = {(r["dataset"], r["method"], r["seed"]): r for r in read_runs([path])}
    again = [key for key in planned if key in earlier]
    if again and not overwrite:
        raise ValueError(f"{path} already holds {len(again)} of the runs asked for, e.g. {again[0]} (data set, "
                         "method, seed). Its rows are kept and new runs added, but a run is never trained twice "
                         "silently: pass --overwrite to train them again and replace their rows, other --seeds or "
                         "--methods to add new runs, or another --out")
    budget = {(d, m): steps for (d, m, _), steps in planned.items()}
    for key, row in earlier.items():
        if key not in planned and budget.get(key[:2], row["steps"]) != row["steps"]:
            raise ValueError(f"{path} holds {key[1]} on {key[0]} trained for {row['steps']} steps, but this run "
                             f"trains it for {budget[key[:2]]}; one table row would average both budgets. Use the "
                             "same --steps as that file's runs, or another --out")
    return earlier
