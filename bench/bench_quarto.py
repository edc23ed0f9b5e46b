"""Benchmark: the Quarto render of issue 27, its ratios measured in this one run.

The machine is shared, so only ratios count: paired runs made alternately in the same loop
(A B C A B C …, medians of BENCH_REPS rounds, default 2) on one temporary copy of the project,
with 2025's notebooks executed once before (a render reads executed notebooks only):

- `planbook render --engine quarto` / `quarto render --profile 2025` run by hand in the book
  project planbook staged (build/quarto/2025/book): what planbook adds around Quarto (staging
  the pages, the code pages, downloads, the Word edition's finish, the CSP);
- `planbook render --engine quarto` / `planbook render --engine builtin`: Quarto's render
  against the built-in pandoc + typst one for the same book.

Without `quarto` on PATH it says so and exits 0 (Quarto is optional; .ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_build import copy_project, project_env  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "2"))
PERIOD = "2025"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> int:
    quarto = shutil.which("quarto")
    if quarto is None:
        print("bench_quarto: quarto is not on PATH; skipped (`bash ../shared/quarto/install.sh "
              "PREFIX`, or run .ci/run, then put PREFIX/bin on PATH)")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-quarto-") as tmp:
        root = copy_project(Path(tmp) / "project")
        env = project_env(root)
        cli = [sys.executable, "-m", "planbook"]
        timed([*cli, "run", "--period", PERIOD], root, env)
        book = root / "build" / "quarto" / PERIOD / "book"
        rounds: dict[str, list[float]] = {"planbook quarto": [], "quarto by hand": [],
                                          "planbook builtin": []}
        for _ in range(REPS):
            rounds["planbook quarto"].append(
                timed([*cli, "render", "--period", PERIOD, "--engine", "quarto"], root, env))
            # the project planbook staged stays after its render: render it by hand
            rounds["quarto by hand"].append(
                timed([quarto, "render", "--profile", PERIOD], book, env))
            rounds["planbook builtin"].append(
                timed([*cli, "render", "--period", PERIOD, "--engine", "builtin"], root, env))
        med = {k: statistics.median(v) for k, v in rounds.items()}
        for k, v in rounds.items():
            print(f"{k:18s} median {med[k]:7.1f} s  ({', '.join(f'{s:.1f}' for s in v)})")
        print(f"planbook render --engine quarto / quarto render by hand: "
              f"{med['planbook quarto'] / med['quarto by hand']:.2f}")
        print(f"planbook render --engine quarto / --engine builtin:      "
              f"{med['planbook quarto'] / med['planbook builtin']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
