"""The one check of the observation store's files, run by every reader (observations.
read_store_file, so load_observations, load_all, status, templates, intake, sample, build
and the notebooks' Report all go through it).

A store file is refused, every problem at once, each naming file, row (header = row 1) and
column, when it is not UTF-8 text, is empty, lacks or adds a column, has a row with fewer or
more fields than the header, or holds a value that is not a finite number (inf and nan too),
a revision that is not a whole number ≥ 1, a malformed period, an unknown status, an empty
indicator id, or the same indicator, period and revision twice. `check(…, registry)` also
refuses indicator ids the registry does not know. The error is a StoreDamaged: exit 2, in
Chinese, no traceback (issue 24: a damaged store is a fault of the machine or of a hand
edit, not of a department's submission).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from planbook.errors import EnvironmentFault, PeriodError, Problem, StoreDamaged
from planbook.plan.periods import parse_period
from planbook.store.schema import COLUMNS, STATUSES

MAX_PROBLEMS = 200  # listed per store; the message gives the full count
HINT = "存储文件只由 planbook ingest 写入：从 git 或备份恢复该文件，或重新报送该部门的数据"


class StoreProblems:
    """Problems found in the store, capped, with the full count."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.count = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(problem)

    def raise_if_any(self) -> None:
        if self.count:
            more = f"（列出前 {len(self.items)} 处）" if self.count > len(self.items) else ""
            raise StoreDamaged(f"数据存储（observations）已损坏：{self.count} 处问题{more}，"
                               "数据未改动", problems=self.items, hint=HINT)


def _line_of(content: bytes, offset: int) -> int:
    return content.count(b"\n", 0, offset) + 1


def read(path: Path, rel: str, problems: StoreProblems, registry=None) -> pd.DataFrame | None:
    """One store file as a typed frame, or None when it cannot be read at all; every problem
    found goes to `problems`."""
    try:
        content = path.read_bytes()
    except OSError as exc:  # no permission, a disk error: the machine's fault, exit 2
        raise EnvironmentFault.from_os(exc, path, doing="读取") from None
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(Problem("不是 UTF-8 文本（可能被另存为 GBK）", file=rel,
                             row=_line_of(content, exc.start), expected="UTF-8 CSV"))
        return None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        problems.add(Problem(f"不是有效的 CSV：{exc}", file=rel))
        return None
    if not records or not any(records[0]):
        problems.add(Problem("空文件：没有表头行", file=rel, row=1,
                             expected=",".join(COLUMNS)))
        return None
    header, body = records[0], records[1:]
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra or len(set(header)) != len(header):
        for c in missing:
            problems.add(Problem("缺少此列", file=rel, row=1, column=c,
                                 expected=",".join(COLUMNS)))
        for c in extra:
            problems.add(Problem("多出此列", file=rel, row=1, column=c or "（空）",
                                 expected=",".join(COLUMNS)))
        if not missing and not extra:
            problems.add(Problem("有一列出现两次", file=rel, row=1))
        return None
    width = len(header)
    rows, numbers = [], []
    for n, rec in enumerate(body, start=2):
        if len(rec) == width:
            rows.append(rec)
            numbers.append(n)
        elif rec and rec != [""]:  # (a blank line is skipped, as CSV readers do)
            what = "少于" if len(rec) < width else "多于"
            problems.add(Problem(f"该行字段数{what}表头（{len(rec)} 个，应为 {width} 个）："
                                 "被截短或错位", file=rel, row=n))
    df = pd.DataFrame(rows, columns=header, dtype=object)[list(COLUMNS)]
    row_no = np.asarray(numbers, dtype=np.int64)

    def flag(mask, message: str, column: str, expected: str | None = None) -> None:
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            problems.add(Problem(message, file=rel, row=int(row_no[i]), column=column,
                                 value=df[column].iat[i], expected=expected))

    value = pd.to_numeric(df["value"], errors="coerce").astype(float)
    flag(~np.isfinite(value.to_numpy()), "数值不是有限的数", "value",
         "如 546.8 的数（不能为空、inf 或 nan）")
    revision = pd.to_numeric(df["revision"], errors="coerce")
    bad_rev = revision.isna() | (revision < 1) | (revision % 1 != 0)
    flag(bad_rev, "修订版次不是 ≥ 1 的整数", "revision")
    flag(df["indicator_id"] == "", "指标编号为空", "indicator_id")
    if registry is not None:
        known = df["indicator_id"].isin(list(registry.indicators)) | (df["indicator_id"] == "")
        flag(~known, "未知指标", "indicator_id", "data/plan/indicators.yaml 中的编号")
    periods_ok = {}
    for p in df["period"].unique():
        try:
            parse_period(p)
            periods_ok[p] = True
        except PeriodError:
            periods_ok[p] = False
    flag(~df["period"].map(periods_ok).astype(bool), "不是期间", "period",
         "2025、2025-Q3 或 2025-09")
    flag(~df["status"].isin(STATUSES), "未知的数据状态", "status", " / ".join(STATUSES))
    if not bad_rev.any():
        dup = df[["indicator_id", "period", "revision"]].duplicated(keep=False)
        flag(dup, "指标、期间和修订版次重复", "revision")
    df["value"] = value
    df["revision"] = revision.fillna(0).astype("int64")
    return df
