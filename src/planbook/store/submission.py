"""A submitted file: its format (the contract), its receipt, and its archived copy.

Shared by the three kinds of submission (figures: store.intake; progress statements and
project stages: store.statements; village ledgers: store.ledger): the column contract of a
figures file, the limits on any file, the receipt (FileResult, IngestReport) and
data/submissions/<sha256>.<ext> with its outcome record <sha256>.json.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planbook import clock, paths
from planbook.errors import EnvironmentFault, IntakeError, Problem, UsageError
from planbook.plan.registry import Registry
from planbook.store.commit import Commit
from planbook.store.observations import (
    STATUS_ZH,
    STATUSES,
    sha256_bytes,
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
FIELD_ORDER = {f: n for n, f in enumerate(FIELDS)}
# Read-only columns a department template carries; intake ignores them.
TEMPLATE_EXTRAS: dict[str, tuple[str, str]] = {
    "name": ("指标名称", "name"),
    "target": ("目标值", "target"),
    "last_value": ("上期值", "last_value"),
    "period_note": ("期间说明", "period_note"),
}
ALIASES = {"计量单位": "unit", "指标id": "indicator_id", "数据状态码": "status"}
HEADER_SCAN_ROWS = 10  # a title row or two above the header is tolerated

# Limits on what one submitted file may cost (a department template is some 20 KB).
MAX_FILE_BYTES = 20 * 2**20  # 20 MiB on disk
MAX_UNZIPPED_BYTES = 50 * 2**20  # 50 MiB unzipped (.xlsx): a zip bomb is refused unread
MAX_ROWS = 200_000  # filled rows; blank rows do not count and are skipped as they stream
MAX_TEXT = {"source": 200, "note": 1000}  # characters of the free-text fields
MAX_CELL = 100  # characters of any other cell
MAX_ROWS_LISTED = 10  # rows one message lists ("… and N more")
MAX_PROBLEMS = 1000  # problems kept per file, in reading order (all are counted)
SHOWN_CHARS = 60  # of a value quoted in a problem
SUPPORTED = (".csv", ".xlsx", ".xlsm")

STATUS_WORDS = {
    **{s: s for s in STATUSES},
    **{label: code for code, label in STATUS_ZH.items()},
    "正式": "official", "快报": "provisional", "初步": "provisional", "暂定": "provisional",
    "示例": "sample",
}
DEFAULT_STATUS = "provisional"

MILESTONE_VALUES = {1.0: "已完成", 0.5: "推进中", 0.0: "未启动"}
MILESTONE_WORDS = {"已完成": "1", "完成": "1", "推进中": "0.5", "进行中": "0.5", "未启动": "0"}

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
                    where = "；存入 " + "、".join(show_path(p, self.data) for p in f.stored_in)
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
                    where = (f"，前 {kept} 个见 {show_path(f.record, self.data)}" if f.record
                             else "")
                    lines.append(f"  …… 另有 {rest} 个问题{where}")
            lines += [f"  注意：{w}" for w in f.warnings]
        if len(self.files) > 1:
            refused = sum(not f.accepted for f in self.files)
            lines.append(f"合计 {len(self.files)} 个文件（接受 {len(self.files) - refused}，"
                         f"拒绝 {refused}）：读取 {self.rows_read} 行 = 接受 {self.rows_accepted} 行"
                         f" + 拒绝 {self.rows_refused} 行")
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
        super().__init__(f"{refused} 个文件被拒绝", problems=report.problems,
                         hint="按所列单元格改正后重新提交整份文件")
        self.report = report

    def __str__(self) -> str:
        return "\n".join([self.message, *self.report.summary_lines(), f"  改正方法：{self.hint}"])


def show_path(path: Path | None, data: Path | None) -> str:
    if path is None:
        return ""
    if data is not None:
        try:
            return path.relative_to(data.parent).as_posix()
        except ValueError:
            pass
    return str(path)





def received_stamp(received: date | None) -> str:
    """received_at of a submission: the stated day, else the clock; both in Jiande's zone."""
    if received is not None:
        return f"{received.isoformat()}T00:00:00+08:00"
    return clock.stamp()


def check_received(received: date | None) -> None:
    if received is not None and received > clock.today():
        raise UsageError(f"--received {received.isoformat()} 晚于今天（{clock.today()}）",
                         hint="填写实际收到文件的日期（今天或更早）")


def receipt(received: date | None, today: date | None = None) -> tuple[date, str]:
    """The day a submission's dates are judged on and its received_at stamp: one rule for
    figures, statements, project stages and village ledgers. `received` (--received,
    back-filling; never after today) is both; else the clock. `today` overrides the day
    only (tests)."""
    check_received(received)
    return today or received or clock.today(), received_stamp(received)


# ---------------------------------------------------------------- resending (one rule)
#
# Every kind of workbook (figures, statements, project stages, village ledgers) follows one
# rule, so a department may resend a file without fear: a file accepted before (same sha256,
# accepted_before) adds nothing and is reported [已接收过]; a row equal in its content to the
# stored latest revision of its key adds no revision; only new keys and changed rows are
# stored, and the receipt counts the three.


