"""``python -m ganlab.bench`` (``make bench``): the seed notebook's loop against ``ganlab.Trainer``, and
many small runs one after another against the same runs stacked into one model.

In one run on one device, for each model (the seed's MLP GAN on Fashion-MNIST, the DCGAN pair, the
2-D toy GAN on ring8), both methods train the same networks at the same batch size:
  - ``seed_loop``: the seed's loop as written (``ganlab.bench.seed_loop``), the 1× baseline;
  - ``ganlab``: ``Trainer.step`` (resident data, fused Adam, no host syncs, a CUDA graph on CUDA);
  - for DCGAN also ``ganlab_cl``: the same with ``Trainer(channels_last=True)`` (``ganlab.fast.to_channels_last``)
    and, on CUDA, ``ganlab_bf16``: bf16 autocast.
The ``toy_batched`` row trains k = 10 runs of the mode-collapse benchmark's plain GAN recipe (grid25, its own
batch size, not ``--batch-size``), each "step" advancing all 10 runs (``ganlab.bench.batched``):
  - ``sequential``: 10 lone ``Trainer``s stepped in turn, the 1× baseline;
  - ``batched``: one ``ganlab.batched.BatchedTrainer`` (batched layers); ``batched_vmap``: the same with
    ``torch.func.vmap`` nets, the alternative it was measured against.
Each method is built and warmed up (not timed) and its peak memory taken alone: the growth of
``torch.cuda.max_memory_allocated`` on CUDA, of the main process's peak RSS on CPU. Then the methods
take turns over the timed steps in ``ROUNDS`` chunks, so a shared machine's changing load falls on
both. Printed and saved (``--json PATH``): steps/s, seconds per epoch (60 000 samples), peak memory,
the data held on the device, and each model's ratio ganlab / seed loop; the JSON's top-level
``"speedup"`` is that ratio for the seed MLP GAN at the chosen batch size.

Benchmarks print; tests only check that this runs and writes what it promises (tests/test_bench.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ..config import GANConfig, resolve_device
from ..data import ImageData

EPOCH_SAMPLES = 60_000  # an epoch of Fashion-MNIST; the toy loader gets as many points
ROUNDS = 3  # the methods take turns in this many chunks of the timed steps
MODELS = ("mlp", "dcgan", "toy", "toy_batched")
# (timed steps, warm-up steps) per model and device kind; ≤ 5 min in all on a 2-core CPU.
DEFAULT_STEPS = {
    "cpu": {"mlp": (300, 20), "dcgan": (12, 3), "toy": (500, 50), "toy_batched": (30, 3)},
    "cuda": {"mlp": (2000, 50), "dcgan": (500, 20), "toy": (2000, 50), "toy_batched": (300, 10)},
}
# (method, baseline) of each model's ratio; models not named here compare ganlab with the seed loop.
COMPARED = {"toy_batched": ("batched", "sequential")}


def config_for(model: str, device: torch.device, batch_size: int = 64) -> GANConfig:
    """The benchmark's config for a model: ganlab's defaults (the seed's recipe) at ``batch_size``."""
    toy = {"dataset": "ring8", "image_shape": (2,), "latent_dim": 2, "hidden_dim": 128}
    return GANConfig(model=model, batch_size=batch_size, device=str(device), **(toy if model == "toy" else {}))


@dataclass
class Row:
    """One measurement: a model trained by one method on one device."""

    model: str
    method: str  # "seed_loop" | "ganlab" | "ganlab_cl" | "ganlab_bf16" | toy_batched's three
    device: str
    batch_size: int
    steps: int  # timed steps (warm-up excluded)
    steps_per_s: float
    s_per_epoch: float
    peak_memory_mb: float
    memory: str  # what peak_memory_mb measures
    data_mb: float  # the data set held on the device (part of the peak): ganlab keeps it resident
    path: str  # how the steps ran


class PeakMemory:
    """Memory a method adds at its peak: CUDA's allocator peak, or the peak RSS on CPU (Linux), each
    minus what the process held when ``reset`` was called (so methods built one after another are
    measured separately)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.base = 0.0
        cuda = device.type == "cuda"
        self.kind = "cuda max_memory_allocated, growth" if cuda else "peak RSS of this process, growth"

    def reset(self) -> None:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            self.base = torch.cuda.memory_allocated(self.device) / 2**20
            return
        try:  # Linux: writing 5 resets VmHWM (the peak) to the current RSS
            Path("/proc/self/clear_refs").write_text("5")
            self.base = self._status_mb("VmRSS:")
        except (OSError, StopIteration):
            self.kind, self.base = "peak RSS of this process since it started", 0.0

    def growth_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20 - self.base
        try:  # the kernel's RSS counters are cached per thread and can lag by a few pages: a peak read that
            # lands under the base (-0.05 MB seen on Python 3.13) is no growth, not a negative one
            return max(0.0, self._status_mb("VmHWM:") - self.base)
        except (OSError, StopIteration):
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
            return peak / 2**20 if platform.system() == "Darwin" else peak / 1024

    @staticmethod
    def _status_mb(key: str) -> float:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(key))
        return int(line.split()[1]) / 1024


@dataclass
class Method:
    """One way of training, built and ready: ``step`` trains once, ``sync`` waits for queued device work."""

    name: str
    step: Callable[[], Any]
    sync: Callable[[], None]
    describe: Callable[[], str]
    close: Callable[[], None]
    data_mb: float = 0.0
    peak_mb: float = 0.0
    seconds: float = 0.0


def _device_sync(device: torch.device) -> Callable[[], None]:
    return (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)


def seed_method(cfg: GANConfig, dataset: Any) -> Method:
    """The seed's loop (DataLoader with 2 workers, BCE on σ, ``.item()``) on ``cfg``'s models."""
    from .seed_loop import SeedLoop

    device = resolve_device(cfg.device)
    loop = SeedLoop(cfg, dataset, device)
    return Method("seed_loop", loop.step, _device_sync(device),
                  lambda: "DataLoader(2 workers) + BCE on sigmoid + .item()", loop.close)


def ganlab_method(cfg: GANConfig, data: Any, name: str = "ganlab", **options: Any) -> Method:
    """``ganlab.Trainer.step`` on ``cfg`` (``options`` go to ``Trainer``), the data moved to the device when the
    trainer is built."""
    from ..train import Trainer

    trainer = Trainer(cfg, data, progress=False, **options)
    resident = trainer.data if isinstance(trainer.data, ImageData) else None
    data_mb = 0.0 if resident is None else (resident.images.nbytes + resident.labels.nbytes) / 2**20
    return Method(name, trainer.step, _device_sync(trainer.device), lambda: trainer.fast_path,
                  trainer.flush, data_mb)


def measure(cfg: GANConfig, builders: list[Callable[[], Method]], steps: int, warmup: int,
            rounds: int = ROUNDS) -> list[Row]:
    """Build and warm up each method (its memory measured alone), then time them taking turns.

    The timed steps are split into ``rounds`` chunks and the methods alternate chunk by chunk, so a
    change in the machine's load during the run falls on all of them alike.
    """
    device = resolve_device(cfg.device)
    memory = PeakMemory(device)
    methods: list[Method] = []
    try:
        for build in builders:
            memory.reset()
            method = build()
            methods.append(method)
            for _ in range(warmup):
                method.step()
            method.sync()
            method.peak_mb = memory.growth_mb()
        chunks = [len(c) for c in torch.arange(steps).chunk(min(rounds, steps))]
        for chunk in chunks:
            for method in methods:
                start = time.perf_counter()
                for _ in range(chunk):
                    method.step()
                method.sync()
                method.seconds += time.perf_counter() - start
    finally:
        for method in methods:
            method.close()
    per_epoch = EPOCH_SAMPLES // cfg.batch_size
    return [Row(cfg.model, m.name, str(device), cfg.batch_size, steps, steps / m.seconds,
                per_epoch * m.seconds / steps, m.peak_mb, memory.kind, m.data_mb, m.describe()) for m in methods]


def _datasets(models: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
    """Per model: (the seed loop's torchvision-style dataset, ganlab's data on the CPU)."""
    from ..data import load_images
    from .seed_loop import IdxImages, point_dataset

    out: dict[str, tuple[Any, Any]] = {}
    if {"mlp", "dcgan"} & set(models):
        images = (IdxImages.from_files("fashion_mnist"), load_images("fashion_mnist"))
        out.update({m: images for m in ("mlp", "dcgan")})
    if "toy" in models:
        from .. import toy

        ring = toy.get("ring8")
        points = ring.sample(EPOCH_SAMPLES, generator=torch.Generator().manual_seed(0))
        out["toy"] = (point_dataset(points), ring)
    return out


def run(device: str = "auto", steps: int | None = None, models: tuple[str, ...] = MODELS,
        batch_size: int = 64, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every model with both methods; returns the JSON-ready result (rows, ratios, "speedup")."""
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"models {unknown} are not benchmarked; choose from {MODELS}")
    if steps is not None and steps < 1:
        raise ValueError(f"steps={steps} must be at least 1")
    dev = resolve_device(device)
    defaults = DEFAULT_STEPS["cuda" if dev.type == "cuda" else "cpu"]
    meta = _meta(dev)
    log(f"ganlab bench on {meta['device_name']} ({dev}, {meta['threads']} torch threads), "
        f"torch {meta['torch']}, load average {meta['load_average']}")
    data = _datasets(models)
    rows: list[Row] = []
    for model in models:
        n, warmup = defaults[model] if steps is None else (steps, min(defaults[model][1], max(2, steps // 5)))
        if model == "toy_batched":
            from . import batched

            cfg = batched.config(dev)
            builders = batched.builders(cfg)
        else:
            cfg = config_for(model, dev, batch_size)
            seed_data, ganlab_data = data[model]
            builders = [partial(seed_method, cfg, seed_data), partial(ganlab_method, cfg, ganlab_data)]
        if model == "dcgan":
            builders.append(partial(ganlab_method, cfg, ganlab_data, "ganlab_cl", channels_last=True))
        if dev.type == "cuda" and model == "dcgan":
            builders.append(partial(ganlab_method, dataclasses.replace(cfg, bf16=True), ganlab_data, "ganlab_bf16"))
        measured = measure(cfg, builders, n, warmup)
        rows += [dataclasses.replace(r, model=model) for r in measured]  # toy_batched's cfg.model is "toy"
        for row in rows[-len(builders):]:
            log(_line(row))
        if model in COMPARED:
            log(f"  {model}: {COMPARED[model][0]} / {COMPARED[model][1]} = "
                f"{_rate(rows, model, COMPARED[model][0]) / _rate(rows, model, COMPARED[model][1]):.2f}× the runs per "
                f"second, measured in turns in this process")
    ratios = {m: _rate(rows, m, COMPARED.get(m, ("ganlab",))[0]) / _rate(rows, m, _baseline(m)) for m in models}
    meta["load_average_after"] = _load()
    return {**meta, "rows": [dataclasses.asdict(r) for r in rows], "ratios": ratios,
            "speedup": ratios.get("mlp")}


def _baseline(model: str) -> str:
    return COMPARED.get(model, ("ganlab", "seed_loop"))[1]


def _rate(rows: list[Row], model: str, method: str) -> float:
    return next(r.steps_per_s for r in rows if r.model == model and r.method == method)


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _meta(device: torch.device) -> dict[str, Any]:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine()
        try:
            name = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                        if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "device": str(device),
            "device_name": name, "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "load_average": _load()}


def _line(row: Row) -> str:
    return (f"  {row.model:6s} {row.method:12s} batch {row.batch_size:4d}: {row.steps_per_s:9.1f} steps/s, "
            f"{row.s_per_epoch:8.1f} s/epoch, peak {row.peak_memory_mb:8.1f} MB  [{row.path}]")


def table(result: dict[str, Any]) -> str:
    """The result as a Markdown table (device, date, steps/s, ratio), ready for the README."""
    lines = [f"{result['device_name']} ({result['device']}, {result['threads']} threads), {result['date'][:10]}, "
             f"torch {result['torch']}", "",
             "× baseline: against the seed loop; for toy_batched, against the same 10 runs trained one after "
             "another (a toy_batched step advances all 10 runs).", "",
             "| model | method | batch | steps/s | s/epoch | peak memory (MB) | of which data | × baseline |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in result["rows"]:
        base = _rate([Row(**r) for r in result["rows"]], row["model"], _baseline(row["model"]))
        lines.append(f"| {row['model']} | {row['method']} | {row['batch_size']} | {row['steps_per_s']:.1f} | "
                     f"{row['s_per_epoch']:.1f} | {row['peak_memory_mb']:.0f} | {row['data_mb']:.0f} | "
                     f"{row['steps_per_s'] / base:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganlab.bench",
                                     description="Time the seed notebook's loop against ganlab.Trainer, and "
                                                 "10 toy runs one after another against them batched.")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, mps")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per measurement (default: per model and device, see DEFAULT_STEPS)")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {MODELS}")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", type=Path, default=None, help="write the result here as JSON")
    args = parser.parse_args(argv)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    result = run(args.device, args.steps, models, args.batch_size)
    print()
    print(table(result))
    if result["speedup"] is not None:
        print(f"\nspeedup (seed MLP GAN, batch {args.batch_size}, ganlab / seed loop): {result['speedup']:.2f}×")
    if "toy_batched" in result["ratios"]:
        print(f"batched runs (10 toy GANs stacked / one after another): {result['ratios']['toy_batched']:.2f}×")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
        print(f"wrote {args.json}")
    return 0
