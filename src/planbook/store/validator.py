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
from collections.abc import Callable
from itertools import islice
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
    return _checked(df, row_no, rel, problems, registry, repeats=True)


def _checked(df: pd.DataFrame, row_no: np.ndarray, rel: str, problems: StoreProblems,
             registry=None, *, repeats: bool) -> pd.DataFrame:
    """`df` (text) typed, each bad field a problem; `repeats`: also keys that repeat."""
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
    if repeats and not bad_rev.any():
        dup = df[["indicator_id", "period", "revision"]].duplicated(keep=False)
        flag(dup, "指标、期间和修订版次重复", "revision")
    df["value"] = value
    df["revision"] = revision.fillna(0).astype("int64")
    return df


CHUNK = 20_000  # records parsed at a time by stream(): its memory is bounded by this


def stream(path: Path, rel: str, problems: StoreProblems, registry=None,
           keep: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.DataFrame | None:
    """read(), in bounded memory: the file is parsed CHUNK records at a time, every record
    checked as read() checks it, only the rows `keep` selects (all without it) kept, and
    repeated texts (ids, periods, sources, hashes) shared, not copied per row. A file with
    any problem is read again by read(), so its problems are listed exactly as read() lists
    them (the error path need not be small)."""
    def whole() -> pd.DataFrame | None:
        df = read(path, rel, problems, registry)
        return df if df is None or keep is None else df[keep(df).to_numpy()].reset_index(
            drop=True)

    try:
        fh = open(path, "rb")
    except OSError:
        return whole()
    with fh:
        if fh.read(3) != b"\xef\xbb\xbf":
            fh.seek(0)
        reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8", newline=""))
        try:
            frames = _stream_frames(reader, registry, keep)
        except (UnicodeDecodeError, csv.Error, OSError):
            frames = None
    return whole() if frames is None else _joined(frames)


def _stream_frames(reader, registry, keep) -> list[pd.DataFrame] | None:
    """The checked, kept frames of each chunk, or None at the first problem."""
    header = next(reader, None)
    if not header or not any(header) or list(header) != list(dict.fromkeys(header)) \
            or sorted(header) != sorted(COLUMNS):
        return None
    scratch = StoreProblems()
    shared: dict[str, dict[str, str]] = {c: {} for c in COLUMNS}
    frames, keys, number = [], [], 2
    while True:
        batch = list(islice(reader, CHUNK))
        rows = [rec for rec in batch if len(rec) == len(header)]
        if len(rows) != len(batch) and any(rec and rec != [""] for rec in batch
                                           if len(rec) != len(header)):
            return None
        df = pd.DataFrame(rows, columns=header, dtype=object)[list(COLUMNS)]
        # row numbers only name problems, and any problem sends the file back to read()
        raw = df[["indicator_id", "period", "revision"]]
        keys.append(pd.util.hash_pandas_object(raw, index=False).to_numpy())
        df = _checked(df, np.arange(number, number + len(df)), "", scratch, registry,
                      repeats=False)
        if scratch.count:
            return None
        number += len(batch)
        if keep is not None:
            df = df[keep(df).to_numpy()]
        if len(df) or not frames:  # (an empty file still gives its typed, empty frame)
            frames.append(_shared(df, shared))
        if not batch:
            break
    hashes = np.concatenate(keys)
    if len(np.unique(hashes)) != len(hashes):  # a repeated key (or a hash collision)
        return None
    return frames


def _shared(df: pd.DataFrame, shared: dict[str, dict[str, str]]) -> pd.DataFrame:
    """`df` with each text column's values one object per distinct text across the file: a
    million rows repeat a few hundred ids, periods and sources."""
    out = {}
    for c in df.columns:
        if df[c].dtype != object:
            out[c] = df[c].reset_index(drop=True)
            continue
        codes, uniques = pd.factorize(df[c])
        seen = shared[c]
        one = np.array([seen.setdefault(u, u) for u in uniques] + [""], dtype=object)
        out[c] = pd.Series(one[codes], dtype=object)  # (object, as read() gives)
    return pd.DataFrame(out, columns=df.columns)


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