@dataclass
class RowClasses:
    """What resending each row of a file would do (classify_rows)."""

    kind: pd.Series  # per new row: "new", "revised" or "unchanged"
    old: pd.DataFrame  # per new row: the stored latest content of its key (NaN where new)

    @property
    def stored(self) -> pd.Series:
        """The rows to store: new keys and changed rows."""
        return self.kind != "unchanged"

    def count(self, result: FileResult) -> None:
        result.rows_new = int((self.kind == "new").sum())
        result.rows_revised = int((self.kind == "revised").sum())
        result.rows_unchanged = int((self.kind == "unchanged").sum())


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str)


def classify_rows(latest: pd.DataFrame, new: pd.DataFrame, key_cols: list[str],
                  content_cols: list[str],
                  norm: dict[str, Callable[[pd.Series], pd.Series]] | None = None) -> RowClasses:
    """Each row of `new` against `latest` (one stored row per key, its latest revision):
    new (key not stored), revised (a content field differs) or unchanged. Fields compare
    as text, through `norm[field]` where given (980 and 980.0 are one value)."""
    norm = norm or {}
    old = latest[[*key_cols, *content_cols]].drop_duplicates(key_cols, keep="last")
    merged = new[key_cols].astype(object).merge(
        old.astype({k: object for k in key_cols}), on=key_cols, how="left", indicator=True)
    merged.index = new.index
    stored = (merged["_merge"] == "both").to_numpy()
    same = stored.copy()
    for c in content_cols:
        f = norm.get(c, _as_text)
        same &= f(merged[c]).to_numpy() == f(new[c]).to_numpy()
    kind = pd.Series(np.where(~stored, "new", np.where(same, "unchanged", "revised")),
                     index=new.index, dtype=object)
    return RowClasses(kind=kind, old=merged[content_cols])


# ---------------------------------------------------------------- reading


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _machine_fault(exc: OSError, path: Path) -> None:
    """No permission or a disk error reading a submitted file is the machine's fault (exit 2,
    nothing stored); a missing file stays a refused submission naming it."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EIO):
        raise EnvironmentFault.from_os(exc, path, doing="读取") from None


def read_submission(path: Path, result: FileResult) -> bytes | None:
    """The file's bytes, or None (with the problem) when it is not a submission to read:
    an unsupported type, not a regular file (a device, a pipe, a folder), or too large.
    Checked before a byte is read, so /dev/zero or a FIFO costs nothing."""
    name = path.name
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        result.problems.append(Problem(
            f"不支持的文件类型：{ext or '（无扩展名）'}", file=name,
            expected="Excel 工作簿 .xlsx 或 CSV 文件"))
        return None
    try:
        info = os.stat(path)
    except OSError as exc:
        _machine_fault(exc, path)
        result.problems.append(Problem("无法读取文件（权限不足或已被移走）",
                                       file=name))
        return None
    if not stat.S_ISREG(info.st_mode):
        result.problems.append(Problem("不是普通文件", file=name,
                                       expected="一个 .xlsx 或 .csv 文件（不是目录、设备或管道）"))
        return None
    too_big = Problem(f"文件过大：超过 {mib(MAX_FILE_BYTES)}", file=name,
                      value=mib(info.st_size), expected=f"不超过 {mib(MAX_FILE_BYTES)}；"
                      "按部门或期间拆分为多个文件")
    if info.st_size > MAX_FILE_BYTES:
        result.problems.append(too_big)
        return None
    try:
        with open(path, "rb") as fh:
            content = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        _machine_fault(exc, path)
        result.problems.append(Problem("无法读取文件（权限不足或已被移走）",
                                       file=name))
        return None
    if len(content) > MAX_FILE_BYTES:  # grew after the stat
        too_big.value = f"> {mib(MAX_FILE_BYTES)}"
        result.problems.append(too_big)
        return None
    result.mode = stat.S_IMODE(info.st_mode)
    return content


def accepted_before(data: Path, sha: str) -> str | None:
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


def archive_bytes(data: Path, path: Path, content: bytes, sha: str, mode: int,
                  tx: Commit) -> Path:
    """data/submissions/<sha>.<ext>, staged in `tx` (the submission's commit)."""
    ext = path.suffix.lower().lstrip(".")
    target = paths.archive_dir(data) / f"{sha}.{ext}"
    if not target.is_file():  # same sha, same bytes: keep the first copy
        tx.write(target, content, mode=_archive_mode(mode))
    return target


def write_record(data: Path, result: FileResult, tx: Commit) -> Path:
    """<sha>.json: every time this file was received, and what became of it (in `tx`)."""
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
        "stored_in": [show_path(p, data) for p in result.stored_in],
        "problem_count": result.problem_count,  # "problems" keeps the first MAX_PROBLEMS
        "problems": [{**{k: v for k, v in asdict(p).items() if v is not None},
                      "value": None if p.value is None else str(p.value), "text": str(p)}
                     for p in result.problems[:MAX_PROBLEMS]],
        "warnings": result.warnings[:MAX_PROBLEMS],
    })
    # The record quotes the file's cells: it is no more readable than the file.
    mode = None if path.is_file() else _archive_mode(result.mode)
    tx.write(path, (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode(), mode=mode)
    return path
