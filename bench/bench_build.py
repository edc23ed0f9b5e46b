"""Benchmark: cold `planbook build` of the 2025 report and an unchanged rebuild.

Targets on 2 cores: cold under 60 s; unchanged rebuild under 10% of cold. Runs in a temporary
copy of the project so the published reports/ are not touched. Prints the times and ratio
measured in this one run (the machine is shared: compare ratios, not absolute seconds).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("_quarto.yml", "book", "notebooks", "params", "data", "src")


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / part)
    return dest


def project_env(root: Path) -> dict[str, str]:
    """The environment of a `planbook` child process working on the copy at `root` (its own
    library first: the run cache hashes the library it executes with)."""
    return {**os.environ, "PLANBOOK_ROOT": str(root),
            "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")])}


def use_copy(root: Path) -> None:
    """Import planbook from the copy: the run cache hashes the library it executes with."""
    os.environ["PLANBOOK_ROOT"] = str(root)
    sys.path.insert(0, str(root / "src"))


def timed_build(spec: str, root: Path) -> float:
    from planbook.build import build

    t0 = time.perf_counter()
    for _ in build(spec, engine="builtin", root=root):
        pass
    return time.perf_counter() - t0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="planbook-bench-") as tmp:
        root = copy_project(Path(tmp))
        use_copy(root)
        cold = timed_build("2025", root)
        warm = timed_build("2025", root)
    ratio = warm / cold
    print(f"cold build 2025:        {cold:6.1f} s   (target < 60 s: {'ok' if cold < 60 else 'MISSED'})")
    print(f"unchanged rebuild 2025: {warm:6.1f} s")
    print(f"unchanged / cold:       {ratio:6.1%}   (target < 10%: {'ok' if ratio < 0.10 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
