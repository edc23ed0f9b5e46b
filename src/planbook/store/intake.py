"""Reading department files (.xlsx, .csv), validating every row, storing the accepted ones.

A submission file has the columns `indicator_id 指标编号, period 期间, value 数值, unit 单位,
status 数据状态, source 数据来源, note 备注` (English or Chinese headers; the read-only
columns of a department template, 指标名称/目标值/上期值, are ignored).

Rules, in the words the template's 说明 sheet repeats to departments:

- Each file is all or nothing. A file with any problem is not stored; every problem in it is
  listed at once with file, sheet, row (as the spreadsheet shows it, header = row 1),
  column (the header as written), the value seen and what was expected.
- Required: indicator_id, period, value. An empty status means `provisional` (a department
  figure until the statistics bureau publishes it); the template prefills it anyway.
- A period can be reported from the day after it ends: 2025-09 from 2025-10-01, 2025-Q3
  from 2025-10-01, 2025 from 2026-01-01. A month not yet over (today included) has no
  final figure, so a period whose end date is today or later is "later than today".
- Periods run from the 2022 baseline year to 2027, the plan's last year.
- A stated unit other than the registry's is accepted only when it converts exactly
  (万元↔亿元, 亩↔万亩, 头↔万头 …); the value is converted and the note records the original.
- Template rows a department left blank (value, source and note all empty) are skipped, not
  refused: a template lists every indicator a department leads, and not every one has a
  figure each period. Outside templates an empty value is refused.
- Indicators computed from village records (`villages:` in the registry) are refused: the
  report derives them from data/villages/, so a submitted figure would be silently unused.

Every file read as a submission (a regular .csv/.xlsx/.xlsm file within the size limit; not
in a dry run) is archived as data/submissions/<sha256>.<ext> with an outcome record
<sha256>.json listing each time it was received and what became of it. Both get the source
file's permissions at most (never wider), so a private file stays private. data/submissions/
is not in git (.gitignore): it holds the departments' original files, kept on the machine
that runs intake and backed up with it; the store rows name their file by sha256.

Limits (any input, however built, costs bounded memory, time and disk; README "When
something fails"): a file is refused before parsing when it is not a regular file, larger
than MAX_FILE_BYTES, or (xlsx) unzips to more than MAX_UNZIPPED_BYTES; blank rows are
skipped as they stream past, and more than MAX_ROWS filled rows are refused; 数据来源 and
备注 are limited to MAX_TEXT characters (other cells to MAX_CELL); a message lists at most
MAX_ROWS_LISTED rows and says how many more; at most MAX_PROBLEMS problems are kept per file
(the count says how many there were). Concurrent ingests queue on the store lock
(observations.store_lock) held from reading the store through the last rename.

Resending is harmless (idempotent intake):
- a file already accepted (same sha256) is recognised and adds nothing;
- a row equal to the stored latest revision (value, unit, status, source, note) adds no
  revision; only changed values become revisions, and the report lists them (old → new);
- a template nobody filled in (no values at all) is skipped with a note, not refused.

Plausibility (planbook.store.plausibility): a row that looks like a slip (×10 jump, a fraction
on a % indicator, a falling cumulative total, a physically impossible value) is stored only
when confirmed, by `--confirm` or by a 备注 explaining it; otherwise the file is refused with
the flag as its problem. The submission date is the clock's, or `--received YYYY-MM-DD` for
back-filling; the period rule ("period not ended") is judged on that date, once per file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from planbook import paths
from planbook.errors import IntakeError, PeriodError, Problem, UsageError
from planbook.files import atomic_write_bytes
from planbook.plan.periods import BASELINE_YEAR, LAST_YEAR, parse_period
from planbook.plan.registry import Indicator, Registry, load_registry
from planbook.store import plausibility
from planbook.store.observations import (
    COLUMNS,
    STATUS_ZH,
    STATUSES,
    append_rows,
    format_value,
    format_values,
    latest,
    load_observations,
    next_revisions,
    sha256_bytes,
    store_lock,
)

# ---------------------------------------------------------------- the file format (contract)

# canonical field -> (Chinese header, English header); the Chinese one is what templates write
FIELDS: dict[str, tuple[str, str]] = {
    "indicator_id": ("指标编号", "indicator_id"),
    "period": ("期间", "period"),
    "value": ("数值", "value"),
    "unit": ("单位", "unit"),
    "status": ("数据状态", "status"),
    "source": ("数据来源", "source"),
    "note": ("备注", "note"),
}
REQUIRED = ("indicator_id", "period", "value")
_FIELD_ORDER = {f: n for n, f in enumerate(FIELDS)}
# Read-only columns a department template carries; intake ignores them.
TEMPLATE_EXTRAS: dict[str, tuple[str, str]] = {
    "name": ("指标名称", "name"),
    "target": ("目标值", "target"),
    "last_value": ("上期值", "last_value"),
}
_ALIASES = {"计量单位": "unit", "指标id": "indicator_id", "数据状态码": "status"}
_HEADER_SCAN_ROWS = 10  # a title row or two above the header is tolerated

# Limits on what one submitted file may cost (a department template is some 20 KB).
MAX_FILE_BYTES = 20 * 2**20  # 20 MiB on disk
MAX_UNZIPPED_BYTES = 50 * 2**20  # 50 MiB unzipped (.xlsx): a zip bomb is refused unread
MAX_ROWS = 200_000  # filled rows; blank rows do not count and are skipped as they stream
MAX_TEXT = {"source": 200, "note": 1000}  # characters of the free-text fields
MAX_CELL = 100  # characters of any other cell
MAX_ROWS_LISTED = 10  # rows one message lists ("… and N more")
MAX_PROBLEMS = 1000  # problems kept per file, in reading order (all are counted)
_SHOWN_CHARS = 60  # of a value quoted in a problem
SUPPORTED = (".csv", ".xlsx", ".xlsm")

STATUS_WORDS = {
    **{s: s for s in STATUSES},
    **{label: code for code, label in STATUS_ZH.items()},
    "正式": "official", "快报": "provisional", "初步": "provisional", "示例": "sample",
}
DEFAULT_STATUS = "provisional"

MILESTONE_VALUES = {1.0: "已完成", 0.5: "推进中", 0.0: "未启动"}
_MILESTONE_WORDS = {"已完成": "1", "完成": "1", "推进中": "0.5", "进行中": "0.5", "未启动": "0"}

# ---------------------------------------------------------------- units

# unit -> (quantity family, size in the family's base unit); exact fractions so that
# 1.5 万亩 becomes exactly 15000 亩.
_COUNT_BASES = ("个", "家", "人", "名", "条", "座", "幢", "户", "人次", "所", "处", "辆", "套",
                "张", "台", "项", "次", "头", "只", "株", "棵", "间", "批", "支", "场", "艘",
                "栋", "片", "村", "种", "件", "床", "位")
_UNITS: dict[str, tuple[str, Fraction]] = {}
for _base in (*_COUNT_BASES, "元"):
    for _prefix, _size in (("", 1), ("万", 10**4), ("亿", 10**8)):
        _UNITS[_prefix + _base] = (_base, Fraction(_size))
_UNITS.update({"千元": ("元", Fraction(1000)), "百万元": ("元", Fraction(10**6))})
_UNITS.update({
    "平方米": ("area", Fraction(1)), "万平方米": ("area", Fraction(10**4)),
    "平方公里": ("area", Fraction(10**6)), "公顷": ("area", Fraction(10**4)),
    "亩": ("area", Fraction(10**4, 15)), "万亩": ("area", Fraction(10**8, 15)),
    "米": ("length", Fraction(1)), "公里": ("length", Fraction(1000)),
    "千米": ("length", Fraction(1000)), "km": ("length", Fraction(1000)),
    "克": ("mass", Fraction(1)), "公斤": ("mass", Fraction(1000)),
    "千克": ("mass", Fraction(1000)), "斤": ("mass", Fraction(500)),
    "万斤": ("mass", Fraction(5 * 10**6)), "亿斤": ("mass", Fraction(5 * 10**10)),
    "吨": ("mass", Fraction(10**6)), "万吨": ("mass", Fraction(10**10)),
    "千瓦": ("power", Fraction(1)), "万千瓦": ("power", Fraction(10**4)),
    "兆瓦": ("power", Fraction(1000)),
})
# Families whose amounts cannot be below zero (money and percentages can: losses, declines).
_NON_NEGATIVE_FAMILIES = frozenset((*_COUNT_BASES, "area", "length", "mass", "power"))


def unit_factor(stated: str, registry_unit: str) -> float | None:
    """Multiplier taking a value in `stated` to `registry_unit`; None if not convertible."""
    if stated == registry_unit:
        return 1.0
    a, b = _UNITS.get(stated), _UNITS.get(registry_unit)
    if a is None or b is None or a[0] != b[0]:
        return None
    return float(a[1] / b[1])


def convertible_units(registry_unit: str) -> list[str]:
    """Units a department may state instead of the registry's (the registry's first)."""
    family = _UNITS.get(registry_unit, (None,))[0]
    others = [u for u, (f, _) in _UNITS.items() if f == family and u != registry_unit]
    return [registry_unit, *others] if family else [registry_unit]


def is_non_negative(ind: Indicator) -> bool:
    """Counts and physical quantities (个, 家, 人, 亩, 公里 …) cannot be negative."""
    return _UNITS.get(ind.unit, ("",))[0] in _NON_NEGATIVE_FAMILIES


def is_share(ind: Indicator) -> bool:
    return ind.kind == "share"


# ---------------------------------------------------------------- the report


@dataclass
class FileResult:
    """What became of one submitted file."""

    path: Path
    sha256: str | None = None
    received_at: str = ""
    rows_read: int = 0
    rows_accepted: int = 0
    rows_refused: int = 0
    rows_with_problems: int = 0
    rows_skipped: int = 0  # template rows left blank
    rows_new: int = 0  # (indicator, period) not stored before
    rows_revised: int = 0  # a changed value: a new revision
    rows_unchanged: int = 0  # equal to the stored latest revision: no revision added
    changes: list[str] = field(default_factory=list)  # "gdp 2024：980 → 987.3"
    confirmed: list[str] = field(default_factory=list)  # plausibility flags confirmed
    duplicate_of: str | None = None  # received_at of the earlier accepted copy (same sha256)
    empty_template: bool = False  # a template with no value filled in
    problems: list[Problem] = field(default_factory=list)  # at most MAX_PROBLEMS of them
    problems_beyond: int = 0  # problems found but not kept (beyond MAX_PROBLEMS)
    warnings: list[str] = field(default_factory=list)
    stored_in: list[Path] = field(default_factory=list)
    archived: Path | None = None
    record: Path | None = None
    mode: int = 0o644  # the source file's permission bits; the archive is never wider

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.problems_beyond

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def outcome(self) -> str:
        if not self.accepted:
            return "refused"
        if self.duplicate_of:
            return "duplicate"
        return "empty" if self.empty_template else "accepted"


@dataclass
class IngestReport:
    files: list[FileResult]
    dry_run: bool = False
    data: Path | None = None

    @property
    def ok(self) -> bool:
        return all(f.accepted for f in self.files)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)

    @property
    def rows_refused(self) -> int:
        return sum(f.rows_refused for f in self.files)

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]

    def summary_lines(self, max_problems: int = 50) -> list[str]:
        """Per file: accepted or refused, the row count identity and the problems (Chinese)."""
        lines = []
        for f in self.files:
            counts = (f"读取 {f.rows_read} 行 = 接受 {f.rows_accepted} 行 + "
                      f"拒绝 {f.rows_refused} 行")
            skipped = f"；模板中未填写的 {f.rows_skipped} 行已跳过" if f.rows_skipped else ""
            if f.duplicate_of:
                lines.append(f"[已接收过] {f.path.name}：与 {f.duplicate_of} 已接受的文件完全相同"
                             f"（sha256 {f.sha256[:12]}…），未新增任何数据")
            elif f.empty_template:
                lines.append(f"[跳过] {f.path.name}：模板未填写任何数值（{f.rows_skipped} 行均为空），"
                             "未入库")
            elif f.accepted:
                where = ""
                if f.stored_in:
                    where = "；存入 " + "、".join(_show(p, self.data) for p in f.stored_in)
                elif self.dry_run:
                    where = "；试运行，未存储"
                kinds = (f"（新增 {f.rows_new} 行、修订 {f.rows_revised} 行、"
                         f"与已存相同 {f.rows_unchanged} 行未新增版次）"
                         if f.rows_new or f.rows_revised or f.rows_unchanged else "")
                lines.append(f"[接受] {f.path.name}：{counts}{kinds}{skipped}{where}")
                lines += [f"  修订：{c}" for c in f.changes[:max_problems]]
                if len(f.changes) > max_problems:
                    lines.append(f"  …… 另有 {len(f.changes) - max_problems} 项修订")
                lines += [f"  已确认：{c}" for c in f.confirmed[:max_problems]]
            else:
                bad_rows = f"{f.rows_with_problems} 行有问题，" if f.rows_with_problems else ""
                lines.append(f"[拒绝] {f.path.name}：{counts}（{bad_rows}"
                             f"共 {f.problem_count} 个问题；整份文件未入库）{skipped}")
                for p in f.problems[:max_problems]:
                    lines.append(f"  - {p}")
                if f.problem_count > max_problems:
                    rest = f.problem_count - max_problems
                    kept = min(len(f.problems), MAX_PROBLEMS)
                    where = (f"，前 {kept} 个见 {_show(f.record, self.data)}" if f.record
                             else "")
                    lines.append(f"  …… 另有 {rest} 个问题{where}")
            lines += [f"  注意：{w}" for w in f.warnings]
        if len(self.files) > 1:
            refused = sum(not f.accepted for f in self.files)
            lines.append(f"合计 {len(self.files)} 个文件（接受 {len(self.files) - refused}，"
                         f"拒绝 {refused}）：读取 {self.rows_read} 行 = 接受 {self.rows_accepted} 行"
                         f" + 拒绝 {self.rows_refused} 行")
        lines.append("(rows read = rows accepted + rows refused)")
        if self.dry_run:
            lines.append("试运行（--dry-run）：只做校验，未存储、未归档任何文件。")
        return lines

    def raise_for_refused(self) -> None:
        if not self.ok:
            raise SubmissionRefused(self)


class SubmissionRefused(IntakeError):
    """At least one file was refused; prints the whole report (accepted files too)."""

    def __init__(self, report: IngestReport):
        refused = sum(not f.accepted for f in report.files)
        super().__init__(f"{refused} 个文件被拒绝 / {refused} file(s) refused",
                         problems=report.problems,
                         hint="按所列位置改正后重新提交整份文件 (correct the cells listed and "
                              "submit the whole file again)")
        self.report = report

    def __str__(self) -> str:
        return "\n".join([self.message, *self.report.summary_lines(), f"  fix: {self.hint}"])


def _show(path: Path | None, data: Path | None) -> str:
    if path is None:
        return ""
    if data is not None:
        try:
            return path.relative_to(data.parent).as_posix()
        except ValueError:
            pass
    return str(path)


# ---------------------------------------------------------------- entry point


def received_stamp(received: date | None) -> str:
    """received_at of a submission: the stated day (Jiande's time zone), else the clock."""
    if received is not None:
        return f"{received.isoformat()}T00:00:00+08:00"
    return datetime.now().astimezone().isoformat(timespec="seconds")


def check_received(received: date | None) -> None:
    if received is not None and received > date.today():
        raise UsageError(f"--received {received.isoformat()} is in the future",
                         hint="state the day the file was actually received (today or earlier)")


def ingest(files: list[Path], data: Path, *, dry_run: bool = False, today: date | None = None,
           received: date | None = None, confirm: bool = False,
           progress: Callable[[str], None] | None = None, check: bool = True,
           registry: Registry | None = None) -> IngestReport:
    """Validate each file, store the accepted ones, archive every one (unless dry_run).

    Files are independent: a refused file does not stop the others being stored. With
    check=True (the default, what the CLI uses) a SubmissionRefused (an IntakeError, exit 1)
    carrying the report is raised after every file has been processed and archived;
    check=False returns the report for the caller to inspect (`report.ok`).
    `received`: the submission date (back-filling); it stamps received_at and is the day the
    period rule is judged on. `today` overrides only the latter (tests). `confirm`: store rows
    the plausibility checks flag.
    """
    registry = registry or load_registry(data)
    check_received(received)
    today = today or received or date.today()
    stamp = received_stamp(received)
    results = []
    # One writer at a time, from the first read of the store to the last rename: without it
    # two ingests both read revision n and one's rows are overwritten by the other's file.
    with contextlib.nullcontext() if dry_run else store_lock(data):
        for n, path in enumerate(files, 1):
            path = Path(path)
            if progress:
                progress(f"[{n}/{len(files)}] {path.name}")
            results.append(_ingest_one(path, data, registry, today, dry_run, stamp,
                                          confirm))
    report = IngestReport(files=results, dry_run=dry_run, data=data)
    if check:
        report.raise_for_refused()
    return report


def _ingest_one(path: Path, data: Path, registry: Registry, today: date,
                dry_run: bool, stamp: str, confirm: bool) -> FileResult:
    result = FileResult(path=path, received_at=stamp)
    content = _read_submission(path, result)
    if content is None:  # not read as a submission: nothing archived
        return result
    result.sha256 = sha256_bytes(content)
    result.duplicate_of = _accepted_before(data, result.sha256)
    planned = None
    if not result.duplicate_of:
        accepted = _validate_file(path, content, registry, today, result)
        if accepted is not None and len(accepted):
            store = load_observations(data)
            _check_plausible(registry, accepted, store, result, confirm)
            if result.accepted:
                planned = _plan(store, accepted, result)
    if not dry_run:
        result.archived = _archive_bytes(data, path, content, result.sha256, result.mode)
        if planned is not None and len(planned):
            result.stored_in = _store(data, registry, planned)
        result.record = _write_record(data, result)
    return result


def _accepted_before(data: Path, sha: str) -> str | None:
    """When a file with this sha256 was accepted before (its first acceptance), else None."""
    path = paths.archive_dir(data) / f"{sha}.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for r in record.get("receptions", []):
        if r.get("outcome") == "accepted":
            return str(r.get("received_at") or "earlier")
    return None


def _check_plausible(registry: Registry, rows: pd.DataFrame, store: pd.DataFrame,
                     result: FileResult, confirm: bool) -> None:
    """Flagged rows pass only when confirmed (--confirm or a 备注); else each is a problem."""
    flags = plausibility.check_rows(registry, rows, store)
    unconfirmed = 0
    for idx, found in flags.items():
        row = rows.loc[idx]
        explained = bool(row["_note_typed"])
        for f in found:
            text = f"{f.indicator_id} {f.period}：{f.message}"
            if confirm or explained:
                how = "备注：" + row["_note_typed"] if explained else "--confirm"
                result.confirmed.append(f"{text}（{how}）")
                continue
            unconfirmed += 1
            result.problems.append(Problem(
                f"数值需核实 / implausible value: {f.message}", file=result.path.name,
                sheet=row["_sheet"] or None, row=int(row["_row"]), column=row["_value_col"],
                entry=f.indicator_id, value=row["_value_raw"],
                expected="核实无误后在备注中说明原因，或以 --confirm 重新提交"))
    if unconfirmed:
        result.rows_with_problems = len({i for i in flags})
        result.rows_refused, result.rows_accepted = result.rows_read, 0


def _same(old: pd.DataFrame, new: pd.DataFrame) -> pd.Series:
    """Row-wise: is the new row what the stored latest revision already says?"""
    eq = format_values(old["value"]).to_numpy() == format_values(new["value"]).to_numpy()
    for c in ("unit", "status", "source", "note"):
        eq &= old[c].fillna("").astype(str).to_numpy() == new[c].fillna("").astype(str).to_numpy()
    return pd.Series(eq, index=new.index)


def _plan(store: pd.DataFrame, rows: pd.DataFrame, result: FileResult) -> pd.DataFrame:
    """The rows to store: new keys and changed values, each with its revision number."""
    rows = rows[[c for c in rows.columns if not c.startswith("_")]].copy()
    rows["received_at"] = result.received_at
    rows["file_sha256"] = result.sha256
    current = latest(store)
    keyed = rows.reset_index().merge(
        current[["indicator_id", "period", "value", "unit", "status", "source", "note"]],
        on=["indicator_id", "period"], how="left", suffixes=("", "_old"), indicator=True)
    keyed = keyed.set_index("index")
    stored = keyed["_merge"] == "both"
    old = keyed[[f"{c}_old" for c in ("value", "unit", "status", "source", "note")]]
    old.columns = ["value", "unit", "status", "source", "note"]
    same = stored & _same(old, keyed)
    revised = stored & ~same
    result.rows_new = int((~stored).sum())
    result.rows_revised = int(revised.sum())
    result.rows_unchanged = int(same.sum())
    for rec in keyed[revised].to_dict("records"):
        status = (f"（{STATUS_ZH.get(rec['status_old'], rec['status_old'])} → "
                  f"{STATUS_ZH.get(rec['status'], rec['status'])}）"
                  if rec["status_old"] != rec["status"] else "")
        result.changes.append(f"{rec['indicator_id']} {rec['period']}："
                              f"{format_value(rec['value_old'])} → {format_value(rec['value'])}"
                              f"{status}")
    out = rows[~same.to_numpy()].copy()
    keys = zip(out["indicator_id"].tolist(), out["period"].tolist(), strict=True)
    out["revision"] = next_revisions(store, keys)
    return out


# ---------------------------------------------------------------- reading


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _read_submission(path: Path, result: FileResult) -> bytes | None:
    """The file's bytes, or None (with the problem) when it is not a submission to read:
    an unsupported type, not a regular file (a device, a pipe, a folder), or too large.
    Checked before a byte is read, so /dev/zero or a FIFO costs nothing."""
    name = path.name
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        result.problems.append(Problem(
            f"不支持的文件类型 / unsupported file type {ext or '(none)'}", file=name,
            expected="Excel 工作簿 .xlsx 或 CSV 文件"))
        return None
    try:
        info = os.stat(path)
    except OSError as exc:
        result.problems.append(Problem(f"无法读取文件 / cannot read the file: {exc.strerror}",
                                       file=name))
        return None
    if not stat.S_ISREG(info.st_mode):
        result.problems.append(Problem("不是普通文件 / not a regular file", file=name,
                                       expected="一个 .xlsx 或 .csv 文件（不是目录、设备或管道）"))
        return None
    too_big = Problem(f"文件过大 / file too large (limit {_mib(MAX_FILE_BYTES)})", file=name,
                      value=_mib(info.st_size), expected=f"不超过 {_mib(MAX_FILE_BYTES)}；"
                      "按部门或期间拆分为多个文件")
    if info.st_size > MAX_FILE_BYTES:
        result.problems.append(too_big)
        return None
    try:
        with open(path, "rb") as fh:
            content = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        result.problems.append(Problem(f"无法读取文件 / cannot read the file: {exc.strerror}",
                                       file=name))
        return None
    if len(content) > MAX_FILE_BYTES:  # grew after the stat
        too_big.value = f"> {_mib(MAX_FILE_BYTES)}"
        result.problems.append(too_big)
        return None
    result.mode = stat.S_IMODE(info.st_mode)
    return content


@dataclass
class _Table:
    """One sheet (or the CSV) as text cells: headers as written, row numbers as shown."""

    sheet: str | None
    header_row: int
    headers: list[str]
    cells: pd.DataFrame  # columns 0..n-1, all text, "" for empty
    rows: np.ndarray  # spreadsheet row number of each cells row
    uncached: bool = False  # some cells hold formula text that has no cached result


def _header_key(text: str) -> str:
    return re.sub(r"[\s*＊]", "", unicodedata.normalize("NFKC", str(text))).lower()


_HEADER_MAP = {
    **{_header_key(h): f for f, pair in FIELDS.items() for h in pair},
    **{_header_key(k): v for k, v in _ALIASES.items()},
}
_EXTRA_KEYS = {_header_key(h) for pair in TEMPLATE_EXTRAS.values() for h in pair}


def _is_header(cells: Iterable[object]) -> bool:
    """The indicator id column and two more known ones; a missing column is reported later."""
    found = {_HEADER_MAP.get(_header_key(c)) for c in cells if c not in (None, "")} - {None}
    return "indicator_id" in found and len(found) >= 3


def _read_csv(content: bytes, name: str, problems: list[Problem], *,
              header: Callable[[Iterable[object]], bool] = _is_header) -> list[_Table]:
    """`header` recognises the header row (store.statements passes its own)."""
    text = _decode(content)
    if text is None:
        problems.append(Problem("文件编码无法识别 / not UTF-8 or GBK text", file=name,
                                expected="另存为“CSV UTF-8（逗号分隔）”或 GBK 编码的 CSV"))
        return []
    head = text[:20000].splitlines()[:_HEADER_SCAN_ROWS]
    delimiter = ","
    for i, line in enumerate(head):
        for delim in (",", "\t", ";"):
            cells = next(csv.reader([line], delimiter=delim), [])
            if header(cells):
                delimiter = delim
                break
        else:
            continue
        header_index, headers = i, [c.strip() for c in cells]
        break
    else:
        problems.append(Problem("找不到表头 / no header row", file=name, row=1,
                                expected="第一行为列名：" + "、".join(
                                    f"{zh}（{en}）" for zh, en in FIELDS.values())))
        return []
    width = len(headers)
    kept: list[pd.DataFrame] = []
    filled = 0
    try:
        # The header row is read as data so that the C parser refuses a row with more
        # fields than the header instead of silently dropping them. Read in chunks, blank
        # rows dropped as they pass: a file of a million empty lines costs no memory.
        chunks = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                             skiprows=header_index, keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, engine="c", chunksize=_CHUNK_ROWS)
        for chunk in chunks:
            chunk = chunk.reindex(columns=range(width)).fillna("")
            chunk = chunk[chunk.ne("").any(axis=1)]
            filled += len(chunk)
            if filled > MAX_ROWS + 1:  # + the header row
                problems.append(_too_many_rows(name, None))
                return []
            kept.append(chunk)
    except (pd.errors.ParserError, ValueError) as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:  # the parser counts lines from the top of the file, as a spreadsheet does
            problems.append(Problem("列数多于表头 / more fields than the header", file=name,
                                    row=int(m[2]), value=f"{m[3]} 列",
                                    expected=f"{m[1]} 列，与表头相同"))
        else:
            problems.append(Problem(f"CSV 格式错误 / malformed CSV: {exc}".strip(), file=name,
                                    expected="每行的列数与表头相同"))
        return []
    cells = pd.concat(kept) if kept else pd.DataFrame(columns=range(width), dtype=object)
    cells = cells[cells.index > 0]  # record 0 is the header
    # record n (from the header, 0) is spreadsheet row header_index + 1 + n
    rows = cells.index.to_numpy() + header_index + 1
    cells = cells.reset_index(drop=True)
    return [_Table(sheet=None, header_row=header_index + 1, headers=headers, cells=cells,
                   rows=rows)]


