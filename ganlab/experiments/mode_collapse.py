"""The 2-D mode-collapse benchmark of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

    python -m ganlab.experiments.mode_collapse [--quick] [--seeds 10] [--steps N] [--device auto]
                                               [--methods gan,pacgan4,...] [--workers W] [--out artifacts]
                                               [--overwrite] [--sequential]
    python -m ganlab.experiments.mode_collapse --report RUNS_CSV [RUNS_CSV ...] [--out artifacts]

For each data set (``ring8``: 8 Gaussians of std 0.01 on the unit circle; ``grid25``: 25 Gaussians of std
0.05 on a 5 × 5 grid of spacing 2), each method and each seed, small MLPs are trained with the plain
``Trainer`` plus the method's remedies (``ganlab.remedies``); 2,500 samples are then scored with
``ganlab.metrics.mode_coverage``: modes captured, % high-quality samples (within 3 std of a mode) and the
reverse KL of the mode histogram to uniform. The table prints mean ± std over seeds beside the published
rows (PacGAN's and VEEGAN's Table 1), and ``--out`` receives runs.csv (one row per run), summary.csv and two figures.

Nothing is lost: ``--out`` is checked before any training (a file there, or a folder that cannot be written, is
refused at once); each run is written to runs.csv as it finishes (atomically), so Ctrl-C or a crash loses only
the runs under way; a runs.csv already in ``--out`` is kept and added to, and the summaries cover all of its
rows, so method subsets run one after another build one table. A (data set, method, seed) run that runs.csv
already holds is refused before training unless ``--overwrite`` says to train it again and replace its row.

Seeds batched: a method whose recipe ``ganlab.batched`` can stack (the plain GAN, ``gan_5x``, ``best`` and its
ablations: toy nets, Adam, R1, n_critic) trains all its seeds of one data set as one ``BatchedTrainer``, which
gives each seed the run a lone ``Trainer`` would (to float rounding; tests/test_batched.py) at a fraction of the
per-op overhead. Rounding is not nothing over 2,000 Adam steps: an element whose gradient is near zero gets an
update of about ±lr whose sign rounding decides (measured on ring8, seed 1: weights equal to 1e-7 for 16 steps,
then 1e-4 apart by step 20), so a batched run is another draw of the same run's noise, not its copy; compare
tables within their seed spread. The remedies are written for a lone trainer and run one seed at a time.
``--sequential`` trains every run alone, as before, for comparison. A batched row's ``seconds`` is the batch's
wall time divided by its runs (``batch`` says how many ran together); the closing lines print each method's cost.

``--methods ablation`` runs ``best`` beside four copies of it that each lack one ingredient (``ABLATION``).

``--report RUNS_CSV ...`` trains nothing: it merges saved runs.csv files and prints the tables again (the
Markdown one is README's); every run also leaves that table in ``--out``/summary.md.

Every remedy shares the base recipe below and the same number of steps, so the remedies are compared on equal
budgets; ``best`` is allowed 5x the steps, and ``gan_5x`` gives the plain GAN the same 5x, so the table shows
what the extra steps alone buy. Wall time per run is reported because some remedies (unrolling) cost more per
step.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch

from .. import toy
from ..batched import LinearDecay, check_batchable, seed_configs, train_batched
from ..config import GANConfig, resolve_device
from ..metrics import mode_coverage
from ..remedies import build_trainer
from ..train import Trainer
from . import mode_table
from .mode_table import PUBLISHED, costs, format_markdown, format_table, read_runs, summarise, write_csv

__all__ = ["PUBLISHED", "format_markdown", "format_table", "read_runs", "summarise", "write_csv"]  # re-exported

DATASETS = ("ring8", "grid25")
N_SAMPLES = 2500  # generated samples scored per run, as in both papers

# The base recipe every method starts from: the papers' scale (2-D noise, MLPs with a few hundred units at
# most), the non-saturating loss without label smoothing (smoothing blurs the thin modes), Adam, and the
# learning rates decayed linearly to 0 over the last ``decay`` fraction of the steps, which sharpens the modes.
BASE: dict[str, Any] = dict(model="toy", image_shape=(2,), latent_dim=2, hidden_dim=128, batch_size=256,
                            lr_g=1e-3, lr_d=1e-3, betas=(0.5, 0.999), real_label=1.0, extra={"layers": 3})
DECAY = 0.5
STEPS = 2000


@dataclass(frozen=True)
class Method:
    """A row of the table: remedies (``ganlab.remedies`` spec), changes to the base config, and a multiple of
    the common step budget (1 for every method compared on equal terms; a recipe may ask for more)."""

    label: str
    remedies: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    steps_scale: float = 1.0


BEST: dict[str, Any] = {"n_critic": 2, "batch_size": 512, "penalty": "r1", "penalty_weight": 0.1,
                        "hidden_dim": 256, "extra": {"d_hidden_dim": 128}}

METHODS: dict[str, Method] = {
    "gan": Method("GAN"),
    # Lin et al.'s code counts a batch in packs: B packs of 4 per step, so G draws 4B samples and D judges B.
    "pacgan4": Method("PacGAN4", {"pack": {"pack": 4}}, {"batch_size": 4 * BASE["batch_size"]}),
    "minibatch_std": Method("minibatch std", {"minibatch_std": {}}),
    "minibatch_discrimination": Method("minibatch discrimination", {"minibatch_discrimination": {}}),
    "feature_matching": Method("feature matching", {"feature_matching": {}}),
    "unrolled": Method("Unrolled GAN (5 steps)", {"unrolled": {"steps": 5}}),
    "replay": Method("experience replay", {"replay": {}}),
    "historical_averaging": Method("historical averaging", {"historical_averaging": {}}),
    # The plain GAN on best's budget: what the extra steps alone buy.
    "gan_5x": Method("GAN, 5x steps", steps_scale=5.0),
    # Found by sweeps on 2 seeds of the grid (n_critic, batch size, widths, learning rate, latent size, decay,
    # packing, minibatch std/discrimination, R1 weight): two D steps per G step and batch 512 sharpen the modes;
    # R1 (gamma 0.1; 1.0 blurred, 0.01 left modes uneven) puts every seed on all 25 grid modes; a generator
    # twice as wide (D unchanged) and 5x the common step budget lift the grid's high-quality share past 94 %.
    "best": Method("ganlab best: R1, 2 D steps, batch 512, wide G", changes=BEST, steps_scale=5.0),
}

# The ablation of ``best``: each row takes one ingredient out. Not in the default run (``--methods ablation``).
ABLATION: dict[str, Method] = {
    "best_no_r1": Method("best without R1", changes={**BEST, "penalty": "none"}, steps_scale=5.0),
    "best_narrow_g": Method("best with G as narrow as D", changes={**BEST, "hidden_dim": 128}, steps_scale=5.0),
    "best_one_d_step": Method("best with 1 D step per G step", changes={**BEST, "n_critic": 1}, steps_scale=5.0),
    "best_half_steps": Method("best on half the steps", changes=BEST, steps_scale=2.5),
}
DEFAULT_METHODS = tuple(METHODS)
METHODS.update(ABLATION)


def config(dataset: str, method: str = "gan", seed: int = 0, device: str = "auto") -> GANConfig:
    """The base recipe with ``method``'s changes for ``dataset`` (the remedies are ``build_trainer``'s)."""
    if method not in METHODS:
        raise ValueError(f"method {method!r} is unknown; use one of {sorted(METHODS)}")
    changes = METHODS[method].changes
    values = {**BASE, **changes, "extra": {**BASE["extra"], **changes.get("extra", {})}}  # extras merge
    return GANConfig(dataset=dataset, seed=seed, device=device, **values)


def trainer(dataset: str, method: str = "gan", seed: int = 0, steps: int = STEPS, device: str = "auto",
            decay: float = DECAY, cuda_graph: bool = True) -> Trainer:
    """An untrained ``Trainer`` for one run, with the learning-rate decay over ``steps`` attached.

    ``cuda_graph=False`` keeps every step eager on CUDA (``make gpu-check`` compares the two)."""
    t = build_trainer(config(dataset, method, seed, device), METHODS[method].remedies, progress=False,
                      check_every=500, cuda_graph=cuda_graph)
    t.add_callback("on_step_end", LinearDecay(t, steps, decay))
    return t


def run_one(dataset: str, method: str, seed: int, steps: int = STEPS, device: str = "auto",
            n_samples: int = N_SAMPLES) -> dict[str, Any]:
    """Train one run and score ``n_samples`` samples; returns a CSV row plus the samples (n_samples, 2)."""
    start = time.perf_counter()
    steps = round(steps * METHODS[method].steps_scale)
    t = trainer(dataset, method, seed, steps, device)
    t.fit(steps=steps)
    samples = t.sample(n_samples)
    seconds = time.perf_counter() - start
    return _row(dataset, method, seed, steps, str(t.device), samples, seconds, batch=1)


def _row(dataset: str, method: str, seed: int, steps: int, device: str, samples: torch.Tensor, seconds: float,
         batch: int) -> dict[str, Any]:
    """A runs.csv row: the run's scores on ``samples`` (n, 2), its wall time and how many runs trained with it."""
    dist = toy.get(dataset)
    score = mode_coverage(samples, dist.modes, dist.std)
    return {"dataset": dataset, "method": method, "label": METHODS[method].label, "seed": seed, "steps": steps,
            "device": device, "modes": score["modes"], "high_quality": 100 * score["high_quality"],
            "reverse_kl": score["reverse_kl"], "seconds": seconds, "batch": batch, "samples": samples}


