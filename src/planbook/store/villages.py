"""Village records (data/villages/villages.csv) and the plan shares computed from them.

Several plan targets are shares of the 229 administrative villages. They are computed here
from per-village, per-year records, never typed in by hand. Columns:
    village_id 村编号, name 村名, town 所属乡镇（街道）, year 年份,
    total_income 集体经济年收入（万元）, operating_income 集体经济经营性收入（万元）,
    waste_sorting 垃圾分类, sewage 污水处理设施覆盖, sanitary_toilet 无害化户厕全覆盖,
    gongfu_station 共富驿站 (flags 1/0), status 数据状态, source 数据来源,
    received_at 接收时间 (the data cut-off of a report applies to it), and, for records that
    came through intake (planbook.store.ledger), revision 修订版次 and file_sha256.

A report reads the records received by its cut-off, for years up to its own, the latest
revision of each village and year, and real before sample: a year with any real record uses
no sample record.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planbook import paths
from planbook.errors import EnvironmentFault, StoreDamaged
from planbook.hashing import ByContent, sha256_bytes, sha256_file
from planbook.store.schema import COLUMNS

FILE = "villages.csv"
VILLAGE_COUNT = 229
TOWNS = ("新安江街道", "洋溪街道", "更楼街道", "莲花镇", "乾潭镇", "梅城镇", "杨村桥镇", "下涯镇",
         "大洋镇", "三都镇", "寿昌镇", "航头镇", "大慈岩镇", "大同镇", "李家镇", "钦堂乡")
FLAGS = ("waste_sorting", "sewage", "sanitary_toilet", "gongfu_station")
FLAG_ZH = {"waste_sorting": "垃圾分类", "sewage": "污水处理设施",
           "sanitary_toilet": "无害化户厕", "gongfu_station": "共富驿站"}

# Short column labels for figures and tables.
SHORT_ZH = {"operating_income_ge_50": "经营性收入≥50万", "operating_income_ge_100": "经营性收入≥100万",
            "total_80_and_operating_50": "年收入≥80万且经营性≥50万", **FLAG_ZH}
# measure key (the `villages:` field of an indicator) -> (Chinese description, predicate)
MEASURES: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "operating_income_ge_50": ("集体经济经营性收入50万元以上",
                               lambda d: d["operating_income"] >= 50),
    "operating_income_ge_100": ("集体经济经营性收入100万元以上",
                                lambda d: d["operating_income"] >= 100),
    "total_80_and_operating_50": ("集体经济年收入80万元以上且经营性收入50万元以上",
                                  lambda d: (d["total_income"] >= 80)
                                  & (d["operating_income"] >= 50)),
    **{f: (FLAG_ZH[f], (lambda d, f=f: d[f] == 1)) for f in FLAGS},
}


def village_file(data: Path) -> Path:
    return paths.villages_dir(data) / FILE


RECORD_COLUMNS = ("village_id", "name", "town", "year", "total_income", "operating_income",
                  *FLAGS, "status", "source", "received_at")


def read_records(data: Path) -> pd.DataFrame:
    """Every record of the file, all revisions. A damaged file (not UTF-8, a column missing, a
    row cut short or shifted, text where a number belongs) is a StoreDamaged naming file, row
    and column (exit 2)."""
    path = village_file(data)
    if not path.is_file():
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    where = f"{path.parent.name}/{path.name}"
    try:
        raw = path.read_bytes()
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StoreDamaged.not_utf8(where, raw, exc, hint=_FIX) from None
    except OSError as exc:
        raise EnvironmentFault.from_os(exc, path, doing="读取") from None
    # a build reads the records for each derived figure, its hashes and its sample notice
    return _RECORDS.get((where, sha256_bytes(raw)), lambda: _parse(raw, where)).copy()


_RECORDS = ByContent()


def _parse(raw: bytes, where: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(io.BytesIO(raw), encoding="utf-8", dtype={"village_id": str},
                         keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        at = (f"第 {found[2]} 行有 {found[3]} 个字段，表头只有 {found[1]} 个（错位或多出逗号）"
              if found else f"不是有效的 CSV（{exc}）")
        raise StoreDamaged(f"村级记录文件 {where} 已损坏：{at}", hint=_FIX) from None
    missing = [c for c in ("village_id", "town", "year", "status", *FLAGS)
               if c not in df.columns]
    if missing:
        raise StoreDamaged(f"村级记录文件 {where} 已损坏：第 1 行（表头）缺少 "
                           f"{'、'.join(missing)} 列", hint=_FIX)
    for col, whole in (("year", True), ("total_income", False), ("operating_income", False),
                       *((f, True) for f in FLAGS)):
        if col not in df.columns:
            continue
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() | (num % 1 != 0 if whole else False)
        if bad.any():
            n = int(bad.to_numpy().argmax())
            raise StoreDamaged(
                f"村级记录文件 {where} 已损坏：第 {n + 2} 行“{col}”列应为"
                f"{'整数' if whole else '数'}，实为 {df[col].iat[n]!r}（该行被截短或错位）",
                hint=_FIX)
        df[col] = num.astype(int) if whole else num.astype(float)
    return df


_FIX = "村级记录只由 planbook ingest 写入：从 git 或备份恢复 data/villages/villages.csv"


def load_villages(data: Path | None = None, *, as_of: str | None = None,
                  year: int | None = None) -> pd.DataFrame:
    """The records a report uses: received by `as_of`, years up to `year`, latest revision
    per village and year, and a year with any real record without its sample records."""
    df = read_records(data or paths.data_dir())
    if not len(df):
        return df
    if as_of and "received_at" in df.columns:
        got = df["received_at"].astype(str)
        df = df[(got == "") | (got.str[:10] <= as_of)]
    if year is not None:
        df = df[df["year"] <= year]
    real_years = set(df.loc[df["status"] != "sample", "year"])
    df = df[(df["status"] != "sample") | ~df["year"].isin(real_years)]
    if "revision" in df.columns:
        rev = pd.to_numeric(df["revision"], errors="coerce").fillna(1)
        df = df.assign(_rev=rev).sort_values(["year", "village_id", "_rev"], kind="stable")
        df = df.drop_duplicates(["year", "village_id"], keep="last").drop(columns="_rev")
        df = df.sort_index()
    return df.reset_index(drop=True)


def records_sha256(records: pd.DataFrame) -> str:
    """sha256 of records as CSV text: what a report used, independent of later records."""
    return sha256_bytes(records.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def uses_sample(data: Path, *, as_of: str | None = None, year: int | None = None) -> bool:
    df = load_villages(data, as_of=as_of, year=year)
    return bool((df["status"] == "sample").any()) if len(df) else False


def share(records: pd.DataFrame, measure: str) -> float:
    """Percent of villages in `records` meeting the measure."""
    _, predicate = MEASURES[measure]
    return 100.0 * float(predicate(records).sum()) / len(records)


def share_by_town(records: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Per town: village count, villages meeting the measure, and the share in percent."""
    _, predicate = MEASURES[measure]
    met = predicate(records)
    out = records.assign(met=met).groupby("town", sort=False).agg(
        villages=("village_id", "count"), met=("met", "sum"))
    out["share"] = 100.0 * out["met"] / out["villages"]
    order = [t for t in TOWNS if t in out.index] + [t for t in out.index if t not in TOWNS]
    return out.loc[order].reset_index()


