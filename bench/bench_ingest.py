"""Benchmark: ingest a generated 100,000-row CSV and report rows/s and peak memory.

Targets (issue 3): at least 50,000 rows/s and under 500 MiB. Not a test; run it with
    .venv/bin/python bench/bench_ingest.py [--rows 100000]

Peak memory is measured two ways and both are printed:
- tracemalloc peak: Python-level allocations during ingest() (pandas/numpy buffers included,
  since numpy reports its allocations to tracemalloc); it slows the run, so timing comes
  from a separate untraced run;
- ru_maxrss: the process's resident-set high-water mark after the timed runs, minus the
  value before them (the interpreter, pandas and openpyxl imports are not counted).

Speed is the best of --repeat runs (each into an empty store), as timeit does: other work on
the machine only ever adds time. CPU time is printed too.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

import yaml

from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store.intake import ingest

TARGET_ROWS_PER_S = 50_000
TARGET_MIB = 500
UNITS = ("亿元", "%", "家", "万亩", "个", "人")


def periods() -> list[str]:
    """Every year, quarter and month from 2022 to 2025: 68 periods, all ended by 2026."""
    out = []
    for y in range(2022, 2026):
        out += [str(y), *(f"{y}-Q{q}" for q in range(1, 5)),
                *(f"{y}-{m:02d}" for m in range(1, 13))]
    return out


def make_registry(data: Path, n_indicators: int, n_departments: int = 20) -> list[dict]:
    plan = data / "plan"
    plan.mkdir(parents=True)
    depts = [{"name": f"部门{d:02d}", "type": "government", "code": f"dept{d:02d}"}
             for d in range(n_departments)]
    inds, sentences = [], []
    for i in range(n_indicators):
        unit = UNITS[i % len(UNITS)]
        quote = f"指标{i}达到{100 + i}{unit}"
        sentences.append(quote + "。")
        inds.append({"id": f"ind_{i:05d}", "path": "二", "name_zh": f"指标{i}",
                     "name_en": f"indicator {i}", "unit": unit,
                     "kind": "share" if unit == "%" else "level", "direction": "increase",
                     "targets": [{"value": 100 + i if unit != "%" else 90, "year": 2027,
                                  "op": ">="}],
                     "lead": depts[i % n_departments]["name"], "quote": [quote]})
    (plan / "plan.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    for name, entries in (("departments", depts), ("indicators", inds), ("tasks", [{
            "id": "二", "chapter": "二", "title": "总体目标",
            "departments": [depts[0]["name"]], "indicators": [i["id"] for i in inds]}])):
        (plan / f"{name}.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True),
                                           encoding="utf-8")
    return inds


def make_csv(path: Path, inds: list[dict], rows: int) -> None:
    """Realistic text: Chinese headers, thousands separators, some percent signs."""
    pairs = itertools.islice(itertools.product(inds, periods()), rows)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("指标编号,期间,数值,单位,数据状态,数据来源,备注\n")
        for n, (ind, period) in enumerate(pairs):
            unit = ind["unit"]
            if unit == "%":
                value = f"{n % 100}.5%"
            else:
                value = f'"{1000 + n:,}"' if n % 3 == 0 else str(n % 997 + 0.25)
            fh.write(f"{ind['id']},{period},{value},{unit},provisional,部门统计,\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs; the best one counts")
    args = ap.parse_args()
    n_ind = -(-args.rows // len(periods()))
    today = date(2026, 6, 30)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        first = tmp / "run0" / "data"
        inds = make_registry(first, n_ind)
        csv_path = tmp / "bench.csv"
        make_csv(csv_path, inds, args.rows)
        print(f"{args.rows:,} rows, {n_ind:,} indicators, "
              f"CSV {csv_path.stat().st_size / 2**20:.1f} MiB")
        # The registry is loaded outside the timing: the generated one has ~1,500 indicators
        # (to give 100,000 distinct indicator-period rows), 20x the real plan's, and its
        # pure-Python YAML parse would dominate. Its load time is printed separately.
        start = time.perf_counter()
        registry = load_registry(first)
        load_seconds = time.perf_counter() - start
        folders = [first]
        for n in range(1, args.repeat + 1):  # an empty store for every run
            folders.append(tmp / f"run{n}" / "data")
            shutil.copytree(first / "plan", folders[-1] / "plan")

        walls, cpus = [], []
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for data in folders[:args.repeat]:
            wall, cpu = time.perf_counter(), time.process_time()
            report = ingest([csv_path], data, today=today, check=False, registry=registry)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            assert report.ok and report.rows_accepted == args.rows, report.summary_lines()[:5]
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is KiB on Linux, bytes on macOS
        rss_unit = 1 if sys.platform == "darwin" else 1024
        rss_delta = (rss_after - rss_before) * rss_unit / 2**20

        tracemalloc.start()  # slows the run, so it is a separate, untimed one
        ingest([csv_path], folders[-1], today=today, check=False, registry=registry)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mib = peak / 2**20

    best = min(walls)
    rate = args.rows / best
    print(f"ingest (read, validate, archive, store), best of {len(walls)}: {best:.2f} s = "
          f"{rate:,.0f} rows/s ({rate / TARGET_ROWS_PER_S:.1f}x the "
          f"{TARGET_ROWS_PER_S:,} rows/s target)")
    print(f"  wall times {', '.join(f'{w:.2f}' for w in walls)} s; CPU times "
          f"{', '.join(f'{c:.2f}' for c in cpus)} s (CPU time is steadier on a busy machine)")
    print(f"  registry load, not included: {load_seconds:.2f} s for {n_ind:,} indicators")
    print(f"peak memory, tracemalloc: {peak_mib:.0f} MiB "
          f"({peak_mib / TARGET_MIB:.2f} of the {TARGET_MIB} MiB limit)")
    print(f"peak memory, ru_maxrss growth over the timed runs: {rss_delta:.0f} MiB "
          f"({rss_delta / TARGET_MIB:.2f} of the {TARGET_MIB} MiB limit); "
          f"process high-water mark {rss_after * rss_unit / 2**20:.0f} MiB")
    ok = rate >= TARGET_ROWS_PER_S and max(peak_mib, rss_delta) < TARGET_MIB
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    assert parse_period("2025-Q3")  # the generated periods must be ones intake accepts
    raise SystemExit(main())
