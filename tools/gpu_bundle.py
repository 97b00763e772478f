"""Pack what ``make gpu-check`` needs on a GPU machine that has torch but no network: ``make gpu-bundle``.

Writes ``--out`` (default ``gpu-bundle/``, git-ignored) with
  fashion-mnist/   the four idx files, found as ``ganlab.data`` finds them;
  classifiers/     the cached Fashion-MNIST classifier (``make classifier``), so no GPU time trains it;
  wheels/          wheels for the packages such a machine lacks to run the notebooks (nbval, ipykernel,
                   ipywidgets and what they need), for ``--python-version`` on manylinux x86-64.
Then, on the GPU machine: ``make gpu-check USE_SYSTEM=1`` (it finds ``gpu-bundle/`` by itself).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PACKAGES = ("nbval", "ipykernel", "ipywidgets")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64", "manylinux_2_34_x86_64", "manylinux_2_31_x86_64", "manylinux_2_24_x86_64")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "gpu-bundle")
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's Python (default 3.12)")
    parser.add_argument("--no-wheels", action="store_true", help="data and classifier only")
    args = parser.parse_args(argv)

    from ganlab.data import find_dataset
    from ganlab.features import CACHE_DIR

    target = args.out / "fashion-mnist"
    target.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        for f in find_dataset("fashion_mnist", split):  # (images, labels) paths
            shutil.copy2(f, target / f.name)
    classifiers = sorted(CACHE_DIR.glob("fashion_mnist_*.pt"))
    if not classifiers:
        print("no cached classifier: run `make classifier` first, or the GPU machine will train one", file=sys.stderr)
    (args.out / "classifiers").mkdir(exist_ok=True)
    for f in classifiers:
        shutil.copy2(f, args.out / "classifiers" / f.name)
    if not args.no_wheels:
        wheels = args.out / "wheels"
        wheels.mkdir(exist_ok=True)
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--implementation",
                        "cp", "--python-version", args.python_version, *platforms, "-d", str(wheels), *PACKAGES],
                       check=True)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"{args.out}: {size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
