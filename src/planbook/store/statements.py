"""Departments' own account of their tasks: progress statements and project stage reports.

A progress workbook (`planbook templates` writes one per responsible department, named
<code>-<period>-工作进展.xlsx) has two sheets; a CSV carries either one:

工作进展 (one row per task the department leads or co-leads):
    任务编号 task_id      the plan item, e.g. 三(二)1 (tasks.yaml)
    期间 period           a year (2025) or a month (2026-10)
    报送单位 department   the department writing; one of the task's responsible departments
                          (any department for a task whose text names none, 六(二)–六(四))
    主要进展 progress     what was done; required for a year (≤ 1000 characters)
    存在问题 problems     what is stuck (≤ 500)
    下步打算 next_steps   what comes next (≤ 500)
    佐证材料 evidence     supporting documents, each with its date, separated by ；or line
                          breaks: 《建德市…工作方案》（2025-06-30）(≤ 500)
    本月进展 monthly      a month's short progress line, required for a month (≤ 200)
    数据状态 status       provisional (default) or sample
项目进展 (one row per named project the department leads, projects.yaml):
    项目编号 project_id, 期间 period, 报送单位 department, 当前阶段 stage (未启动 or a stage of
    registry.STAGES), 阶段日期 stage_date (the date the stage is stated for: the day it was
    reached, or the day the department confirms it, not after the period's end),
    进展说明 note (≤ 200), 数据状态 status; optionally the investment (store.investment):
    总投资, 年度计划投资, 累计完成投资 (since 2023), 投资单位 (万元/亿元), and 形象进度
    image_progress (≤ 200), 存在问题 problems (≤ 500).

Intake follows store.intake: all or nothing per file with every problem located (file,
sheet and cell, value seen, expected), blank template rows skipped, a changed statement for
the same task, period and department stored as the next revision while a resent file or an
unchanged row adds nothing (store.submission.classify_rows), every file archived under
its sha256 with its outcome record. Text is stored exactly as written: no normalisation, no
trimming, full-width punctuation kept; only ids, periods and names are normalised to be
matched. Stored in data/statements/<code>.csv and data/projects/<code>.csv (<code> of the
department writing), each row naming the submission (sha256, original name, sheet, row).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planbook import paths
from planbook.errors import EnvironmentFault, Problem, StoreDamaged
from planbook.hashing import ByContent
from planbook.plan.periods import parse_period
from planbook.plan.registry import STAGES, Registry, load_registry
from planbook.store import figure_rows, investment, sheets, submission
from planbook.store.commit import Commit, transaction
from planbook.store.observations import sha256_bytes, store_lock
from planbook.store.schema import STATUS_ZH
from planbook.store.submission import FileResult, IngestReport, department_code

STATEMENT_SHEET = "工作进展"
PROJECT_SHEET = "项目进展"

# canonical field -> (Chinese header, English header); the Chinese one is what templates write
STATEMENT_FIELDS: dict[str, tuple[str, str]] = {
    "task_id": ("任务编号", "task_id"),
    "period": ("期间", "period"),
    "department": ("报送单位", "department"),
    "progress": ("主要进展", "progress"),
    "problems": ("存在问题", "problems"),
    "next_steps": ("下步打算", "next_steps"),
    "evidence": ("佐证材料", "evidence"),
    "monthly": ("本月进展", "monthly"),
    "status": ("数据状态", "status"),
}
PROJECT_FIELDS: dict[str, tuple[str, str]] = {
    "project_id": ("项目编号", "project_id"),
    "period": ("期间", "period"),
    "department": ("报送单位", "department"),
    "stage": ("当前阶段", "stage"),
    "stage_date": ("阶段日期", "stage_date"),
    "note": ("进展说明", "note"),
    "total_investment": ("总投资", "total_investment"),
    "annual_plan_investment": ("年度计划投资", "annual_plan_investment"),
    "completed_investment": ("累计完成投资", "completed_investment"),
    "investment_unit": ("投资单位", "investment_unit"),
    "image_progress": ("形象进度", "image_progress"),
    "problems": ("存在问题", "problems"),
    "status": ("数据状态", "status"),
}
# Read-only columns of the templates; intake ignores them.
TEMPLATE_EXTRAS = ("任务名称", "责任分工", "项目名称", "目标阶段", "目标年份")
TEXT_LIMITS = {"progress": 1000, "problems": 500, "next_steps": 500, "evidence": 500,
               "monthly": 200, "note": 200, "image_progress": 200}
REPORTED_STAGES = ("未启动", *STAGES)
STATUSES = ("provisional", "sample")
_STATUS_WORDS = {"provisional": "provisional", "部门报送": "provisional", "sample": "sample",
                 "示例": "sample", "示例数据": "sample", "": "provisional"}

STATEMENT_COLUMNS = ("task_id", "period", "department", "progress", "problems", "next_steps",
                     "evidence", "monthly", "status", "revision", "received_at", "file_sha256",
                     "original_name", "sheet", "row", "source_file")
PROJECT_COLUMNS = ("project_id", "period", "department", "stage", "stage_date", "note",
                   *investment.NUMBER_FIELDS, "investment_unit", "image_progress", "problems",
                   "status", "revision", "received_at", "file_sha256", "original_name",
                   "sheet", "row", "source_file")
_DATE = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?")
_EVIDENCE_SPLIT = re.compile(r"[；;\n]+")


def _map(fields: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {sheets.header_key(h): f for f, pair in fields.items() for h in pair}


_STATEMENT_MAP = _map(STATEMENT_FIELDS)
_PROJECT_MAP = _map(PROJECT_FIELDS)
EXTRA_KEYS = {sheets.header_key(h) for h in TEMPLATE_EXTRAS}


def _kind(cells: Iterable[object]) -> str | None:
    """statement / project for a header row, else None."""
    keys = {sheets.header_key(c) for c in cells if c not in (None, "")}
    if "task_id" in {_STATEMENT_MAP.get(k) for k in keys} and len(
            {_STATEMENT_MAP.get(k) for k in keys} - {None}) >= 3:
        return "statement"
    if "project_id" in {_PROJECT_MAP.get(k) for k in keys} and len(
            {_PROJECT_MAP.get(k) for k in keys} - {None}) >= 3:
        return "project"
    return None


def _is_header(cells: Iterable[object]) -> bool:
    return _kind(list(cells)) is not None


def is_progress_file(path: Path) -> bool:
    """Whether a submitted file is a progress workbook (statements or project stages) rather
    than a figures file: `planbook ingest` sends it here."""
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        return False
    # Read within intake's limits: a device, pipe or oversized file is left to the figures
    # intake, which refuses it before reading.
    content = submission.read_submission(path, FileResult(path=path))
    if content is None:
        return False
    problems: list[Problem] = []
    reader = sheets.read_csv if path.suffix.lower() == ".csv" else sheets.read_xlsx
    return bool(reader(content, path.name, problems, header=_is_header))


# ---------------------------------------------------------------- intake


def ingest(files: list[Path], data: Path, *, dry_run: bool = False, today: date | None = None,
           received: date | None = None, check: bool = True,
           registry: Registry | None = None) -> IngestReport:
    """Validate each progress file, store the accepted ones, archive every one (unless
    dry_run). As store.intake.ingest: check=True raises SubmissionRefused after all files;
    `received` (--received) stamps received_at and is the day the dates are judged on."""
    registry = registry or load_registry(data)
    today, stamp = submission.receipt(received, today)
    # The same store lock as store.intake: the statements and the archive are rewritten.
    with contextlib.nullcontext() if dry_run else store_lock(data):
        results = [_ingest_one(Path(p), data, registry, today, dry_run, stamp) for p in files]
    report = IngestReport(files=results, dry_run=dry_run, data=data)
    if check:
        report.raise_for_refused()
    return report


def _ingest_one(path: Path, data: Path, registry: Registry, today: date,
                dry_run: bool, stamp: str) -> FileResult:
    result = FileResult(path=path, received_at=stamp)
    content = submission.read_submission(path, result)  # the limits and checks of store.intake
    if content is None:
        return result
    result.sha256 = sha256_bytes(content)
    # The rule of every workbook kind (store.submission): a file accepted before adds nothing.
    result.duplicate_of = submission.accepted_before(data, result.sha256)
    planned = None
    if not result.duplicate_of:
        rows = _validate(path, content, registry, today, result)
        if result.accepted and rows is not None:
            planned = _plan(data, registry, rows, result)
    if not dry_run:  # archive, store rows and record: one commit, all or nothing
        with transaction(data) as tx:
            result.archived = submission.archive_bytes(data, path, content, result.sha256,
                                                       result.mode, tx)
            if planned is not None:
                result.stored_in = _write(data, registry, planned, result, tx)
            result.record = submission.write_record(data, result, tx)
    return result


def _validate(path: Path, content: bytes, registry: Registry, today: date,
              result: FileResult) -> dict[str, list[dict]] | None:
    name, ext = path.name, path.suffix.lower()
    problems = result.problems
    if ext == ".csv":
        tables = sheets.read_csv(content, name, problems, header=_is_header)
    elif ext in (".xlsx", ".xlsm"):
        tables = sheets.read_xlsx(content, name, problems, header=_is_header)
    else:
        problems.append(Problem(f"不支持的文件类型：{ext or '（无扩展名）'}",
                                file=name, expected="Excel 工作簿 .xlsx 或 CSV 文件"))
        return None
    for p in problems:  # the figures reader's hint names the figures' columns
        if p.message.startswith("找不到表头"):
            p.expected = ("工作进展表头含 任务编号、期间、报送单位、主要进展；"
                          "项目进展表头含 项目编号、期间、报送单位、当前阶段")
    out: dict[str, list[dict]] = {"statement": [], "project": []}
    seen: dict[tuple, str] = {}
    for table in tables:
        kind = _kind(table.headers)
        fields = STATEMENT_FIELDS if kind == "statement" else PROJECT_FIELDS
        mapping = _STATEMENT_MAP if kind == "statement" else _PROJECT_MAP
        cols: dict[str, int] = {}
        for pos, header in enumerate(table.headers):
            key = sheets.header_key(header)
            fld = mapping.get(key)
            if fld is None:
                if key and key not in EXTRA_KEYS and (table.cells[pos] != "").any():
                    result.warnings.append(f"{name}（工作表 {table.sheet}）：忽略无法识别的列"
                                           f"“{header}”"
                                           if table.sheet else
                                           f"{name}：忽略无法识别的列“{header}”")
                continue
            if fld in cols:
                problems.append(Problem("重复的列", file=name,
                                        sheet=table.sheet, row=table.header_row, column=header,
                                        cell=table.cell(pos, table.header_row)))
                continue
            cols[fld] = pos
        required = (("task_id", "period", "department", "progress") if kind == "statement"
                    else ("project_id", "period", "department", "stage", "stage_date"))
        missing = [f for f in required if f not in cols and not (f == "progress"
                                                                 and "monthly" in cols)]
        for f in missing:
            zh, en = fields[f]
            problems.append(Problem("缺少必填列", file=name,
                                    sheet=table.sheet, row=table.header_row,
                                    column=zh, expected=f"表头含“{zh}”或“{en}”"))
        if missing:
            continue
        check = _RowCheck(name, table, cols, fields, problems)
        for i, row_no in enumerate(table.rows):
            raw = {f: str(table.cells.iat[i, pos]) for f, pos in cols.items()}
            for f in fields:
                raw.setdefault(f, "")
            texts = [raw[f] for f in fields if f not in ("task_id", "project_id", "period",
                                                         "department", "status",
                                                         "investment_unit")]
            if not any(t.strip() for t in texts):
                if any(raw[f].strip() for f in fields):
                    result.rows_skipped += 1  # a template row left blank
                continue
            result.rows_read += 1
            check.row = int(row_no)
            before = len(problems)
            if kind == "statement":
                row = _check_statement(raw, check, registry, today)
                key = ("statement", row.get("task_id"), row.get("period"), row.get("department"))
            else:
                row = _check_project(raw, check, registry, today)
                key = ("project", row.get("project_id"), row.get("period"), row.get("department"))
            if None not in key and len(problems) == before:
                where = f"{table.sheet}!{row_no}" if table.sheet else str(row_no)
                if key in seen:
                    check.add("task_id" if kind == "statement" else "project_id",
                              "同一任务（项目）、期间、报送单位重复",
                              key[1], f"每个任务（项目）每个期间每个单位一行（另见第 {seen[key]} 行）")
                seen[key] = where
            if len(problems) > before:
                result.rows_with_problems += 1
            row.update(sheet=table.sheet or "", row=int(row_no))
            out[kind].append(row)
    if not problems and result.rows_read == 0:
        problems.append(Problem("文件中没有填写任何进展", file=name,
                                expected="至少一行填写了主要进展、本月进展或当前阶段"))
    if problems:
        result.rows_refused = result.rows_read
        return None
    result.rows_accepted = result.rows_read
    return out


class _RowCheck:
    """Adds a located problem for the current row."""

    def __init__(self, file: str, table, cols: dict[str, int], fields, problems: list[Problem]):
        self.file, self.table, self.cols, self.fields = file, table, cols, fields
        self.problems = problems
        self.row = 0

    def add(self, fld: str, message: str, value, expected: str) -> None:
        pos = self.cols.get(fld)
        column = self.table.headers[pos] if pos is not None else self.fields[fld][0]
        self.problems.append(Problem(message, file=self.file, sheet=self.table.sheet,
                                     row=self.row, column=column,
                                     cell=self.table.cell(pos, self.row), value=value,
                                     expected=expected))


def _norm_id(text: str) -> str:
    """三（二）1 and 三(二)1 are the same item; ids are matched, not stored as typed."""
    import unicodedata

    return unicodedata.normalize("NFKC", text).replace(" ", "").strip()


def _period(raw: str, check: _RowCheck, today: date) -> str | None:
    text = raw.strip()
    if not text:
        check.add("period", "必填项为空", raw, "年度 2025 或月份 2026-10")
        return None
    code, verdict = figure_rows.period_verdict(figure_rows.normalise(text), today)
    if verdict == "format" or (verdict != "format" and "Q" in code):
        check.add("period", "期间格式不对", raw, "年度 2025 或月份 2026-10")
        return None
    if verdict == "outside":
        check.add("period", "期间不在方案期内", raw, "2023 至 2027 年")
        return None
    if verdict == "future":
        check.add("period", "期间尚未结束", raw,
                  f"截至 {today.isoformat()} 已结束的期间")
        return None
    return code


def _department(raw: str, allowed: tuple[str, ...], check: _RowCheck, registry: Registry,
                what: str) -> str | None:
    text = raw.strip()
    if not text:
        check.add("department", "必填项为空", raw, "本单位名称")
        return None
    name = registry.resolve_department(text)
    if name is None:
        check.add("department", "未知单位", raw,
                  "departments.yaml 中的单位名称，如 " + "、".join(allowed[:2]))
        return None
    if name not in allowed:
        check.add("department", f"不是该{what}的责任单位", raw,
                  "、".join(allowed))
        return None
    return name


def _status(raw: str, check: _RowCheck) -> str | None:
    status = _STATUS_WORDS.get(raw.strip().lower())
    if status is None:
        check.add("status", "数据状态无效", raw,
                  "部门报送或示例数据（留空即部门报送）")
    return status


def _limit(raw: dict, fld: str, check: _RowCheck) -> None:
    text = raw.get(fld, "")
    if len(text) > TEXT_LIMITS[fld]:
        check.add(fld, f"文字超过 {TEXT_LIMITS[fld]} 字", f"{len(text)} 字",
                  f"不超过 {TEXT_LIMITS[fld]} 字，详细材料列入佐证材料")


def _date(text: str) -> date | None:
    m = _DATE.fullmatch(text.strip()) or _DATE.search(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _dated(check: _RowCheck, fld: str, raw: str, when: date, period: str | None) -> None:
    """One rule for every date a row states (a document's, a stage's): on or before the end
    of the period it accounts for. The period has ended by the day the file is received
    (`_period`), so such a date is never in the future either."""
    if period is not None and when > parse_period(period).end:
        check.add(fld, "日期晚于期间末", raw, f"{parse_period(period).end.isoformat()} 或更早"
                  f"（{period} 的情况写入 {period} 的报送，其后的写入下一期）")


def _check_statement(raw: dict, check: _RowCheck, registry: Registry, today: date) -> dict:
    row = {f: raw[f] for f in ("progress", "problems", "next_steps", "evidence", "monthly")}
    task_id = _norm_id(raw["task_id"])
    task = registry.tasks.get(task_id) if task_id != "二" else None
    if not task_id:
        check.add("task_id", "必填项为空", raw["task_id"], "任务编号")
    elif task is None:
        check.add("task_id", "未知任务编号", raw["task_id"],
                  "tasks.yaml 或模板中的任务编号，如 三(二)1")
    period = _period(raw["period"], check, today)
    dept = None
    if task is not None:
        # 六(二)–六(四) name no department: any department may account for them.
        allowed = task.departments or tuple(registry.departments)
        dept = _department(raw["department"], allowed, check, registry, "任务")
    if period is not None:
        monthly = len(period) == 7
        if not monthly and not raw["progress"].strip():
            check.add("progress", "主要进展为空", raw["progress"],
                      "年度报送须填写主要进展")
        if monthly and not (raw["monthly"].strip() or raw["progress"].strip()):
            check.add("monthly", "本月进展为空", raw["monthly"],
                      "月度报送填写本月进展（200 字以内）")
    for fld in ("progress", "problems", "next_steps", "evidence", "monthly"):
        _limit(raw, fld, check)
    for item in _EVIDENCE_SPLIT.split(raw["evidence"]):
        if not item.strip():
            continue
        when = _date(item)
        if when is None:
            check.add("evidence", "佐证材料缺少日期", item,
                      "文件名加日期，如《……工作方案》（2025-06-30）")
        else:
            _dated(check, "evidence", item, when, period)
    row.update(task_id=task_id if task else None, period=period, department=dept,
               status=_status(raw["status"], check))
    return row


def _check_project(raw: dict, check: _RowCheck, registry: Registry, today: date) -> dict:
    pid = _norm_id(raw["project_id"]).lower()
    project = registry.projects.get(pid)
    if not pid:
        check.add("project_id", "必填项为空", raw["project_id"],
                  "项目编号")
    elif project is None:
        check.add("project_id", "未知项目编号", raw["project_id"],
                  "projects.yaml 或模板中的项目编号，如 prj_jianjin_railway")
    period = _period(raw["period"], check, today)
    dept = None
    if project is not None:
        dept = _department(raw["department"], project.departments, check, registry, "项目")
    stage = figure_rows.normalise(raw["stage"])
    if stage not in REPORTED_STAGES:
        check.add("stage", "阶段不在阶段表中", raw["stage"],
                  " / ".join(REPORTED_STAGES))
    when = _date(raw["stage_date"])
    stage_date = when.isoformat() if when else None
    if not raw["stage_date"].strip():
        check.add("stage_date", "必填项为空", raw["stage_date"],
                  "进入或确认处于当前阶段的日期，如 2025-06-30")
    elif when is None or not _DATE.fullmatch(raw["stage_date"].strip()):
        check.add("stage_date", "日期格式不对", raw["stage_date"], "如 2025-06-30")
        stage_date = None
    else:
        _dated(check, "stage_date", raw["stage_date"], when, period)
    for fld in ("note", "image_progress", "problems"):
        _limit(raw, fld, check)
    return {"project_id": pid if project else None, "period": period, "department": dept,
            "stage": stage, "stage_date": stage_date, "note": raw["note"],
            **investment.check_investment(raw, check), "image_progress": raw["image_progress"],
            "problems": raw["problems"], "status": _status(raw["status"], check)}


# ---------------------------------------------------------------- the stores


def statement_file(data: Path, code: str) -> Path:
    return paths.statements_dir(data) / f"{code}.csv"


def project_stage_file(data: Path, code: str) -> Path:
    return paths.project_stages_dir(data) / f"{code}.csv"


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A statements or project-stages store file; a damaged one (not UTF-8, a short row, text
    in a number column) is a StoreDamaged naming file, row and column (exit 2)."""
    if not path.is_file():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    where = f"{path.parent.name}/{path.name}"
    fix = "从备份恢复该文件，或删除后重新报送该部门的进展表"
    try:
        raw = path.read_bytes()
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise StoreDamaged(f"存储文件 {where} 第 {line} 行不是 "
                           "UTF-8 文本（可能被另存为 GBK）", hint=fix) from None
    except OSError as exc:
        raise EnvironmentFault.from_os(exc, path, doing="读取") from None
    # a build reads each file for its check, its chapters and its input hashes
    return _READ.get((where, columns, sha256_bytes(raw)),
                     lambda: _parse(raw, where, columns, fix)).copy()