def batchable(method: str) -> bool:
    """True when ``method``'s seeds can train as one ``BatchedTrainer`` (no remedy, a recipe it can stack)."""
    if METHODS[method].remedies:
        return False
    try:
        check_batchable(seed_configs(config("ring8", method, device="cpu"), [0, 1]))
    except ValueError:
        return False
    return True


def run_batch(dataset: str, method: str, seeds: Sequence[int], steps: int = STEPS, device: str = "auto",
              n_samples: int = N_SAMPLES) -> list[dict[str, Any]]:
    """Train ``method``'s runs for ``seeds`` as one batch and score each; one row per seed, as ``run_one``'s.

    Run s is the run ``run_one(dataset, method, s, ...)`` trains (same initial weights, random streams,
    schedule and samples), up to float rounding; each row's ``seconds`` is the batch's wall time / len(seeds).
    """
    start = time.perf_counter()
    steps = round(steps * METHODS[method].steps_scale)
    batch = train_batched(config(dataset, method, 0, device), list(seeds), steps, DECAY)
    samples = batch.sample(n_samples)  # (k, n_samples, 2): run s's as its lone Trainer's sample(n) draws them
    seconds = (time.perf_counter() - start) / len(seeds)
    return [_row(dataset, method, seed, steps, str(batch.device), samples[s], seconds, batch=len(seeds))
            for s, seed in enumerate(seeds)]