_CHUNK_ROWS = 100_000


def _too_many_rows(name: str, sheet: str | None) -> Problem:
    return Problem(f"行数过多 / more than {MAX_ROWS:,} filled rows", file=name, sheet=sheet,
                   expected=f"每个文件不超过 {MAX_ROWS:,} 行数据；拆分为多个文件")


def _decode(content: bytes) -> str | None:
    """UTF-8 (with or without BOM) first, then GBK (as GB18030, its superset)."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_xlsx(content: bytes, name: str, problems: list[Problem],
               warnings: list[str] | None = None, *,
               header: Callable[[Iterable[object]], bool] = _is_header) -> list[_Table]:
    import zipfile

    import openpyxl

    # The unzipped size is checked from the zip directory before anything is inflated;
    # zipfile never inflates a member past its declared size, so the check bounds the rest.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            unzipped = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        problems.append(Problem(f"无法作为 xlsx 读取 / not a readable .xlsx: {exc}", file=name,
                                expected="Excel 工作簿（.xlsx）或 CSV"))
        return []
    if unzipped > MAX_UNZIPPED_BYTES:
        problems.append(Problem(
            f"解压后过大 / unzips to more than {_mib(MAX_UNZIPPED_BYTES)}", file=name,
            value=_mib(unzipped), expected=f"解压后不超过 {_mib(MAX_UNZIPPED_BYTES)} 的工作簿"))
        return []
    try:
        values = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException …
        problems.append(Problem(f"无法作为 xlsx 读取 / not a readable .xlsx: {exc}", file=name,
                                expected="Excel 工作簿（.xlsx）或 CSV"))
        return []
    try:
        tables = []
        for ws in values.worksheets:
            table = _read_sheet(ws, formulas[ws.title], name, problems, header)
            if table is None:
                continue
            if getattr(ws, "sheet_state", "visible") != "visible":
                # Rows nobody sees in Excel must not reach the store unseen.
                problems.append(Problem("隐藏的工作表含数据 / hidden sheet with data", file=name,
                                        sheet=ws.title, expected="取消隐藏并核对，或删除该工作表"))
                continue
            tables.append(table)
    finally:
        values.close()
        formulas.close()
    if not tables and not problems:
        problems.append(Problem("找不到表头 / no sheet with a header row", file=name,
                                expected="列名行包含 指标编号、期间、数值"))
    if len(tables) > 1 and warnings is not None:
        warnings.append(f"{name}：读取了 {len(tables)} 个工作表（"
                        + "、".join(str(t.sheet) for t in tables) + "）")
    return tables


_CONTENT = re.compile(rb"<(?:\w+:)?(?:v|is|f)[\s>/]")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")


def _last_filled_row(ws) -> int | None:
    """The number of the sheet's last row holding a value or formula, found by a scan of the
    sheet's XML (fast: no cell objects), so reading stops at the end of the data however many
    blank or formatted-but-empty rows follow; 0 for no such row, None when unknown."""
    try:
        xml = ws.parent._archive.read(ws._worksheet_path)  # openpyxl's read-only internals
    except Exception:  # noqa: BLE001 - another openpyxl layout: read the sheet to its end
        return None
    last = None
    for match in _CONTENT.finditer(xml):
        last = match
    if last is None:
        return 0
    end = last.start()
    start = end
    while True:
        start = xml.rfind(b"row", 0, start)
        if start < 1:
            return None
        if xml[start - 1:start] in (b"<", b":") and xml[start + 3:start + 4] in b" \t\r\n>":
            break
    tag_end = xml.find(b">", start)
    number = _ROW_NUMBER.search(xml, start, tag_end)
    return int(number[1]) if number else None


def _read_sheet(ws, ws_formulas, name: str, problems: list[Problem],
                header: Callable[[Iterable[object]], bool] = _is_header) -> _Table | None:
    """One sheet, streamed: the header row, then the filled rows only, with their numbers.

    The sheet's recorded dimensions are ignored (a sheet "A1:G1048576" of blank rows is
    read to its last real row, not padded to a million); blank rows are dropped as they
    pass, so memory grows with the filled rows only (at most MAX_ROWS)."""
    ws.reset_dimensions()
    ws_formulas.reset_dimensions()
    last = _last_filled_row(ws)
    if last == 0:
        return None
    rows_v = ws.iter_rows(min_row=1, max_row=last)
    # Formulas whose cached result is missing read as empty with data_only=True; the
    # formula text, read in step from the second load, stands in so validation can name it.
    rows_f = ws_formulas.iter_rows(min_row=1, max_row=last)
    header_at = None
    for i, r in enumerate(rows_v):
        next(rows_f, None)
        if header(c.value for c in r):
            header_at, headers = i, [_cell_text(c) for c in r]
            break
        if i + 1 >= _HEADER_SCAN_ROWS:
            return None
    if header_at is None:
        return None
    while headers and headers[-1] == "":
        headers.pop()
    width = len(headers)
    body, numbers, uncached = [], [], False
    for n, (r, f) in enumerate(zip(rows_v, rows_f, strict=False), start=header_at + 2):
        texts = [_cell_text(c) for c in r[:width]]
        texts += [""] * (width - len(texts))
        for j, c in enumerate(f[:width]):
            if texts[j] == "" and getattr(c, "data_type", None) == "f":
                texts[j] = str(c.value)
                uncached = True
        if not any(texts):
            continue
        if len(body) >= MAX_ROWS:
            problems.append(_too_many_rows(name, ws.title))
            return None
        body.append(texts)
        numbers.append(n)
    cells = pd.DataFrame(body, columns=list(range(width)), dtype=object)
    return _Table(sheet=ws.title, header_row=header_at + 1, headers=headers, cells=cells,
                  rows=np.asarray(numbers, dtype=np.int64), uncached=uncached)


def _cell_text(cell) -> str:
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        # Excel turns a typed "55%" into 0.55 shown with a percent format.
        if "%" in (cell.number_format or ""):
            return f"{_number_text(round(v * 100, 10))}%"
        return _number_text(v)
    if isinstance(v, datetime | date):
        # Excel turns a typed 2025-09 into the date 2025-09-01: read it back as the month.
        if v.day == 1 and (not isinstance(v, datetime) or v.time() == datetime.min.time()):
            return f"{v.year}-{v.month:02d}"
        return v.isoformat()
    return str(v)


def _number_text(v: float) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


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


def _normalise(text: str) -> str:
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


def _period_verdict(text: str, today: date) -> tuple[str, str]:
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

    def __init__(self, frame: pd.DataFrame, columns: dict[str, list[str]], file: str):
        self.frame = frame
        self.columns = columns  # field -> header as written, per table index
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
        self._found.append((table, row, _FIELD_ORDER[fld], Problem(
            f"{message}：共 {int(mask.sum())} 行（第 {rows} 行）", file=self.file,
            sheet=sub["_sheet"].iloc[0], row=row, column=self.columns[fld][table],
            value=value, expected=expected)))

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
            self._found.append((table, int(row), _FIELD_ORDER[fld], Problem(
                message, file=self.file, sheet=sheet, row=int(row),
                column=self.columns[fld][table], entry=_clip(entry) or None, value=_clip(seen),
                expected=str(exp.iloc[k]) if exp is not None else expected)))


def _clip(text):
    """A cell as quoted in a problem: long text is cut, its length said."""
    if isinstance(text, str) and len(text) > _SHOWN_CHARS:
        return f"{text[:_SHOWN_CHARS]}…（共 {len(text):,} 字符）"
    return text


def _validate_file(path: Path, content: bytes, registry: Registry, today: date,
                   result: FileResult) -> pd.DataFrame | None:
    """Read and check one file; returns the store rows if it is accepted (problems in result)."""
    name = path.name
    ext = path.suffix.lower()
    problems = result.problems
    if ext == ".csv":
        tables = _read_csv(content, name, problems)
    elif ext in (".xlsx", ".xlsm"):
        tables = _read_xlsx(content, name, problems, result.warnings)
    else:
        problems.append(Problem(f"不支持的文件类型 / unsupported file type {ext or '(none)'}",
                                file=name, expected="Excel 工作簿 .xlsx 或 CSV 文件"))
        return None
    frames, columns, is_template = [], {f: [] for f in FIELDS}, False
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
        frames.append(frame)
    if problems:
        return None
    frame = pd.concat(frames, ignore_index=True)
    filled = np.zeros(len(frame), dtype=bool)
    for fld in FIELDS:
        frame[fld] = _clean(frame[f"{fld}_raw"], _normalise)
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
        problems.append(Problem("文件中没有数据行 / no data rows", file=name,
                                expected="至少一行填写了数值"))
        return None
    check = _Checker(frame, columns, name)
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
    return accepted


def _map_headers(table: _Table, name: str, problems: list[Problem],
                 warnings: list[str]) -> dict | None:
    """Field -> column position; records missing and doubled columns as problems."""
    mapped: dict = {}
    seen_at: dict[str, str] = {}
    ok = True
    for pos, header in enumerate(table.headers):
        key = _header_key(header)
        fld = _HEADER_MAP.get(key)
        if fld is None:
            if key in _EXTRA_KEYS:
                mapped["_template"] = True
            elif key and (table.cells[pos] != "").any():
                warnings.append(f"{name}{_sheet_text(table.sheet)}：忽略无法识别的列“{header}”"
                                f" / ignored unknown column")
            continue
        if fld in mapped:
            problems.append(Problem("重复的列 / the same column twice", file=name,
                                    sheet=table.sheet, row=table.header_row, column=header,
                                    expected=f"只保留一列“{seen_at[fld]}”"))
            ok = False
            continue
        mapped[fld], seen_at[fld] = pos, header
    for fld in REQUIRED:
        if fld not in mapped:
            zh, en = FIELDS[fld]
            problems.append(Problem("缺少必填列 / required column missing", file=name,
                                    sheet=table.sheet, row=table.header_row,
                                    column=f"{zh} / {en}",
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
        check.add(formula[fld], fld, "公式没有计算结果 / formula with no cached value",
                  "在 Excel 中打开、重新计算并保存，或直接填写数值")

    def live(fld: str) -> pd.Series:
        return ~formula[fld]

    # lengths: free text up to MAX_TEXT characters, any other cell up to MAX_CELL
    for fld in FIELDS:
        limit = MAX_TEXT.get(fld, MAX_CELL)
        too_long = frame[fld].str.len() > limit
        if too_long.any():
            check.add(too_long, fld, f"内容过长 / longer than {limit} characters",
                      f"不超过 {limit} 个字符")

    # required fields
    for fld in REQUIRED:
        zh, en = FIELDS[fld]
        check.add(frame[f"{fld}_empty"] & live(fld), fld, "必填项为空 / required field is empty",
                  f"填写{zh}（{en}）")

    # indicator
    ids = _clean(frame["indicator_id"], str.lower)
    frame["indicator_id"] = ids
    known = ids.isin(list(inds))
    check.add(~known & ~frame["indicator_id_empty"] & live("indicator_id"), "indicator_id",
              "未知指标编号 / unknown indicator id",
              "模板或 `planbook plan --json` 中的指标编号")
    ind_of = {i: inds[i] for i in ids[known].unique()}
    attr = _indicator_columns(ids, ind_of)
    check.add(attr["derived"], "indicator_id",
              "该指标由村级台账计算，不接受直接报送 / computed from village records",
              "报送村级台账（data/villages/），不要单独填报此项")

    # period
    verdicts = {p: _period_verdict(p, today) for p in frame["period"].unique()}
    codes = frame["period"].map({p: v[0] for p, v in verdicts.items()})
    # categorical: the masks below compare codes, not 100,000 strings
    verdict = frame["period"].map({p: v[1] for p, v in verdicts.items()}).astype("category")
    live_p = live("period")
    check.add((verdict == "format") & live_p, "period", "期间格式不对 / not a period",
              "年 2025、季度 2025-Q3 或月份 2025-09")
    check.add((verdict == "outside") & live_p, "period", "期间不在方案期内 / outside the plan",
              f"{BASELINE_YEAR}（基期）至 {LAST_YEAR} 年")
    future = (verdict == "future") & live_p
    if future.any():  # one problem per file: the rule, the periods and the rows it hit
        periods = sorted(set(codes[future]), key=lambda c: parse_period(c).end)
        check.add_once(future, "period", "期间尚未结束 / period later than today",
                       f"报送日 {today.isoformat()} 前已结束的期间（"
                       + "；".join(f"{c} 自 {reportable_from(c)} 起可报送" for c in periods)
                       + "）", value="、".join(periods))

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
        check.add(bad_unit, "unit", "单位与登记不一致且无法换算 / unit differs from the "
                  "registry's", expected)
    effective_unit = stated.where(~frame["unit_empty"], reg_unit)

    # value: plain numbers parse in C; only the rest get the text clean-ups
    number = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    pct = pd.Series(False, index=frame.index)
    typed = number.isna() & ~frame["value_empty"]
    milestone = attr["milestone"]
    if typed.any():
        value = frame["value"][typed]
        value = value.where(~milestone[typed], value.replace(_MILESTONE_WORDS))
        pct[typed] = value.str.endswith("%")
        value = value.where(~pct[typed], value.str.removesuffix("%").str.rstrip())
        grouped = value.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
        value = value.where(~grouped, value.str.replace(",", "", regex=False))
        number[typed] = pd.to_numeric(value, errors="coerce").astype(float)
    not_number = ~np.isfinite(number) & ~frame["value_empty"] & live("value")
    check.add(not_number, "value", "数值不是数字 / value is not a number",
              "一个数字，如 1376、1,376 或 55%（仅限单位为 % 的指标）")
    check.add(pct & ~not_number & (effective_unit != "%") & live("value"), "value",
              "百分号只能用于单位为 % 的指标 / percent sign on a non-percent indicator",
              _clean(reg_unit, lambda u: f"以 {u or '1/0.5/0'} 计的数字"))
    converted = number * factor.fillna(1.0)
    valid_number = np.isfinite(converted) & known
    check.add(valid_number & attr["share"] & ((converted < 0) | (converted > 100)), "value",
              "比率超出 0–100 / share outside 0–100", "0 至 100 之间（单位 %）")
    check.add(valid_number & attr["non_negative"] & (converted < 0), "value",
              "计数或实物量不能为负 / negative count", "≥ 0")
    check.add(valid_number & milestone & ~converted.isin(list(MILESTONE_VALUES)), "value",
              "节点任务只能填 1、0.5 或 0 / milestone value must be 1, 0.5 or 0",
              "1 已完成 / 0.5 推进中 / 0 未启动")

    # status
    status = _clean(frame["status"], lambda s: s.lower())
    status = status.map({**STATUS_WORDS, "": DEFAULT_STATUS})  # NaN: unknown
    check.add(status.isna() & live("status"), "status", "数据状态无效 / unknown status",
              "official 正式统计 / provisional 部门报送 / sample 示例数据（留空即 provisional）")

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
        check.add(dup, "indicator_id", "同一指标同一期间重复 / same indicator and period twice",
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


# ---------------------------------------------------------------- storing and archiving


def _store(data: Path, registry: Registry, rows: pd.DataFrame) -> list[Path]:
    """Append the planned rows (revision set) to the store file of each row's lead department."""
    written = []
    for lead in sorted(rows["submitted_by"].unique(), key=registry.department_order):
        part = rows[rows["submitted_by"] == lead]
        code = department_code(registry, str(lead))
        written.append(append_rows(data, code, part[list(COLUMNS)]))
    return written