_READ = ByContent(64)  # a statements or project-stages file each (a department's)


def _parse(raw: bytes, where: str, columns: tuple[str, ...], fix: str) -> pd.DataFrame:
    df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, na_filter=False,
                     encoding="utf-8")
    for c in columns:  # a file written before a column was added reads it as empty
        if c not in df.columns:
            df[c] = ""
    for c in ("revision", "row"):
        bad = ~df[c].str.fullmatch(r"\d+")
        if bad.any():
            n = int(bad.to_numpy().argmax())
            raise StoreDamaged(f"存储文件 {where} 第 {n + 2} 行“{c}”列应为整数，实为 "
                               f"{df[c].iat[n]!r}（该行被截短或错位）", hint=fix)
        df[c] = df[c].astype("int64")
    return df


def write_table(path: Path, df: pd.DataFrame, columns: tuple[str, ...], tx: Commit) -> None:
    """Write a statements or project-stages file in `tx`, sorted: same rows, same bytes."""
    key = [columns[0], "period", "department", "revision"]
    df = df[list(columns)].sort_values(key, kind="stable")
    tx.write(path, df.to_csv(index=False, lineterminator="\n").encode("utf-8"))


_KINDS = (("statement", STATEMENT_COLUMNS, statement_file, "task_id"),
          ("project", PROJECT_COLUMNS, project_stage_file, "project_id"))
