"""Checking the rows of a figures file: every rule a vectorised mask, every problem located."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planbook.errors import PeriodError, Problem
from planbook.plan.frequency import PERIOD_KINDS, accepted_text
from planbook.plan.periods import BASELINE_YEAR, LAST_YEAR, parse_period
from planbook.plan.registry import Indicator, Registry
from planbook.store.limits import outside, range_text
from planbook.store.sheets import EXTRA_KEYS, HEADER_MAP, Table, header_key, read_csv, read_xlsx
from planbook.store.submission import (
    DEFAULT_STATUS,
    FIELD_ORDER,
    FIELDS,
    MAX_CELL,
    MAX_PROBLEMS,
    MAX_ROWS_LISTED,
    MAX_TEXT,
    MILESTONE_VALUES,
    MILESTONE_WORDS,
    REQUIRED,
    SHOWN_CHARS,
    STATUS_WORDS,
    FileResult,
)
from planbook.store.units import convertible_units, is_non_negative, is_share, unit_factor

# ---------------------------------------------------------------- validation


def _clean(s: pd.Series, func: Callable[[str], str]) -> pd.Series:
    """Apply a text normalisation once per distinct value (columns repeat a lot)."""
    codes, uniques = pd.factorize(s, sort=False)
    cleaned = np.array([func(u) for u in np.asarray(uniques, dtype=object).tolist()] + [""],
                       dtype=object)
    return pd.Series(cleaned[codes], index=s.index, dtype=object)


def _empty_mask(s: pd.Series) -> np.ndarray:
    """s == "" computed on the distinct values (object comparisons are slow)."""
    codes, uniques = pd.factorize(s, sort=False)
    empty = np.array([u == "" for u in np.asarray(uniques, dtype=object).tolist()] + [True])
    return empty[codes]


def normalise(text: str) -> str:
    # NFKC: full-width digits, letters, ％ ， and the ideographic space become ASCII
    return unicodedata.normalize("NFKC", text).strip() if not text.isascii() else text.strip()


def _canonical_period(text: str) -> str:
    t = text.upper().replace(" ", "")
    if re.fullmatch(r"\d{4}\.0", t):  # the year stored as an Excel number
        return t[:4]
    if m := re.fullmatch(r"(\d{4})年?", t):
        return m[1]
    if m := re.fullmatch(r"(\d{4})(?:-|/|年)(\d{1,2})月?", t):
        return f"{m[1]}-{int(m[2]):02d}"
    # Excel opening a CSV turns 2025-09 into a date and saves it back as 2025/9/1.
    if m := re.fullmatch(r"(\d{4})([-/])(\d{1,2})\2(?:0?1)", t):
        return f"{m[1]}-{int(m[3]):02d}"
    if m := re.fullmatch(r"(\d{4})(?:-|年)?(?:Q|第)([1-4])(?:季度)?", t):
        return f"{m[1]}-Q{m[2]}"
    return t


def period_verdict(text: str, today: date) -> tuple[str, str]:
    """(canonical code, verdict) with verdict one of ok, format, outside, future, empty."""
    if not text:
        return "", "empty"
    code = _canonical_period(text)
    try:
        period = parse_period(code)
    except PeriodError:
        return code, "format"
    if not BASELINE_YEAR <= period.year <= LAST_YEAR:
        return period.code, "outside"
    if period.end >= today:  # reportable from the day after it ends
        return period.code, "future"
    return period.code, "ok"


class _Checker:
    """Turns boolean masks over the file's rows into located Problems."""

    def __init__(self, frame: pd.DataFrame, columns: dict[str, list[str]], file: str,
                 tables: list[Table], positions: dict[str, list[int | None]]):
        self.frame = frame
        self.columns = columns  # field -> header as written, per table index
        self.tables = tables  # per table index, to name a cell as Excel does (G4)
        self.positions = positions  # field -> header position, per table index
        self.file = file
        self._found: list[tuple] = []
        self.count = 0  # every problem found, kept or not
        self.bad = np.zeros(len(frame), dtype=bool)

    @property
    def problems(self) -> list[Problem]:
        """The first MAX_PROBLEMS in reading order: sheet, row, then column."""
        found = sorted(self._found, key=lambda t: t[:3])[:MAX_PROBLEMS]
        return [p for *_, p in found]

    def add_once(self, mask: pd.Series, fld: str, message: str, expected: str,
                 value: str) -> None:
        """One problem for every row the mask hits (a rule about the file, not a cell)."""
        mask = mask.to_numpy(dtype=bool)
        self.bad |= mask
        sub = self.frame[mask]
        where = sub["_row"].astype(str)
        if sub["_sheet"].nunique(dropna=True) > 1:
            where = sub["_sheet"].astype(str) + "!" + where
        rows = "、".join(where.tolist()[:20]) + ("等" if len(where) > 20 else "")
        table, row = int(sub["_table"].iloc[0]), int(sub["_row"].iloc[0])
        self._found.append((table, row, FIELD_ORDER[fld], Problem(
            f"{message}：共 {int(mask.sum())} 行（第 {rows} 行）", file=self.file,
            sheet=sub["_sheet"].iloc[0], row=row, column=self.columns[fld][table],
            cell=self.cell(table, fld, row), value=value, expected=expected)))

    def cell(self, table: int, fld: str, row: int) -> str | None:
        return self.tables[table].cell(self.positions[fld][table], row)

    def add(self, mask: pd.Series, fld: str, message: str, expected: str | pd.Series) -> None:
        mask = mask.to_numpy(dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        self.count += int(mask.sum())
        # Frame rows are in reading order, so the first MAX_PROBLEMS of every check hold
        # the first MAX_PROBLEMS overall: the rest are counted, never built.
        first = np.flatnonzero(mask)[:MAX_PROBLEMS]
        sub = self.frame.iloc[first]
        exp = expected.iloc[first] if isinstance(expected, pd.Series) else None
        for k, (table, sheet, row, entry, seen) in enumerate(zip(
                sub["_table"], sub["_sheet"], sub["_row"], sub["indicator_id"],
                sub[f"{fld}_raw"], strict=True)):
            self._found.append((table, int(row), FIELD_ORDER[fld], Problem(
                message, file=self.file, sheet=sheet, row=int(row),
                column=self.columns[fld][table], cell=self.cell(table, fld, int(row)),
                entry=_clip(entry) or None, value=_clip(seen),
                expected=str(exp.iloc[k]) if exp is not None else expected)))


def _clip(text):
    """A cell as quoted in a problem: long text is cut, its length said."""
    if isinstance(text, str) and len(text) > SHOWN_CHARS:
        return f"{text[:SHOWN_CHARS]}…（共 {len(text):,} 字符）"
    return text


def validate_file(path: Path, content: bytes, registry: Registry, today: date,
                   result: FileResult) -> pd.DataFrame | None:
    """Read and check one file; returns the store rows if it is accepted (problems in result)."""
    name = path.name
    ext = path.suffix.lower()
    problems = result.problems
    if ext == ".csv":
        tables = read_csv(content, name, problems)
    elif ext in (".xlsx", ".xlsm"):
        tables = read_xlsx(content, name, problems, result.warnings)
    else:
        problems.append(Problem(f"不支持的文件类型：{ext or '（无扩展名）'}",
                                file=name, expected="Excel 工作簿 .xlsx 或 CSV 文件"))
        return None
    frames, columns, is_template = [], {f: [] for f in FIELDS}, False
    positions: dict[str, list[int | None]] = {f: [] for f in FIELDS}
    mapped_tables: list[Table] = []
    uncached = any(t.uncached for t in tables)
    for table in tables:
        mapped = _map_headers(table, name, problems, result.warnings)
        if mapped is None:
            continue
        is_template |= mapped.pop("_template", False)
        frame = pd.DataFrame({"_table": len(frames), "_sheet": table.sheet, "_row": table.rows})
        for fld, (zh, _) in FIELDS.items():
            pos = mapped.get(fld)
            raw = table.cells[pos].astype(object) if pos is not None else ""
            frame[f"{fld}_raw"] = raw
            columns[fld].append(table.headers[pos] if pos is not None else zh)
            positions[fld].append(pos)
        frames.append(frame)
        mapped_tables.append(table)
    if problems:
        return None
    frame = pd.concat(frames, ignore_index=True)
    filled = np.zeros(len(frame), dtype=bool)
    for fld in FIELDS:
        frame[fld] = _clean(frame[f"{fld}_raw"], normalise)
        frame[f"{fld}_empty"] = _empty_mask(frame[fld])
        filled |= ~frame[f"{fld}_empty"].to_numpy()
    frame = frame[filled]
    if is_template:
        # A template lists every indicator the department leads; blank ones are not reports.
        blank = frame["value_empty"] & frame["source_empty"] & frame["note_empty"]
        result.rows_skipped = int(blank.sum())
        frame = frame[~blank]
    frame = frame.reset_index(drop=True)
    result.rows_read = len(frame)
    if not len(frame):
        if is_template:  # an untouched template: nothing to report yet, nothing wrong
            result.empty_template = True
            return None
        problems.append(Problem("文件中没有数据行", file=name,
                                expected="至少一行填写了数值"))
        return None
    check = _Checker(frame, columns, name, mapped_tables, positions)
    accepted = _check_rows(frame, check, registry, today, uncached)
    problems.extend(check.problems)
    result.problems_beyond = check.count - len(check.problems)
    result.rows_with_problems = int(check.bad.sum())
    if problems:
        result.rows_refused = result.rows_read
        return None
    result.rows_accepted = result.rows_read
    # where each row came from, for the plausibility problems (dropped before storing)
    accepted["_sheet"] = frame["_sheet"].fillna("").to_numpy()
    accepted["_row"] = frame["_row"].to_numpy()
    accepted["_value_raw"] = frame["value_raw"].to_numpy()
    accepted["_note_typed"] = np.where(frame["note_empty"], "", frame["note"])
    accepted["_value_col"] = [columns["value"][t] for t in frame["_table"]]
    accepted["_value_pos"] = frame["_table"].map(dict(enumerate(positions["value"]))).to_numpy()
    return accepted


def _map_headers(table: Table, name: str, problems: list[Problem],
                 warnings: list[str]) -> dict | None:
    """Field -> column position; records missing and doubled columns as problems."""
    mapped: dict = {}
    seen_at: dict[str, str] = {}
    ok = True
    for pos, header in enumerate(table.headers):
        key = header_key(header)
        fld = HEADER_MAP.get(key)
        if fld is None:
            if key in EXTRA_KEYS:
                mapped["_template"] = True
            elif key and (table.cells[pos] != "").any():
                warnings.append(f"{name}{_sheet_text(table.sheet)}：忽略无法识别的列“{header}”")
            continue
        if fld in mapped:
            problems.append(Problem("重复的列", file=name,
                                    sheet=table.sheet, row=table.header_row, column=header,
                                    cell=table.cell(pos, table.header_row),
                                    expected=f"只保留一列“{seen_at[fld]}”"))
            ok = False
            continue
        mapped[fld], seen_at[fld] = pos, header
    for fld in REQUIRED:
        if fld not in mapped:
            zh, en = FIELDS[fld]
            problems.append(Problem("缺少必填列", file=name,
                                    sheet=table.sheet, row=table.header_row,
                                    column=zh,
                                    expected=f"表头含“{zh}”或“{en}”"))
            ok = False
    return mapped if ok else None


def _sheet_text(sheet: str | None) -> str:
    return f"（工作表 {sheet}）" if sheet else ""


def _check_rows(frame: pd.DataFrame, check: _Checker, registry: Registry,
                today: date, uncached: bool = False) -> pd.DataFrame:
    """Every row-level rule, each a vectorised mask; returns the would-be store rows."""
    inds = registry.indicators
    # The xlsx reader puts the formula text where a formula has no cached result.
    no_formula = pd.Series(False, index=frame.index)
    formula = {f: frame[f].str.startswith("=") if uncached else no_formula for f in FIELDS}
    for fld in FIELDS:
        check.add(formula[fld], fld, "公式没有计算结果",
                  "在 Excel 中打开、重新计算并保存，或直接填写数值")

    def live(fld: str) -> pd.Series:
        return ~formula[fld]

    # lengths: free text up to MAX_TEXT characters, any other cell up to MAX_CELL
    for fld in FIELDS:
        limit = MAX_TEXT.get(fld, MAX_CELL)
        too_long = frame[fld].str.len() > limit
        if too_long.any():
            check.add(too_long, fld, f"内容过长：超过 {limit} 个字符",
                      f"不超过 {limit} 个字符")

    # required fields
    for fld in REQUIRED:
        zh = FIELDS[fld][0]
        check.add(frame[f"{fld}_empty"] & live(fld), fld, "必填项为空",
                  f"填写{zh}")

    # indicator
    ids = _clean(frame["indicator_id"], str.lower)
    frame["indicator_id"] = ids
    known = ids.isin(list(inds))
    check.add(~known & ~frame["indicator_id_empty"] & live("indicator_id"), "indicator_id",
              "未知指标编号",
              "模板或 `planbook plan --json` 中的指标编号")
    ind_of = {i: inds[i] for i in ids[known].unique()}
    attr = _indicator_columns(ids, ind_of)
    check.add(attr["derived"], "indicator_id",
              "该指标由村级台账计算，不接受直接报送",
              "报送村级台账（data/villages/），不要单独填报此项")

    # period
    verdicts = {p: period_verdict(p, today) for p in frame["period"].unique()}
    codes = frame["period"].map({p: v[0] for p, v in verdicts.items()})
    # categorical: the masks below compare codes, not 100,000 strings
    verdict = frame["period"].map({p: v[1] for p, v in verdicts.items()}).astype("category")
    live_p = live("period")
    check.add((verdict == "format") & live_p, "period", "期间格式不对",
              "年 2025、季度 2025-Q3 或月份 2025-09")
    check.add((verdict == "outside") & live_p, "period", "期间不在方案期内",
              f"{BASELINE_YEAR}（基期）至 {LAST_YEAR} 年")
    future = (verdict == "future") & live_p
    if future.any():  # one problem per file: the rule, the periods and the rows it hit
        periods = sorted(set(codes[future]), key=lambda c: parse_period(c).end)
        check.add_once(future, "period", "期间尚未结束",
                       f"报送日 {today.isoformat()} 前已结束的期间（"
                       + "；".join(f"{c} 自 {reportable_from(c)} 起可报送" for c in periods)
                       + "）", value="、".join(periods))

    # period against frequency: a quarterly indicator takes quarters (and years), not months
    parsed = verdict.isin(["ok", "future"]) & known & live_p
    if parsed.any():
        length = codes[parsed].map({c: parse_period(c).kind for c in codes[parsed].unique()})
        takes = ids[parsed].map({i: PERIOD_KINDS[ind.frequency] for i, ind in ind_of.items()})
        wrong = pd.Series(False, index=frame.index)
        wrong[parsed] = [k not in t for k, t in zip(length, takes, strict=True)]
        if wrong.any():
            check.add(wrong, "period", "期间与指标的报送频率不符",
                      ids.map({i: accepted_text(ind) for i, ind in ind_of.items()}))

    # unit
    stated = frame["unit"]
    reg_unit = attr["unit"]
    factor = pd.Series(np.where(known, 1.0, np.nan), index=frame.index)
    other = known & ~frame["unit_empty"] & (stated != reg_unit)
    if other.any():  # NaN: not convertible
        pairs = pd.DataFrame({"stated": stated[other], "registry": reg_unit[other]})
        factor[other] = [unit_factor(a, b) or np.nan
                         for a, b in zip(pairs["stated"], pairs["registry"], strict=True)]
    bad_unit = known & factor.isna() & live("unit")
    if bad_unit.any():
        expected = _clean(reg_unit, lambda u: "、".join(convertible_units(u)) if u else
                          "留空（节点任务无单位）")
        check.add(bad_unit, "unit", "单位与登记不一致且无法换算", expected)
    effective_unit = stated.where(~frame["unit_empty"], reg_unit)

    # value: plain numbers parse in C; only the rest get the text clean-ups
    number = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    pct = pd.Series(False, index=frame.index)
    typed = number.isna() & ~frame["value_empty"]
    milestone = attr["milestone"]
    if typed.any():
        value = frame["value"][typed]
        value = value.where(~milestone[typed], value.replace(MILESTONE_WORDS))
        pct[typed] = value.str.endswith("%")
        value = value.where(~pct[typed], value.str.removesuffix("%").str.rstrip())
        grouped = value.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
        value = value.where(~grouped, value.str.replace(",", "", regex=False))
        number[typed] = pd.to_numeric(value, errors="coerce").astype(float)
    not_number = ~np.isfinite(number) & ~frame["value_empty"] & live("value")
    check.add(not_number, "value", "数值不是数字",
              "一个数字，如 1376、1,376 或 55%（仅限单位为 % 的指标）")
    check.add(pct & ~not_number & (effective_unit != "%") & live("value"), "value",
              "百分号只能用于单位为 % 的指标",
              _clean(reg_unit, lambda u: f"以 {u or '1/0.5/0'} 计的数字"))
    converted = number * factor.fillna(1.0)
    valid_number = np.isfinite(converted) & known
    check.add(valid_number & attr["share"] & ((converted < 0) | (converted > 100)), "value",
              "比率超出 0–100", "0 至 100 之间（单位 %）")
    check.add(valid_number & attr["non_negative"] & (converted < 0), "value",
              "计数或实物量不能为负", "≥ 0")
    check.add(valid_number & milestone & ~converted.isin(list(MILESTONE_VALUES)), "value",
              "节点任务只能填 1、0.5 或 0",
              "1 已完成 / 0.5 推进中 / 0 未启动")
    shown = valid_number & ~milestone & ~(attr["share"] & ((converted < 0) | (converted > 100)))
    shown &= ~(attr["non_negative"] & (converted < 0))
    _check_limits(check, ids, converted, shown, ind_of)

    # status
    status = _clean(frame["status"], lambda s: s.lower())
    status = status.map({**STATUS_WORDS, "": DEFAULT_STATUS})  # NaN: unknown
    check.add(status.isna() & live("status"), "status", "数据状态无效",
              "正式统计、部门报送或示例数据（留空即部门报送）")

    # the same indicator and period twice in this file
    key_ok = known & (verdict.isin(["ok", "future", "outside"]))
    dup = pd.DataFrame({"i": ids, "p": codes}).duplicated(keep=False) & key_ok
    if dup.any():
        where = frame["_row"].astype(str)
        if frame["_sheet"].nunique(dropna=True) > 1:
            where = frame["_sheet"].astype(str) + "!" + where
        key = (ids + "\x1f" + codes)[dup]
        # A message lists MAX_ROWS_LISTED rows of its group and counts the rest: listing
        # all of them in every row's message grows with the square of the duplicates.
        nth = key.groupby(key).cumcount()
        size = key.map(key.value_counts())
        listed = where[dup][nth < MAX_ROWS_LISTED].groupby(key[nth < MAX_ROWS_LISTED]).agg(
            "、".join)
        more = (size - MAX_ROWS_LISTED).clip(lower=0)
        text = key.map(listed) + more.map(lambda m: f" 等，共 {m + MAX_ROWS_LISTED} 行" if m
                                          else "")
        expected = text.map(lambda r: f"每个指标每个期间一行（重复在第 {r} 行）")
        check.add(dup, "indicator_id", "同一指标同一期间重复",
                  expected.reindex(frame.index))

    note = frame["note"]
    changed = factor.notna() & (factor != 1.0)
    if changed.any():  # say what was typed, so the stored figure can be checked against it
        typed_as = "换算自 " + frame["value"][changed] + stated[changed]
        note = note.copy()
        note[changed] = typed_as.where(frame["note_empty"][changed],
                                       note[changed] + "；" + typed_as)
    return pd.DataFrame({
        "indicator_id": ids, "period": codes, "value": converted, "unit": reg_unit,
        "status": status, "source": frame["source"], "note": note,
        "submitted_by": attr["lead"],
    })


def _check_limits(check: _Checker, ids: pd.Series, value: pd.Series, rows: pd.Series,
                  inds: dict[str, Indicator]) -> None:
    """Values beyond what their kind of quantity can be (store.limits), one indicator at a
    time so the bounds are applied to whole columns."""
    for ind_id, ind in inds.items():
        mine = (rows & (ids == ind_id)).to_numpy(dtype=bool)
        if ind.kind == "milestone" or not mine.any():
            continue
        hit = np.zeros(len(value), dtype=bool)
        hit[mine] = outside(ind, value.to_numpy()[mine])
        if hit.any():
            check.add(pd.Series(hit, index=value.index), "value", "数值超出该类指标的合理范围",
                      range_text(ind))


def reportable_from(code: str) -> str:
    """The first day a period's figures can be sent: the day after it ends (ISO)."""
    end = parse_period(code).end
    return date.fromordinal(end.toordinal() + 1).isoformat()


def _indicator_columns(ids: pd.Series, inds: dict[str, Indicator]) -> dict[str, pd.Series]:
    """Per-row registry attributes, looked up once per distinct indicator."""
    def col(func, default):
        return ids.map({i: func(ind) for i, ind in inds.items()}).astype(object).fillna(default)

    return {
        "unit": col(lambda i: i.unit, "").astype(object),
        "milestone": col(lambda i: i.kind == "milestone", False).astype(bool),
        "lead": col(lambda i: i.lead, "").astype(object),
        "derived": col(lambda i: bool(i.villages), False).astype(bool),
        "share": col(is_share, False).astype(bool),
        "non_negative": col(is_non_negative, False).astype(bool),
    }