Job = tuple[str, str, tuple[int, ...], int, str, int]  # (dataset, method, seeds, steps, device, n_samples)


def _run_job(job: Job) -> list[dict[str, Any]]:
    """One lone run (one seed) or one batch (several seeds of a batchable method); its rows."""
    torch.set_num_threads(1)  # one process per core: tiny nets gain nothing from intra-op threads
    dataset, method, seeds, steps, device, n_samples = job
    if len(seeds) == 1:
        return [run_one(dataset, method, seeds[0], steps, device, n_samples)]
    return run_batch(dataset, method, seeds, steps, device, n_samples)


def plan(datasets: Sequence[str], methods: Sequence[str], seeds: int, steps: int, device: str, n_samples: int,
         sequential: bool = False) -> list[Job]:
    """The jobs of a benchmark: per (data set, method) one batch of every seed where the method batches (and
    ``sequential`` is off), else one job per seed. Batches come first: the longest jobs start earliest."""
    jobs = []
    for d in datasets:
        for m in methods:
            if not sequential and seeds > 1 and batchable(m):
                jobs.append((d, m, tuple(range(seeds)), steps, device, n_samples))
            else:
                jobs.extend((d, m, (s,), steps, device, n_samples) for s in range(seeds))
    return sorted(jobs, key=lambda job: -len(job[2]))