# What a statement or a stage report says: a resent row equal in these adds no revision.
CONTENT = {"statement": ["progress", "problems", "next_steps", "evidence", "monthly", "status"],
           "project": ["stage", "stage_date", "note", *investment.NUMBER_FIELDS, "investment_unit",
                       "image_progress", "problems", "status"]}


def _plan(data: Path, registry: Registry, rows: dict[str, list[dict]],
          result: FileResult) -> dict[str, pd.DataFrame]:
    """Per kind, the rows to store with their revisions: new keys and changed rows only (the
    rule of store.submission.classify_rows); the receipt counts new, revised, unchanged."""
    planned: dict[str, pd.DataFrame] = {}
    for kind, columns, file_of, key in _KINDS:
        if not rows[kind]:
            continue
        new = pd.DataFrame(rows[kind])
        keys = [key, "period", "department"]
        old = pd.concat([_read(file_of(data, department_code(registry, d)), columns)
                         for d in new["department"].unique()], ignore_index=True)
        current = latest_revisions(old, key) if len(old) else old
        classes = submission.classify_rows(current, new, keys, CONTENT[kind])
        for name in ("new", "revised", "unchanged"):
            n = int((classes.kind == name).sum())
            setattr(result, f"rows_{name}", getattr(result, f"rows_{name}") + n)
        for i in np.flatnonzero((classes.kind == "revised").to_numpy()):
            r, was = new.iloc[i], classes.old.iloc[i]
            if kind == "project" and was["stage"] != r["stage"]:
                what = f"{was['stage']} → {r['stage']}"
            else:
                what = "、".join((STATEMENT_FIELDS if kind == "statement" else PROJECT_FIELDS)[c][0]
                                for c in CONTENT[kind] if str(was[c]) != str(r[c])) + " 有改动"
            result.changes.append(f"{r[key]} {r['period']} {r['department']}：{what}")
        top = old.groupby(keys)["revision"].max().to_dict() if len(old) else {}
        out = new[classes.stored.to_numpy()].copy()
        out["revision"] = [int(top.get(k, 0)) + 1 for k in zip(
            out[key], out["period"], out["department"], strict=True)]
        planned[kind] = out
    return planned


