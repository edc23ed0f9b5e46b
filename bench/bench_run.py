"""Benchmark of `planbook run`: cold, unchanged re-run, one department file changed, sequential.

    .venv/bin/python bench/bench_run.py [--period 2025] [--progress]

Works in a temporary copy of the project (notebooks/, params/, data/, _quarto.yml, book/ and
src/), so the real build/ and reports/ are never touched. The measuring runs in a child process
with PYTHONPATH on the copied src/: planbook's source is a cache input, and a colleague saving
a library file mid-benchmark would otherwise (rightly) re-execute everything. When the project's chapter notebooks are not all
there yet, it generates fixture chapter notebooks that do about 2 s of work each and says so.

Targets (issue 5): an unchanged re-run costs at most 5% of the cold run; a one-file change
re-executes only the notebooks that read that file; the parallel cold run costs at most 0.65x
a sequential cold run on 2 cores. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from planbook.chapters.catalogue import chapters_for, data_inputs, source_notebook
from planbook.plan.params import load_params
from planbook.plan.registry import load_registry
from planbook.run import execute as pipeline
from planbook.run.period import resolve

sys.path.insert(0, str(Path(__file__).parent))
from bench_build import copy_project  # noqa: E402  (one project-copy helper for the benches)

WORK_SECONDS = 2.0


def fixture_notebook(title: str) -> nbformat.NotebookNode:
    """A stand-in chapter: the real imports, reads the observation store, ~2 s of CPU work."""
    params = new_code_cell('period = ""\nas_of = ""\ndata_dir = ""\nkind = ""\nplan_id = ""',
                           metadata={"tags": ["parameters"]})
    work = f"""\
import time
from pathlib import Path

import pandas as pd

import planbook

frames = [pd.read_csv(p) for p in sorted(Path(data_dir, "observations").glob("*.csv"))]
rows = sum(len(f) for f in frames)
# Stand-in for assessment and figures: deterministic CPU work for about {WORK_SECONDS} s.
end, n, acc = time.process_time() + {WORK_SECONDS}, 0, 0
while time.process_time() < end:
    acc = (acc * 31 + n) % 1_000_003
    n += 1
print(planbook.__version__, period, rows, "rows")"""
    return new_notebook(cells=[params, new_markdown_cell(f"# {title}"), new_code_cell(work)],
                        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                 "language": "python"}})


def timed(label: str, fn):
    t = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t
    print(f"  {label:<38} {seconds:7.2f} s", flush=True)
    return result, seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", default="2025")
    ap.add_argument("--progress", action="store_true", help="show the per-notebook lines")
    ap.add_argument("--inside", type=Path, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args(argv)
    if args.inside:
        return measure(args.inside, args.period, args.progress)

    with tempfile.TemporaryDirectory(prefix="planbook-bench-") as tmp:
        root = Path(tmp)
        copy_project(root)
        (root / "notebooks").mkdir(exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(root / "src")}
        env.pop("PLANBOOK_ROOT", None)
        cmd = [sys.executable, __file__, "--inside", str(root), "--period", args.period]
        return subprocess.run(cmd + (["--progress"] if args.progress else []), env=env).returncode


def measure(root: Path, period: str, progress: bool) -> int:
    import planbook

    assert Path(planbook.__file__).is_relative_to(root), "the library snapshot is not in use"
    params = load_params(period, root)
    chapters = chapters_for(params.kind)
    missing = [c for c in chapters if not source_notebook(c, root).is_file()]
    if missing:
        for c in chapters:
            nbformat.write(fixture_notebook(c.title), source_notebook(c, root))
        mode = (f"GENERATED fixture notebooks (~{WORK_SECONDS:.0f} s of work each; "
                f"{len(missing)} of the project's {len(chapters)} notebooks are not written yet)")
    else:
        mode = "the project's own chapter notebooks"
    cores = os.cpu_count()
    print(f"planbook run benchmark, period {params.period}: {len(chapters)} chapters, "
          f"{cores} core(s)\n  notebooks: {mode}\n  project copy: {root} "
          f"(planbook imported from its src/ snapshot)")

    def go(**kw):
        return pipeline.run(resolve(params.period, root), progress=progress, **kw)

    cold, t_cold = timed("cold run (parallel)", go)
    unchanged, t_unchanged = timed("unchanged re-run", go)
    env = {**os.environ, "PLANBOOK_ROOT": str(root)}
    cmd = [sys.executable, "-m", "planbook.cli", "run", "--period", params.period]
    _, t_cli = timed("unchanged re-run, whole CLI process",
                     lambda: subprocess.run(cmd, cwd=root, env=env, check=True,
                                            capture_output=True))

    # The department file read by the fewest chapters shows the cache's selectivity best.
    registry = load_registry(params.data_path(root))
    readers: dict[Path, list[str]] = {}
    for c in chapters:
        for p in data_inputs(c, params.data_path(root), registry):
            if p.parent.name == "observations":
                readers.setdefault(p, []).append(c.key)
    changed_file = min(readers, key=lambda p: (len(readers[p]), p.name))
    with open(changed_file, "a", encoding="utf-8") as fh:
        fh.write("\n")  # a blank line: new bytes, same rows
    changed, t_changed = timed(f"re-run after {changed_file.name} changed", go)

    sequential, t_seq = timed("sequential cold run (jobs=1)", lambda: go(force=True, jobs=1))
    _, t_par = timed("parallel cold run again (warm disk)", lambda: go(force=True))

    expected = [c.key for c in chapters if c.key in readers[changed_file]]
    par = min(t_cold, t_par)
    print("\nratios")
    print(f"  unchanged / cold             {t_unchanged / t_cold:6.1%}   target <= 5%   "
          f"{'ok' if t_unchanged <= 0.05 * t_cold else 'MISSED'}")
    print(f"  unchanged CLI / cold         {t_cli / t_cold:6.1%}   (includes Python start-up)")
    print(f"  one-file change / cold       {t_changed / t_cold:6.1%}   re-ran "
          f"{len(changed.executed)} of {len(chapters)}: {', '.join(changed.executed)}")
    print(f"    chapters reading {changed_file.name}: {', '.join(expected)}   "
          f"{'ok' if changed.executed == expected else 'MISSED'}")
    print(f"  parallel / sequential cold   {par / t_seq:6.2f}x   target <= 0.65x on 2 cores   "
          f"{'ok' if par <= 0.65 * t_seq else 'MISSED'}  ({cores} core(s))")
    if unchanged.executed:
        print(f"  NOTE: the unchanged re-run executed {', '.join(unchanged.executed)}: "
              "an input changed between the runs")
    return 0 if cold.executed and sequential.executed else 1


if __name__ == "__main__":
    raise SystemExit(main())
