"""Benchmark: ten consecutive monthly briefings (2026-01..2026-10), cold and then unchanged.

Prints the total and per-month times of both passes and the unchanged/cold ratio, measured in
one run in a temporary copy of the project.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_build import copy_project, use_copy  # noqa: E402

MONTHS = [f"2026-{m:02d}" for m in range(1, 11)]


def one_pass(root: Path) -> dict[str, float]:
    from planbook.build import build

    times = {}
    for month in MONTHS:
        t0 = time.perf_counter()
        for _ in build(month, engine="builtin", root=root):
            pass
        times[month] = time.perf_counter() - t0
    return times


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="planbook-bench-") as tmp:
        root = copy_project(Path(tmp))
        use_copy(root)
        cold = one_pass(root)
        warm = one_pass(root)
    print(f"{'month':8} {'cold s':>8} {'unchanged s':>12}")
    for m in MONTHS:
        print(f"{m:8} {cold[m]:8.2f} {warm[m]:12.2f}")
    total_c, total_w = sum(cold.values()), sum(warm.values())
    print(f"{'total':8} {total_c:8.2f} {total_w:12.2f}   unchanged/cold = {total_w / total_c:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
