"""Benchmark: the speed ratios of issues 16 and 30, each measured in this one run.

The machine is shared, so only ratios count, each from paired runs made alternately in the same
loop (A B A B …, medians of BENCH_REPS rounds, default 3). Every build runs as its own
`planbook` process in a fresh temporary copy of the project (reports/ is never touched):

- cold build of 2025 / import floor (`python -c 'import pandas, matplotlib, seaborn'`);
- unchanged rebuild / cold build;
- `verify` / cold build;
- a 10-month briefing range (2026-01..2026-10) / one month (2026-10), both cold;
- cold build at 10× and 100× the store rows / at base. The larger stores are generated here:
  every stored figure gets 9 (or 99) earlier revisions with other values before its stored
  one, so the report's figures stay those of the base while the store, the revision history
  and the 数据质量 pages grow;
- the build process's own peak RSS (kernels, pandoc and typst are other processes) over the
  10-month range / one month;
- a lower bound of the cold build / import floor: what any build of this book must spend on 2
  cores, whatever its overheads. It is the import floor, plus the chapters' own code and the
  typesetting, perfectly shared by the 2 cores. The code is every chapter notebook's cells run
  one after another in one plain process: no kernel, no papermill, no messaging, displays
  discarded, the period opened once (as `run` prepares it). The typesetting is the CPU time of
  pandoc and typst in a `planbook render` of the built period. A cold build target below this
  bound cannot be met by cutting the pipeline's overheads (kernels, messaging, the render's own
  Python): it needs the chapters' code or the typesetting themselves to do less, that is a
  smaller book or the same figures and pages made faster than by matplotlib, pandoc and typst.
- the cold build / that lower bound (issue 30): what the pipeline's own overheads add.
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

REPS = int(os.environ.get("BENCH_REPS", "3"))
FLOOR = "import pandas, matplotlib, seaborn"
RANGE, MONTH = "2026-01..2026-10", "2026-10"
TARGETS = {  # ratio name -> (target, lower is better)
    "cold build / import floor": 8.0,
    "cold build / lower bound": 1.25,  # issue 30: what the pipeline adds to the book's own work
    "unchanged rebuild / cold build": 0.10,
    "verify / cold build": 0.55,
    "10-month range / one month": 5.0,
    "cold build 10x rows / base": 1.3,
    "cold build 100x rows / base": 1.3,
    "range parent peak RSS / one month": 1.10,
}
# The command line in a child that reports its own peak RSS (not its children's) on exit.
_CLI = """\
import resource, sys
from planbook.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(code)
"""


# Every chapter's own code in one plain process, as the kernels run it (parameters injected after
# the parameters cell, the period opened once and shared through chapters.prepared) but with no
# kernel: displays are discarded and provenance records nothing (no IPython shell). Prints the
# CPU seconds of the cells and of opening the period; the imports are the floor's.
_CODE = """\
import os, sys, time
from pathlib import Path
import IPython.display
import matplotlib, nbformat, pandas, seaborn  # noqa: F401 - the floor, not counted
IPython.display.display = lambda *args, **kwargs: None
from planbook.chapters import catalogue, prepared
from planbook.run import execute, period

rp = period.resolve(sys.argv[1], Path.cwd())
parameters = rp.params.as_dict()
start = time.process_time()
state = Path(sys.argv[2])
execute.prepare_file(parameters, str(state))
os.environ[prepared.ENV] = str(state)
injected = "\\n".join(f"{k} = {v!r}" for k, v in parameters.items())
for chapter in rp.chapters:
    nb = nbformat.read(catalogue.source_notebook(chapter, rp.root), as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    namespace = {"__name__": "__main__"}
    for n, source in enumerate(cells):
        exec(compile(source, f"{chapter.key}[{n}]", "exec"), namespace)
        if n == 0:
            exec(injected, namespace)
    matplotlib.pyplot.close("all")
print(time.process_time() - start)
"""
# `planbook render` reporting the CPU time of its children (pandoc, typst) on exit.
_RENDER = """\
import resource, sys
from planbook.cli import main
code = main(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_utime + usage.ru_stime))
sys.exit(code)
"""
CORES = 2  # the machine the targets are set for


def floor() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR], check=True)
    return time.perf_counter() - t0


def planbook(root: Path, *args: str, program: str = _CLI) -> tuple[float, float]:
    """(seconds, what `program` wrote on exit: by default the peak RSS of the planbook process
    in KiB) of one command in project `root`."""
    out = root / ".bench-out"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", program, str(out), *args], cwd=root,
                          env=project_env(root), capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"planbook {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return seconds, float(out.read_text())


def code_seconds(root: Path, period: str) -> float:
    """CPU seconds of every chapter's own code for `period`, in one plain process (_CODE)."""
    proc = subprocess.run([sys.executable, "-c", _CODE, period, str(root / ".bench-prepared")],
                          cwd=root, env=project_env(root), capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"the chapters' code failed outside the kernels:\n{proc.stderr[-3000:]}")
    return float(proc.stdout.strip().splitlines()[-1])