def id_ranges(ids) -> str:
    """V001–V120、V122: village ids as runs of consecutive numbers (ids keep their prefix)."""
    import re

    parsed = []
    for v in sorted(set(map(str, ids))):
        m = re.fullmatch(r"(\D*)(\d+)", v)
        parsed.append((m[1], int(m[2]), len(m[2])) if m else (v, None, 0))
    out: list[str] = []
    run: list = []

    def flush():
        if run:
            (p, a, w), (_, b, _) = run[0], run[-1]
            out.append(f"{p}{a:0{w}d}" if a == b else f"{p}{a:0{w}d}–{p}{b:0{w}d}")
            run.clear()

    for item in parsed:
        if item[1] is None:
            flush()
            out.append(item[0])
        elif run and item[0] == run[-1][0] and item[1] == run[-1][1] + 1:
            run.append(item)
        else:
            flush()
            run.append(item)
    flush()
    return "、".join(out)


def rows_spec(records: pd.DataFrame) -> str:
    """Which village records a number was computed from: year and village ids, e.g.
    `year=2025 village_id=V001–V229 (229)`; `trace` prints it, the data package keeps it."""
    years = sorted({int(y) for y in records["year"]})
    return (f"year={','.join(map(str, years))} village_id={id_ranges(records['village_id'])} "
            f"({len(records)})")


def derived_observations(registry, data: Path | None = None, *, as_of: str | None = None,
                         year: int | None = None) -> pd.DataFrame:
    """Store-shaped rows for every indicator computed from village records, one per year.

    These rows supersede any typed-in value for the same indicator and year: the records are
    the source. `file` points at the village file so the audit trail reaches the records;
    `file_sha256` is the hash of the year's records used (see records_sha256).
    """
    data = data or paths.data_dir()
    vfile = village_file(data)
    measures = tuple((i.id, i.villages, i.unit, i.lead) for i in registry.indicators.values()
                     if i.villages)
    # several per build (its cut-off count and sample notice with and without the cut-off)
    key = (vfile.relative_to(data).as_posix(), sha256_file(vfile) if vfile.is_file() else None,
           measures, as_of, year)
    return _DERIVED.get(key, lambda: _derived(registry, data, as_of, year)).copy()


_DERIVED = ByContent(4)


def _derived(registry, data: Path, as_of: str | None, year: int | None) -> pd.DataFrame:
    df = load_villages(data, as_of=as_of, year=year)
    rows = []
    if len(df):
        digests = {y: records_sha256(g) for y, g in df.groupby("year", sort=True)}
        for ind in registry.indicators.values():
            if not ind.villages:
                continue
            for year, group in df.groupby("year", sort=True):
                digest = digests[year]
                status = "sample" if (group["status"] == "sample").any() else (
                    "official" if (group["status"] == "official").all() else "provisional")
                rows.append({
                    "indicator_id": ind.id, "period": str(year),
                    "value": round(share(group, ind.villages), 4), "unit": ind.unit,
                    "status": status,
                    "source": f"由村级台账计算（{len(group)}个行政村，{MEASURES[ind.villages][0]}）",
                    "submitted_by": ind.lead, "received_at": "", "revision": 1,
                    "note": "", "file_sha256": digest,
                    "file": village_file(data).relative_to(data).as_posix(),
                    "rows": rows_spec(group)})
    return pd.DataFrame(rows, columns=[*COLUMNS, "file", "rows"])
