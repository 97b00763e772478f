"""Fail when a committed notebook holds outputs or execution counts (they must be stripped).

Usage: python tools/check_notebooks.py notebooks/   (``make lint`` runs it)
Fix:   nbstripout --keep-id notebooks/*.ipynb
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def problems(path: Path) -> list[str]:
    try:
        nb = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        return [f"not valid JSON ({err})"]
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i} has an execution count")
    return found


def main(folders: list[str]) -> int:
    bad = 0
    for folder in folders or ["notebooks"]:
        for path in sorted(Path(folder).glob("*.ipynb")):
            for problem in problems(path):
                print(f"{path}: {problem}")
                bad += 1
    if bad:
        print("strip them with: .venv/bin/nbstripout --keep-id notebooks/*.ipynb")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
