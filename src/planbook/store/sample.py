"""Illustrative sample data: deterministic, plausible, varied, and marked `sample` row by row.

Nothing here is an official statistic. Trajectories are drawn from a fixed seed so that the
2025 report shows every status of the vocabulary: achieved, on track, behind, deteriorating,
missing years, overdue milestones. Baselines the plan itself states are the only `official`
rows, with the plan sentence as their source.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planbook import paths
from planbook.plan.periods import elapsed_share, parse_period, year
from planbook.plan.registry import COUNT_UNITS, Indicator, Registry, load_registry
from planbook.store import commit, observations, sample_progress, villages

SEED = 20230406  # the date the plan was issued
YEARS = (2022, 2023, 2024, 2025)
MONTHS_2026 = tuple(f"2026-{m:02d}" for m in range(1, 11))
PLAN_ISSUED = "2023-04-06T09:00:00+08:00"  # the plan's baselines are known from its issue


def received_for(period: str) -> str:
    """When a sample figure "arrived": fixed (same bytes on every run) and inside the data
    cut-off of the period's report (as_of): a year on 20 January after it, a month on the 5th
    of the next month, so each report's cut-off takes exactly the data it is meant to."""
    p = parse_period(period)
    nxt = date.fromordinal(p.end.toordinal() + 1)
    day = 20 if p.kind != "month" else 5
    return f"{nxt.year}-{nxt.month:02d}-{day:02d}T09:00:00+08:00"

SAMPLE_SOURCE = "示例数据（planbook sample 生成，非官方统计）"
PLAN_SOURCE = "《实施方案》（建政函〔2023〕37号）原文"
SAMPLE_FILE = "sample/sample-observations.csv"

# Scenario per indicator, cycled in registry order: how far along the path to target it is.
# Progress factor f: the share of the required path covered by 2025, relative to schedule.
SCENARIOS = ("on_track", "achieved", "behind", "on_track", "limited", "deterioration",
             "on_track", "behind", "missing_years", "achieved", "on_track", "behind",
             "limited", "on_track", "no_data", "achieved", "behind", "on_track")
FACTOR = {"achieved": 1.35, "on_track": 1.05, "behind": 0.78, "limited": 0.35,
          "deterioration": -0.4, "missing_years": 1.0, "no_data": 1.0}