def _write(data: Path, registry: Registry, planned: dict[str, pd.DataFrame],
           result: FileResult, tx: Commit, *, source_file: str = "") -> list[Path]:
    """Append the planned rows to the store file of each row's department."""
    written = []
    for kind, columns, file_of, _key in _KINDS:
        new = planned.get(kind)
        if new is None or new.empty:
            continue
        new = new.assign(received_at=result.received_at, file_sha256=result.sha256,
                         original_name=result.path.name, source_file=source_file)
        for dept in sorted(new["department"].unique(), key=registry.department_order):
            path = file_of(data, department_code(registry, dept))
            part = new[new["department"] == dept]
            write_table(path, pd.concat([_read(path, columns), part[list(columns)]],
                                        ignore_index=True), columns, tx)
            written.append(path)
    return written


def _store(data: Path, registry: Registry, rows: dict[str, list[dict]],
           result: FileResult, tx: Commit, *, source_file: str = "") -> list[Path]:
    """Store accepted rows as next revisions, unchanged rows adding nothing. `source_file`:
    the data-relative path of a file kept in the data package itself (the sample's), else ""
    (the archived submission)."""
    return _write(data, registry, _plan(data, registry, rows, result), result, tx,
                  source_file=source_file)


def _load(folder: Path, columns: tuple[str, ...], data: Path) -> pd.DataFrame:
    frames = []
    for f in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        df = _read(f, columns)
        df["file"] = f.relative_to(data).as_posix()
        frames.append(df)
    if not frames:
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in (*columns, "file")})
        return out
    return pd.concat(frames, ignore_index=True)