def typesetting_seconds(root: Path, period: str) -> float:
    """CPU seconds of pandoc and typst in a `planbook render` of the built `period`."""
    return planbook(root, "render", "--period", period, "--engine", "builtin",
                    program=_RENDER)[1]


def build(root: Path, period: str) -> tuple[float, float]:
    return planbook(root, "build", "--period", period, "--engine", "builtin")


def grow_store(data: Path, factor: int) -> int:
    """Give every stored row factor-1 earlier revisions (other values); returns the row count."""
    import pandas as pd

    from planbook.store import observations

    total = 0
    for f in observations.store_files(data):
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8")
        copies = []
        for k in range(1, factor):
            early = df.copy()
            early["value"] = (df["value"].astype(float) * (1 + 0.01 * (factor - k))).round(3) \
                .astype(str)
            copies.append(early)
        out = pd.concat([*copies, df], ignore_index=True)
        # Revisions counted from 1 again, in the order above: the stored value stays last.
        out["revision"] = (out.groupby(["indicator_id", "period"]).cumcount() + 1).astype(str)
        out.to_csv(f, index=False, encoding="utf-8", lineterminator="\n")
        total += len(out)
    return total


ROWS: dict[int, int] = {}


def fresh(tmp: Path, name: str, factor: int = 1) -> Path:
    (tmp / name).mkdir()
    root = copy_project(tmp / name)
    if factor > 1:
        ROWS[factor] = grow_store(root / "data", factor)
    return root


def main() -> int:
    runs: dict[str, list[float]] = {k: [] for k in (
        "floor", "cold", "rebuild", "verify", "cold10", "cold100", "month", "range",
        "month_rss", "range_rss", "code", "typeset")}
    with tempfile.TemporaryDirectory(prefix="planbook-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for n in range(REPS):
            runs["floor"].append(floor())
            root = fresh(tmp, f"base{n}")
            runs["cold"].append(build(root, "2025")[0])
            runs["rebuild"].append(build(root, "2025")[0])
            runs["verify"].append(planbook(root, "verify", "--period", "2025")[0])
            runs["code"].append(code_seconds(root, "2025"))
            runs["typeset"].append(typesetting_seconds(root, "2025"))
            shutil.rmtree(root)
            for factor in (10, 100):
                root = fresh(tmp, f"x{factor}-{n}", factor)
                runs[f"cold{factor}"].append(build(root, "2025")[0])
                shutil.rmtree(root)
            root = fresh(tmp, f"month{n}")
            seconds, rss = build(root, MONTH)
            runs["month"].append(seconds)
            runs["month_rss"].append(rss)
            shutil.rmtree(root)
            root = fresh(tmp, f"range{n}")
            seconds, rss = build(root, RANGE)
            runs["range"].append(seconds)
            runs["range_rss"].append(rss)
            shutil.rmtree(root)
            print(f"round {n + 1}/{REPS}: " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in
                                                        runs.items() if "rss" not in k),
                  flush=True)
    med = {k: statistics.median(v) for k, v in runs.items()}
    bound = med["floor"] + (med["code"] + med["typeset"]) / CORES
    ratios = {
        "cold build / import floor": med["cold"] / med["floor"],
        "cold build / lower bound": med["cold"] / bound,
        "unchanged rebuild / cold build": med["rebuild"] / med["cold"],
        "verify / cold build": med["verify"] / med["cold"],
        "10-month range / one month": med["range"] / med["month"],
        "cold build 10x rows / base": med["cold10"] / med["cold"],
        "cold build 100x rows / base": med["cold100"] / med["cold"],
        "range parent peak RSS / one month": med["range_rss"] / med["month_rss"],
    }
    informative = {"lower bound of a cold build / import floor": bound / med["floor"]}
    print(f"\nmedians of {REPS} paired rounds (s): import floor {med['floor']:.2f}, "
          f"cold 2025 {med['cold']:.1f}, rebuild {med['rebuild']:.1f}, verify "
          f"{med['verify']:.1f}, 10x rows {med['cold10']:.1f}, 100x rows {med['cold100']:.1f}, "
          f"one month {med['month']:.1f}, 10 months {med['range']:.1f}; parent peak RSS one "
          f"month {med['month_rss'] / 1024:.0f} MiB, 10 months {med['range_rss'] / 1024:.0f} "
          f"MiB; store rows {ROWS[10]} (10x), {ROWS[100]} (100x)")
    print(f"lower bound of a cold 2025 build on {CORES} cores: {bound:.1f} s = import floor + "
          f"(chapter code {med['code']:.1f} s + pandoc and typst {med['typeset']:.1f} s of CPU) "
          f"/ {CORES}")
    for name, value in ratios.items():
        target = TARGETS[name]
        print(f"{name:44} {value:6.2f}   (target <= {target:g}: "
              f"{'ok' if value <= target else 'MISSED'})")
    for name, value in informative.items():
        reach = "the cold target cannot be met" if value > TARGETS["cold build / import floor"] \
            else "the cold target is within reach"
        print(f"{name:44} {value:6.2f}   ({reach})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