def run_all(datasets: Sequence[str] = DATASETS, methods: Sequence[str] = DEFAULT_METHODS, seeds: int = 10,
            steps: int = STEPS, device: str = "auto", workers: int = 1, n_samples: int = N_SAMPLES,
            progress: bool = True, on_row: Callable[[dict[str, Any]], None] | None = None,
            sequential: bool = False) -> list[dict[str, Any]]:
    """Every (data set, method, seed) run, in ``workers`` processes; rows in (data set, method, seed) order.

    Seeds of a batchable method train as one batch unless ``sequential`` (``plan``). ``on_row(row)`` is called
    as each run finishes (``main`` uses it to keep a partial CSV).
    """
    if not datasets or not methods:
        raise ValueError(f"nothing to run: datasets={list(datasets)}, methods={list(methods)}; "
                         "name at least one of each")
    for name in datasets:
        toy.get(name)  # fail early on a bad name
    for name in methods:
        config(datasets[0], name)
    from tqdm.auto import tqdm

    jobs = plan(datasets, methods, seeds, steps, device, n_samples, sequential)
    bar = tqdm(total=len(datasets) * len(methods) * seeds, disable=not progress, desc="mode-collapse runs",
               unit="run")
    rows = []
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None
    try:
        for job_rows in (pool.map(_run_job, jobs) if pool is not None else map(_run_job, jobs)):
            for row in job_rows:
                rows.append(row)
                if on_row is not None:
                    on_row(row)
                bar.update(1)
    finally:  # on an error (or Ctrl-C) the runs not yet started are dropped instead of awaited
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    order = {(d, m): i for i, (d, m) in enumerate((d, m) for d in datasets for m in methods)}
    return sorted(rows, key=lambda r: (order[r["dataset"], r["method"]], r["seed"]))



