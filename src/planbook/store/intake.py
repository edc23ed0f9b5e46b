"""Reading department files (.xlsx, .csv), validating every row, storing the accepted ones.

A submission file has the columns `indicator_id 指标编号, period 期间, value 数值, unit 单位,
status 数据状态, source 数据来源, note 备注` (English or Chinese headers; the read-only
columns of a department template, 指标名称/目标值/上期值, are ignored).

Rules, in the words the template's 说明 sheet repeats to departments:

- Each file is all or nothing. A file with any problem is not stored; every problem in it is
  listed at once with file, sheet and cell as Excel names it (C5, with the header as
  written; a CSV: its row as the file shows it, header = row 1), the value seen and what
  was expected, in Chinese only.
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

Resending is harmless (idempotent intake, the rule every workbook kind shares:
store.submission.classify_rows):
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
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

from planbook.errors import Problem
from planbook.plan.registry import Registry, load_registry
from planbook.store import plausibility
from planbook.store.commit import Commit, transaction
from planbook.store.figure_rows import validate_file
from planbook.store.observations import (
    COLUMNS,
    STATUS_ZH,
    append_rows,
    format_value,
    format_values,
    latest,
    load_observations,
    next_revisions,
    sha256_bytes,
    store_lock,
)
from planbook.store.sheets import cell_name
from planbook.store.submission import (
    FileResult,
    IngestReport,
    accepted_before,
    archive_bytes,
    classify_rows,
    department_code,
    read_submission,
    receipt,
    write_record,
)

# ---------------------------------------------------------------- entry point


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
    today, stamp = receipt(received, today)
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
    content = read_submission(path, result)
    if content is None:  # not read as a submission: nothing archived
        return result
    result.sha256 = sha256_bytes(content)
    result.duplicate_of = accepted_before(data, result.sha256)
    planned = None
    if not result.duplicate_of:
        accepted = validate_file(path, content, registry, today, result)
        if accepted is not None and len(accepted):
            # the touched indicators' whole history: what plausibility and revisions need
            store = load_observations(data, indicators=accepted["indicator_id"].unique())
            _check_plausible(registry, accepted, store, result, confirm)
            if result.accepted:
                planned = _plan(store, accepted, result)
    if not dry_run:  # archive, store rows and record: one commit, all or nothing
        with transaction(data) as tx:
            result.archived = archive_bytes(data, path, content, result.sha256, result.mode, tx)
            if planned is not None and len(planned):
                result.stored_in = _store(data, registry, planned, tx)
            result.record = write_record(data, result, tx)
    return result


def _check_plausible(registry: Registry, rows: pd.DataFrame, store: pd.DataFrame,
                     result: FileResult, confirm: bool) -> None:
    """Flagged rows pass only when confirmed (--confirm or a 备注); else each is a problem
    naming every comparison it failed: 培养高技能人才 11060：是上期值1086的10.2倍，…"""
    flags = plausibility.check_rows(registry, rows, store)
    unconfirmed = 0
    for idx, found in flags.items():
        row = rows.loc[idx]
        ind = registry.indicators[found[0].indicator_id]
        text = (f"{ind.name_zh} {format_value(found[0].value)}：" + "，".join(
            f.message for f in found))
        explained = bool(row["_note_typed"])
        if confirm or explained:
            how = "备注：" + row["_note_typed"] if explained else "--confirm"
            result.confirmed.append(f"{found[0].period} {text}（{how}）")
            continue
        unconfirmed += 1
        result.problems.append(Problem(
            f"数值需核实：{text}", file=result.path.name,
            sheet=row["_sheet"] or None, row=int(row["_row"]), column=row["_value_col"],
            cell=cell_name(row["_sheet"] or None, int(row["_value_pos"]), int(row["_row"])),
            entry=ind.id, value=row["_value_raw"],
            expected="核实无误后在备注中说明原因，或以 --confirm 重新提交"))
    if unconfirmed:
        result.rows_with_problems = len({i for i in flags})
        result.rows_refused, result.rows_accepted = result.rows_read, 0


CONTENT = ["value", "unit", "status", "source", "note"]  # a revision changes one of these


def _plan(store: pd.DataFrame, rows: pd.DataFrame, result: FileResult) -> pd.DataFrame:
    """The rows to store: new keys and changed values, each with its revision number."""
    rows = rows[[c for c in rows.columns if not c.startswith("_")]].copy()
    rows["received_at"] = result.received_at
    rows["file_sha256"] = result.sha256
    current = latest(store)
    if current.empty:
        current = pd.DataFrame(columns=["indicator_id", "period", *CONTENT])
    classes = classify_rows(current, rows, ["indicator_id", "period"], CONTENT,
                            norm={"value": format_values})
    classes.count(result)
    revised = classes.kind == "revised"
    old = classes.old[revised]
    for (_, rec), (_, was) in zip(rows[revised].iterrows(), old.iterrows(), strict=True):
        status = (f"（{STATUS_ZH.get(was['status'], was['status'])} → "
                  f"{STATUS_ZH.get(rec['status'], rec['status'])}）"
                  if was["status"] != rec["status"] else "")
        result.changes.append(f"{rec['indicator_id']} {rec['period']}："
                              f"{format_value(was['value'])} → {format_value(rec['value'])}"
                              f"{status}")
    out = rows[classes.stored.to_numpy()].copy()
    keys = zip(out["indicator_id"].tolist(), out["period"].tolist(), strict=True)
    out["revision"] = next_revisions(store, keys)
    return out


# ---------------------------------------------------------------- storing and archiving


def _store(data: Path, registry: Registry, rows: pd.DataFrame, tx: Commit) -> list[Path]:
    """Append the planned rows (revision set) to the store file of each row's lead department."""
    written = []
    for lead in sorted(rows["submitted_by"].unique(), key=registry.department_order):
        part = rows[rows["submitted_by"] == lead]
        code = department_code(registry, str(lead))
        written.append(append_rows(data, code, part[list(COLUMNS)], tx))
    return written