def load_statements(data: Path) -> pd.DataFrame:
    """Every stored statement, all revisions, with `file` (the store file, data-relative)."""
    return _load(paths.statements_dir(data), STATEMENT_COLUMNS, data)


def load_project_stages(data: Path) -> pd.DataFrame:
    return _load(paths.project_stages_dir(data), PROJECT_COLUMNS, data)


def store_files(data: Path) -> list[Path]:
    """The statement and project-stage files (inputs of the report)."""
    out = []
    for folder in (paths.statements_dir(data), paths.project_stages_dir(data)):
        out += sorted(folder.glob("*.csv")) if folder.is_dir() else []
    return out


def as_of(df: pd.DataFrame, cut_off: str | None, period=None) -> pd.DataFrame:
    """The rows a report with data cut-off `cut_off` (and period) may use (frozen periods:
    store.observations.load_all)."""
    from planbook.store.observations import received_by, upto

    df = received_by(df, cut_off)
    return upto(df, period) if period is not None and not df.empty else df


def input_hashes(data: Path, *, cut_off: str | None, period) -> dict[Path, str]:
    """Per statement or project-stage file, sha256 of the rows a report can use."""
    from planbook.hashing import sha256_bytes

    out = {}
    for folder, columns in ((paths.statements_dir(data), STATEMENT_COLUMNS),
                            (paths.project_stages_dir(data), PROJECT_COLUMNS)):
        for f in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
            rows = as_of(_read(f, columns), cut_off, period)
            out[f] = sha256_bytes(rows[list(columns)].to_csv(index=False, lineterminator="\n")
                                  .encode("utf-8"))
    return out