def save(rows: Sequence[dict[str, Any]], out: Path) -> dict[str, Path]:
    """runs.csv, summary.csv, summary.md (README's table), mode_collapse.png (ours vs published) and, for rows
    that carry their samples (this invocation's runs, not ones read back from CSV), samples.png (seed 0 of each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plots

    summary = summarise(rows)
    paths = {"runs": write_csv(rows, out / "runs.csv"), "summary": write_csv(summary, out / "summary.csv")}
    paths["markdown"] = mode_table.write_text(format_markdown(summary) + "\n", out / "summary.md")
    paths["figure"] = out / "mode_collapse.png"
    plots.plot_mode_benchmark(summary, PUBLISHED).savefig(paths["figure"], dpi=120, bbox_inches="tight")
    first = [r for r in rows if r["seed"] == 0 and "samples" in r]
    if first:
        paths["samples"] = out / "samples.png"
        fig = plots.plot_mode_samples({(r["dataset"], r["label"]): r["samples"] for r in first},
                                      {d: toy.get(d) for d in dict.fromkeys(r["dataset"] for r in first)})
        fig.savefig(paths["samples"], dpi=100, bbox_inches="tight")
    plt.close("all")
    return paths


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, checked: ``methods`` and ``datasets`` become lists of known names ('ablation' expanded)."""
    p = argparse.ArgumentParser(prog="python -m ganlab.experiments.mode_collapse", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="CI-sized run: 2 seeds, 150 steps, 500 samples")
    p.add_argument("--seeds", type=int, default=None, help="seeds per method (default 10; 2 with --quick)")
    p.add_argument("--steps", type=int, default=None, help=f"training steps per run (default {STEPS})")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help=f"comma-separated, from {','.join(METHODS)}; 'ablation' = best and its {len(ABLATION)} "
                        f"ablations (default: the {len(DEFAULT_METHODS)} main methods)")
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated toy set names")
    p.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU cores, at most 8)")
    p.add_argument("--out", default="artifacts/mode_collapse",
                   help="folder for runs.csv, the summaries and figures. A runs.csv already there is kept and "
                        "added to: each finished run is appended at once, and the summaries cover all its rows")
    p.add_argument("--overwrite", action="store_true",
                   help="train again runs (data set, method, seed) that --out's runs.csv already holds and replace "
                        "their rows as the new runs finish; without it such a run is refused before any training")
    p.add_argument("--sequential", action="store_true",
                   help="train every run alone, as before batching (to compare times and tables); by default the "
                        "seeds of a method that ganlab.batched can stack train as one batch")
    p.add_argument("--report", nargs="+", metavar="RUNS_CSV",
                   help="train nothing: rebuild the tables and figure from these runs.csv files (merged)")
    args = p.parse_args(argv)
    args.seeds = args.seeds if args.seeds is not None else (2 if args.quick else 10)
    args.steps = args.steps if args.steps is not None else (150 if args.quick else STEPS)
    args.samples = 500 if args.quick else N_SAMPLES
    args.workers = args.workers if args.workers is not None else min(8, os.cpu_count() or 1)
    for name in ("seeds", "steps", "workers"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    args.datasets = [d for d in args.datasets.split(",") if d.strip()]
    args.methods = [m for m in args.methods.split(",") if m.strip()]
    if "ablation" in args.methods:
        at = args.methods.index("ablation")
        args.methods[at:at + 1] = ["best", *ABLATION]
    for flag, names, known in (("--datasets", args.datasets, toy.TOY_SETS), ("--methods", args.methods, METHODS)):
        if not names:
            p.error(f"{flag} names nothing; give one or more of {','.join(known)}")
        unknown = [n for n in names if n not in known]
        if unknown:
            p.error(f"{flag}: {', '.join(unknown)} unknown; choose from {','.join(known)}")
    return args


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark from the command line; returns the summary rows (of every run in --out's runs.csv)."""
    args = parse_args(argv)
    out = Path(args.out)
    if args.report:
        return report(args.report, out)
    device = str(resolve_device(args.device))
    planned = {(d, m, s): round(args.steps * METHODS[m].steps_scale)
               for d in args.datasets for m in args.methods for s in range(args.seeds)}
    runs_path = out / "runs.csv"
    try:  # before any training: a run that cannot be saved must not start
        mode_table.check_folder(out)
        table = mode_table.earlier_runs(runs_path, planned, args.overwrite)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    finished: list[dict[str, Any]] = []
    start = time.perf_counter()

    def keep(row: dict[str, Any]) -> None:  # each finished run is on disk at once: Ctrl-C loses only runs under way
        table[row["dataset"], row["method"], row["seed"]] = row
        write_csv(list(table.values()), runs_path)
        finished.append(row)
        print(f"[{len(finished)}/{len(planned)}] {row['dataset']} {row['method']} seed {row['seed']}: "
              f"{row['modes']} modes, {row['high_quality']:.1f} % high quality, {row['seconds']:.0f} s",
              file=sys.stderr, flush=True)

    rows = run_all(args.datasets, args.methods, args.seeds, args.steps, device, args.workers, args.samples,
                   progress=sys.stderr.isatty(), on_row=keep, sequential=args.sequential)
    wall = time.perf_counter() - start
    every = list(table.values())
    summary = summarise(every)
    print(format_table(summary))
    paths = save(every, out)
    print("\nWhat each method cost (this invocation; a batch's wall time is shared among its runs):\n" + costs(rows))
    print(f"\n{len(rows)} runs in {wall:.0f} s wall ({args.workers} workers, {device}), beside "
          f"{len(every) - len(rows)} earlier runs from {runs_path}; wrote " + ", ".join(str(p) for p in paths.values()))
    return summary


def report(runs_files: Sequence[str], out: Path) -> list[dict[str, Any]]:
    """``--report``: the plain and Markdown tables of saved runs (several files merge), and their files in ``out``."""
    try:
        rows = read_runs(runs_files)
        mode_table.check_folder(out)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    target = out / "runs.csv"
    if target.exists() and target.resolve() not in {Path(f).resolve() for f in runs_files}:
        raise SystemExit(f"{target} exists and is not one of the files reported; pass it too, or choose another "
                         "--out, so that its runs are not overwritten")
    if not rows:
        raise SystemExit(f"{', '.join(runs_files)}: no runs in these files; nothing to report")
    summary = summarise(rows)
    print(format_table(summary))
    print("\n" + format_markdown(summary))
    paths = save(rows, out)
    print(f"\n{len(rows)} runs from {len(runs_files)} file(s); wrote " + ", ".join(str(p) for p in paths.values()))
    return summary


if __name__ == "__main__":
    main()