def _rng(key: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{SEED}:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _round(ind: Indicator, value: float) -> float:
    if ind.unit in COUNT_UNITS:
        return float(round(value))
    magnitude = abs(value)
    digits = 0 if magnitude >= 1000 else 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return round(float(value), digits)


def _start_value(ind: Indicator, rng: np.random.Generator) -> tuple[float, bool]:
    """The 2022 value: the plan's baseline when stated (official), else a plausible one."""
    if ind.baseline is not None and ind.baseline.year == 2022:
        return ind.baseline.value, True
    target = ind.final_target.value or 0.0
    if ind.kind == "ceiling":
        return target * rng.uniform(1.08, 1.25), False
    if ind.kind == "share":
        gap = rng.uniform(0.04, 0.25) if target >= 99 else rng.uniform(0.1, 0.3)
        return max(0.0, min(100.0, target * (1 - gap))), False
    return target * rng.uniform(0.55, 0.85), False


def _level_path(ind: Indicator, scenario: str, rng: np.random.Generator) -> dict[str, float]:
    start, _ = _start_value(ind, rng)
    tgt = ind.final_target
    f = FACTOR[scenario]
    values = {}
    for y in YEARS[1:]:
        progress = (y - 2022) / (tgt.year - 2022)
        if scenario == "deterioration":
            progress = -0.15 * (y - 2022) / 3
        elif scenario == "achieved":
            progress = min(1.08, progress * f * 1.4)
        else:
            progress *= f
        if start > 0 and tgt.value and tgt.value > 0:
            v = start * (tgt.value / start) ** progress  # compound path, as the method assumes
        else:
            v = start + (tgt.value - start) * progress
        v *= 1 + rng.normal(0, 0.006)
        if ind.kind == "share":
            v = min(100.0, max(0.0, v))
        values[str(y)] = v
    return values


def _cumulative_path(ind: Indicator, scenario: str, rng: np.random.Generator) -> dict[str, float]:
    target = ind.final_target.value
    f = FACTOR[scenario]
    values, last = {}, 0.0
    for y in YEARS[1:]:
        share = elapsed_share(year(y))
        if scenario == "achieved":
            v = target * min(1.05, share * 1.75)
        elif scenario == "deterioration":
            v = target * share * 0.9 if y < 2025 else last * 0.93  # a downward revision
        else:
            v = target * share * f * (1 + rng.normal(0, 0.02))
        values[str(y)] = max(0.0, v)
        last = values[str(y)]
    return values


def _annual_path(ind: Indicator, scenario: str, rng: np.random.Generator) -> dict[str, float]:
    target = ind.final_target.value
    met = {"achieved": (1, 1, 1), "on_track": (1, 0, 1), "behind": (1, 1, 0),
           "limited": (0, 1, 0), "deterioration": (1, 0, 0)}.get(scenario, (1, 1, 1))
    values = {}
    for y, ok in zip(YEARS[1:], met, strict=True):
        factor = rng.uniform(1.01, 1.12) if ok else rng.uniform(0.7, 0.95)
        if ind.direction == "decrease":
            factor = 2 - factor
        values[str(y)] = target * factor
    return values


def _line_path(ind: Indicator, scenario: str, rng: np.random.Generator) -> dict[str, float]:
    """A bottom line held every year (确保, 稳定在): at or just above the line, missed in the
    years the scenario says (as `_annual_path`); a share never above 100."""
    line = ind.final_target.value or 0.0
    met = {"achieved": (1, 1, 1), "on_track": (1, 1, 1), "behind": (1, 1, 0),
           "limited": (0, 1, 0), "deterioration": (1, 0, 0)}.get(scenario, (1, 1, 1))
    values = {}
    for y, ok in zip(YEARS[1:], met, strict=True):
        if ind.kind == "share":
            room = 100.0 - line
            v = (line + room * rng.uniform(0.2, 1.0) if ok
                 else line - max(0.3, line * rng.uniform(0.003, 0.02)))
            values[str(y)] = min(100.0, v) if room > 0 or not ok else 100.0
        else:
            values[str(y)] = line * (rng.uniform(1.005, 1.05) if ok else rng.uniform(0.9, 0.99))
    return values


def _milestone_path(ind: Indicator, n: int) -> dict[str, float]:
    due = ind.final_target.year
    state = n % 4
    if due <= 2025:
        return {"2023": 0.0, "2024": 0.5, "2025": 0.5}  # still in progress at its due date
    return {"2023": 0.0, "2024": 0.5 if state in (1, 2) else 0.0,
            "2025": [0.5, 1.0, 0.5, 0.0][state]}


def _monthly(ind: Indicator, yearly: dict[str, float], rng: np.random.Generator
             ) -> dict[str, float]:
    """2026 months for indicators reported monthly: year-to-date for annual, state otherwise."""
    if "2025" not in yearly:
        return {}
    last = yearly["2025"]
    out = {}
    if ind.kind == "annual":
        pace = rng.uniform(0.8, 1.15)
        for m, code in enumerate(MONTHS_2026, start=1):
            out[code] = ind.final_target.value * pace * m / 12
    elif ind.kind == "cumulative":
        prev = yearly.get("2024", last * 0.7)
        per_month = max(0.0, last - prev) / 12 * rng.uniform(0.7, 1.3)
        for m, code in enumerate(MONTHS_2026, start=1):
            out[code] = last + per_month * m
    else:
        prev = yearly.get("2024", last)
        per_month = (last - prev) / 12
        for m, code in enumerate(MONTHS_2026, start=1):
            v = last + per_month * m * rng.uniform(0.8, 1.2)
            out[code] = min(100.0, v) if ind.kind == "share" else v
    return out


def generate_observations(registry: Registry) -> pd.DataFrame:
    """Store-shaped sample rows for every indicator not computed from village records."""
    rows = []
    for n, ind in enumerate(registry.indicators.values()):
        if ind.villages:
            continue
        scenario = SCENARIOS[n % len(SCENARIOS)]
        rng = _rng(ind.id)
        if ind.baseline is not None:
            rows.append(_row(ind, str(ind.baseline.year), ind.baseline.value, "official",
                             PLAN_SOURCE + "：" + ind.quotes[0]))
        if scenario == "no_data" and ind.kind != "milestone":
            continue
        if ind.kind == "milestone":
            yearly = _milestone_path(ind, n)
        elif ind.kind == "cumulative":
            yearly = _cumulative_path(ind, scenario, rng)
        elif ind.judged_by == "bottom_line":
            yearly = _line_path(ind, scenario, rng)
        elif ind.kind == "annual":
            yearly = _annual_path(ind, scenario, rng)
        else:
            yearly = _level_path(ind, scenario, rng)
            if ind.baseline is None:
                start, _ = _start_value(ind, _rng(ind.id))
                yearly = {"2022": start, **yearly}
        if scenario == "missing_years":
            yearly.pop("2023", None)
            yearly.pop("2024", None)
        for period, value in yearly.items():
            if ind.baseline is not None and period == str(ind.baseline.year):
                continue
            rows.append(_row(ind, period, value, "sample", SAMPLE_SOURCE))
        if ind.frequency == "monthly" and ind.kind != "milestone":
            months = _monthly(ind, yearly, rng)
            if n % 4 == 0:
                months.pop(MONTHS_2026[-1], None)  # a late department: nothing for October yet
            for period, value in months.items():
                rows.append(_row(ind, period, value, "sample", SAMPLE_SOURCE))
    return pd.DataFrame(rows, columns=list(observations.COLUMNS))


def _row(ind: Indicator, period: str, value: float, status: str, source: str) -> dict:
    value = value if ind.kind == "milestone" or status == "official" else _round(ind, value)
    return {"indicator_id": ind.id, "period": period, "value": value, "unit": ind.unit,
            "status": status, "source": source, "submitted_by": ind.lead,
            "received_at": PLAN_ISSUED if status == "official" else received_for(period),
            "revision": 1,
            "note": "示例数据" if status == "sample" else "方案基期值", "file_sha256": ""}


def generate_villages() -> pd.DataFrame:
    """229 plainly fictional villages across Jiande's 16 towns, 2022–2025."""
    rng = _rng("villages")
    weights = rng.uniform(0.6, 1.4, len(villages.TOWNS))
    counts = np.floor(weights / weights.sum() * villages.VILLAGE_COUNT).astype(int)
    counts[: villages.VILLAGE_COUNT - counts.sum()] += 1
    rows = []
    number = 0
    for town, count in zip(villages.TOWNS, counts, strict=True):
        prefix = town[:2]
        for k in range(count):
            number += 1
            base_operating = float(np.exp(rng.normal(np.log(62), 0.55)))
            growth = rng.normal(0.09, 0.07)
            base_other = float(rng.uniform(10, 60))
            gongfu_year = int(rng.choice([2022, 2023, 2024, 2025, 2026, 2027],
                                         p=[0.3, 0.2, 0.2, 0.15, 0.1, 0.05]))
            sewage_year = int(rng.choice([2022, 2023, 2024, 2026], p=[0.9, 0.04, 0.03, 0.03]))
            for y in YEARS:
                operating = base_operating * (1 + growth) ** (y - 2022)
                rows.append({
                    "village_id": f"V{number:03d}", "name": f"{prefix}示例{k + 1}村",
                    "town": town, "year": y,
                    "total_income": round(operating + base_other * (1.03 ** (y - 2022)), 1),
                    "operating_income": round(operating, 1),
                    "waste_sorting": int(y >= 2023 or rng.random() < 0.9),
                    "sewage": int(y >= sewage_year), "sanitary_toilet": 1,
                    "gongfu_station": int(y >= gongfu_year),
                    "status": "sample", "source": SAMPLE_SOURCE,
                    "received_at": received_for(str(y))})
    return pd.DataFrame(rows)


def _plan_baseline(df: pd.DataFrame) -> pd.Series:
    """The plan's stated baselines the generator writes (official, quoted from the plan)."""
    return (df["note"] == "方案基期值") & df["source"].astype(str).str.startswith(PLAN_SOURCE) \
        & (df["status"] == "official")


def _read_text_csv(path: Path) -> pd.DataFrame:
    """A CSV as text cells, so that rows written back keep their exact bytes."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _csv_text(df: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(df.to_csv(index=False, lineterminator="\n")), dtype=str,
                       keep_default_na=False)


def write_sample(data: Path | None = None,
                 then: Callable[[Path], str] | None = None) -> list[str]:
    """Regenerate the sample: its source file, the store's sample rows, the village records.

    Never deletes or overwrites a real row: rows that are not sample data (real submissions,
    village records) are kept as they are, and no sample row is generated where a real one
    exists (an indicator and period with a real value; a year with real village records).
    What was kept is listed. `then(data)`: a step run on the new rows before they are
    committed (the CLI's sample evaluation, graded from them); its line goes before the
    notice. Holds the store lock, as ingest does; the whole change is one commit.
    """
    data = data or paths.data_dir()
    with observations.store_lock(data), commit.staged_copy(data) as stage:
        lines = _write_sample(stage)
        if then is not None:
            lines.insert(len(lines) - 1, then(stage))
    return [line.replace(str(stage), str(data)) for line in lines]


def _write_sample(data: Path) -> list[str]:
    registry = load_registry(data)
    rows = generate_observations(registry)
    src = data / SAMPLE_FILE
    src.parent.mkdir(parents=True, exist_ok=True)
    observations.write_store_file(src, rows)  # the "submission" the sample rows come from
    digest = observations.sha256_file(src)
    rows["file_sha256"] = digest

    existing = observations.load_observations(data)
    keep = existing[(existing["status"] != "sample") & ~_plan_baseline(existing)]
    real_keys = set(zip(keep["indicator_id"], keep["period"], strict=True))
    clash = [k in real_keys for k in zip(rows["indicator_id"], rows["period"], strict=True)]
    new = rows[[not c for c in clash]]
    folder = paths.observations_dir(data)
    folder.mkdir(parents=True, exist_ok=True)
    for f in observations.store_files(data):
        f.unlink()
    code = {name: d.code for name, d in registry.departments.items()}
    lead_code = {i.id: code[i.lead] for i in registry.indicators.values()}
    both = pd.concat([keep.drop(columns="file"), new], ignore_index=True)
    both["_code"] = both["indicator_id"].map(lead_code)
    for c, group in both.groupby("_code", sort=True):
        observations.write_store_file(folder / f"{c}.csv", group.drop(columns="_code"))
    observations.write_datapackage(data)

    vil = generate_villages()
    vfile = villages.village_file(data)
    vfile.parent.mkdir(parents=True, exist_ok=True)
    real_vil = pd.DataFrame()
    if vfile.is_file():
        old = _read_text_csv(vfile)
        real_vil = old[old["status"] != "sample"] if "status" in old.columns else old
    real_years = set(real_vil["year"].astype(int)) if len(real_vil) else set()
    vil = vil[~vil["year"].isin(real_years)]
    if len(real_vil):
        merged = pd.concat([_csv_text(vil), real_vil], ignore_index=True).fillna("")
        text = merged.to_csv(index=False, lineterminator="\n")
    else:
        text = vil.to_csv(index=False, lineterminator="\n")
    vfile.write_text(text, encoding="utf-8")  # in the staged copy (commit.staged_copy)
    progress = sample_progress.write_progress_sample(data, registry, rows)
    n_sample = int((new["status"] == "sample").sum())
    n_official = int((new["status"] == "official").sum())
    lines = [f"示例观测值 {n_sample} 行、方案基期值 {n_official} 行 → {folder}",
             f"村级台账示例 {len(vil)} 行（{vil['village_id'].nunique()} 个示例村）→ {vfile}"]
    if len(keep):
        lines.append(f"保留真实观测值 {len(keep)} 行（未改动）；其中 {sum(clash)} 个指标期间已有"
                     "真实数据，不再生成示例数据")
    if len(real_vil):
        years = "、".join(str(y) for y in sorted(real_years))
        lines.append(f"保留真实村级台账 {len(real_vil)} 行（{years}年，未改动），这些年份不生成示例村")
    lines += progress
    lines.append("提示：示例数据仅用于演示，非官方统计；使用示例数据的报告每页均有标注。"
                 "`planbook sample --remove` 可删除全部示例数据。")
    return lines


def remove_sample(data: Path | None = None) -> list[str]:
    """Remove every sample row from the store and the village records; nothing else changes.

    The plan's stated baselines (official, quoted from the plan) are not sample data and stay.
    Returns what was removed and kept, file by file.
    """
    data = data or paths.data_dir()
    with observations.store_lock(data), commit.staged_copy(data) as stage:
        lines = _remove_sample(stage)
    return [line.replace(str(stage), str(data)) for line in lines]


def _remove_sample(data: Path) -> list[str]:
    lines = []
    removed = 0
    for f in observations.store_files(data):
        df = observations.read_store_file(f)
        sample = df["status"] == "sample"
        if not sample.any():
            continue
        observations.write_store_file(f, df[~sample])
        removed += int(sample.sum())
        lines.append(f"{f.relative_to(data).as_posix()}：删除示例数据 {int(sample.sum())} 行，"
                     f"保留 {int((~sample).sum())} 行")
    if lines:
        observations.write_datapackage(data)
    vfile = villages.village_file(data)
    if vfile.is_file():
        df = _read_text_csv(vfile)
        sample = df["status"] == "sample"
        if sample.any():
            vfile.write_text(df[~sample].to_csv(index=False, lineterminator="\n"),
                             encoding="utf-8")
            removed += int(sample.sum())
            lines.append(f"{vfile.relative_to(data).as_posix()}：删除示例村级记录 "
                         f"{int(sample.sum())} 行，保留 {int((~sample).sum())} 行")
    src = data / SAMPLE_FILE
    if src.is_file():
        src.unlink()
        lines.append(f"{SAMPLE_FILE}：示例数据来源文件已删除")
    progress = sample_progress.remove_progress_sample(data)
    lines += progress
    if not removed and not progress:
        return ["存储中没有示例数据，未作改动。"]
    return [*lines, f"共删除示例数据 {removed} 行；真实数据和方案基期值未改动。"]