def latest_revisions(df: pd.DataFrame, key: str) -> pd.DataFrame:
    if df.empty:
        return df
    order = df.sort_values([key, "period", "department", "revision"], kind="stable")
    return order.drop_duplicates([key, "period", "department"], keep="last").reset_index(
        drop=True)


def input_row(r: dict, kind: str = "statement") -> dict:
    """An audit input row pointing at the submission: the archived file, sheet and row."""
    key = r["task_id"] if kind == "statement" else r["project_id"]
    ext = Path(str(r["original_name"])).suffix.lower().lstrip(".") or "bin"
    # A department's rows come from its archived submission (data/submissions/, not in git);
    # the sample's from its committed file (data/sample/, store.sample_progress).
    file = r.get("source_file") or f"submissions/{r['file_sha256']}.{ext}"
    return {"indicator_id": f"{kind}:{key}:{r['department']}", "period": str(r["period"]),
            "revision": int(r["revision"]), "file_sha256": r["file_sha256"],
            "file": file, "sheet": r["sheet"] or "",
            "row": int(r["row"]), "store": r.get("file", "")}


# ---------------------------------------------------------------- templates

_STATEMENT_TEMPLATE = (("task_id", 10), ("任务名称", 24), ("责任分工", 8), ("period", 9),
                       ("department", 14), ("progress", 50), ("problems", 30),
                       ("next_steps", 30), ("evidence", 36), ("monthly", 30), ("status", 10))