def department_code(registry: Registry, name: str) -> str:
    """The ascii file code of a department (its store file and template names)."""
    dept = registry.departments.get(name)
    if dept and dept.code:
        return dept.code
    # A department without a code still needs a stable ascii file name.
    return "dept-" + sha256_bytes(name.encode("utf-8"))[:8]


def _archive_mode(source_mode: int) -> int:
    """Never wider than the source, nor than a new file would be; never executable."""
    from planbook.files import new_file_mode

    return source_mode & new_file_mode() & 0o666


def _archive_bytes(data: Path, path: Path, content: bytes, sha: str, mode: int) -> Path:
    ext = path.suffix.lower().lstrip(".")
    target = paths.archive_dir(data) / f"{sha}.{ext}"
    if not target.is_file():  # same sha, same bytes: keep the first copy
        atomic_write_bytes(target, content, mode=_archive_mode(mode))
    return target


def _write_record(data: Path, result: FileResult) -> Path:
    """<sha>.json: every time this file was received, and what became of it."""
    path = paths.archive_dir(data) / f"{result.sha256}.json"
    record = {"sha256": result.sha256, "archived_as": result.archived.name, "receptions": []}
    if path.is_file():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # a damaged record is replaced rather than blocking intake
    record.setdefault("receptions", []).append({
        "original_name": result.path.name,
        "original_path": str(result.path),
        "received_at": result.received_at,
        "outcome": result.outcome,
        "rows_read": result.rows_read,
        "rows_accepted": result.rows_accepted,
        "rows_refused": result.rows_refused,
        "rows_with_problems": result.rows_with_problems,
        "rows_skipped": result.rows_skipped,
        "rows_new": result.rows_new,
        "rows_revised": result.rows_revised,
        "rows_unchanged": result.rows_unchanged,
        "changes": result.changes,
        "confirmed": result.confirmed,
        **({"duplicate_of": result.duplicate_of} if result.duplicate_of else {}),
        "stored_in": [_show(p, data) for p in result.stored_in],
        "problem_count": result.problem_count,  # "problems" keeps the first MAX_PROBLEMS
        "problems": [{**{k: v for k, v in asdict(p).items() if v is not None},
                      "value": None if p.value is None else str(p.value), "text": str(p)}
                     for p in result.problems[:MAX_PROBLEMS]],
        "warnings": result.warnings[:MAX_PROBLEMS],
    })
    # The record quotes the file's cells: it is no more readable than the file.
    mode = None if path.is_file() else _archive_mode(result.mode)
    atomic_write_bytes(path, (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode(),
                       mode=mode)
    return path