_PROJECT_TEMPLATE = (("project_id", 30), ("项目名称", 26), ("目标阶段", 8), ("目标年份", 8),
                     ("period", 9), ("department", 14), ("stage", 10), ("stage_date", 12),
                     ("note", 36), ("total_investment", 12), ("annual_plan_investment", 12),
                     ("completed_investment", 12), ("investment_unit", 8),
                     ("image_progress", 30), ("problems", 30), ("status", 10))


def _header(key: str, fields: dict[str, tuple[str, str]]) -> str:
    return fields[key][0] if key in fields else key


def write_templates(registry: Registry, period, out: Path) -> list[Path]:
    """<code>-<period>-工作进展.xlsx for every department responsible for a task: one
    工作进展 row per task it leads or co-leads, one 项目进展 row per named project it leads."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    out.mkdir(parents=True, exist_ok=True)
    monthly = len(period.code) == 7
    depts = sorted({d for t in registry.tasks.values() for d in t.departments},
                   key=registry.department_order)
    written = []
    for dept in depts:
        tasks = [t for t in registry.tasks.values() if dept in t.departments]
        projects = [p for p in registry.projects.values() if p.lead == dept]
        wb = Workbook()
        ws = wb.active
        ws.title = STATEMENT_SHEET
        wb.properties.creator = "planbook"
        wb.properties.title = f"{dept} {period.label_zh} 工作进展报送表"
        cols = [c for c in _STATEMENT_TEMPLATE if monthly or c[0] != "monthly"]
        ws.append([_header(k, STATEMENT_FIELDS) for k, _ in cols])
        for t in tasks:
            role = "牵头" if t.lead == dept else "配合"
            values = {"task_id": t.id, "任务名称": t.title, "责任分工": role,
                      "period": period.code, "department": dept, "status": STATUS_ZH["provisional"]}
            ws.append([values.get(k) for k, _ in cols])
        sheets = [(ws, cols)]
        if projects:
            ps = wb.create_sheet(PROJECT_SHEET)
            pcols = list(_PROJECT_TEMPLATE)
            ps.append([_header(k, PROJECT_FIELDS) for k, _ in pcols])
            for p in projects:
                values = {"project_id": p.id, "项目名称": p.name_zh, "目标阶段": p.target_stage,
                          "目标年份": p.target_year, "period": period.code, "department": dept,
                          "investment_unit": investment.STORED_UNIT,
                          "status": STATUS_ZH["provisional"]}
                ps.append([values.get(k) for k, _ in pcols])
            stage = DataValidation(type="list", formula1='"' + ",".join(REPORTED_STAGES) + '"',
                                   errorTitle="当前阶段",
                                   error="填 " + "、".join(REPORTED_STAGES) + " 之一。")
            ps.add_data_validation(stage)
            col = get_column_letter(pcols.index(("stage", 10)) + 1)
            stage.add(f"{col}2:{col}{len(projects) + 1}")
            sheets.append((ps, pcols))
        for sheet, columns in sheets:
            for n, (_key, width) in enumerate(columns, 1):
                cell = sheet.cell(row=1, column=n)
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="D9E1F2")
                sheet.column_dimensions[get_column_letter(n)].width = width
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    cell.number_format = "@"  # text: Excel would turn 2025-09 into a date
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.freeze_panes = "C2"
        notes = wb.create_sheet("说明")
        notes.column_dimensions["A"].width = 110
        limits = "、".join(f"{STATEMENT_FIELDS.get(f, PROJECT_FIELDS.get(f, (f,)))[0]} {n} 字"
                          for f, n in TEXT_LIMITS.items())
        for r, text in enumerate((
                f"{dept} {period.label_zh} 工作进展报送说明",
                f"1. “{STATEMENT_SHEET}”每行是本单位牵头或配合的一项任务。"
                + ("月度报送填写本月进展（简要）。" if monthly else "年度报送必须填写主要进展。"),
                "2. 存在问题、下步打算按实际填写；佐证材料写文件名和日期，多份用“；”分隔，"
                "如：《……实施方案》（2025-06-30）；《……验收报告》（2025-11-15）。",
                f"3. 字数上限：{limits}。文字按原样保存，不作改动。",
                f"4. “{PROJECT_SHEET}”每行是本单位牵头的一个方案点名项目：当前阶段填 "
                + "、".join(REPORTED_STAGES) + " 之一，阶段日期填进入该阶段或确认处于该阶段的日期"
                "（如 2025-06-30，不晚于期间末）。投资填数字不带单位，单位写在“投资单位”列"
                "（万元 或 亿元）：总投资为项目计划总投资，年度计划投资为本期计划数，"
                "累计完成投资为 2023 年 1 月 1 日以来累计完成数（与“重点项目累计完成投资”指标同口径），"
                "均不能为负，累计完成投资和年度计划投资不超过总投资；形象进度写工程实物进度"
                "（如 主体结构完成 60%），存在问题按实际填写。",
                "5. 未填写的行不计入报送。整份文件有任何问题即整份退回，问题逐条列出工作表和单元格"
                "（如 F3）；同一任务同一期间内容有改动的作为新的修订版次保存，与已存相同的行不新增"
                "版次，同一文件重复提交不新增任何数据。",
                "6. 提交：评估组运行 `planbook ingest 文件名` 校验入库（可先加 --dry-run 只校验）。"),
                1):
            cell = notes.cell(row=r, column=1, value=text)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if r == 1:
                cell.font = Font(bold=True, size=14)
        path = out / f"{department_code(registry, dept)}-{period.code}-工作进展.xlsx"
        wb.save(path)
        written.append(path)
    return written
