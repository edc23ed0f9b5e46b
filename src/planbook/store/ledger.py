"""The village ledger (村级台账): its yearly template and its intake.

Several plan targets are shares of the 229 administrative villages, computed from per-village
records (store.villages). The ledger is how those records arrive: one sheet, a row per village
in its 乡镇（街道）, with the measures the registry derives shares from (集体经济年收入, 经营性
收入, 垃圾分类, 污水处理设施, 无害化户厕, 共富驿站). It goes through the same rules as a
department file (store.intake): every problem located at once (file, sheet, cell),
all or nothing, the file archived under its sha256 with its outcome, a resent file or an
unchanged record adding nothing, a changed record becoming the next revision, an untouched
template skipped. A ledger covers every village of the year it reports: a share of 229
villages cannot be computed from part of them.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from planbook.errors import Problem
from planbook.plan.periods import BASELINE_YEAR, LAST_YEAR, Period
from planbook.plan.registry import Registry, load_registry
from planbook.store import figure_rows, sheets, submission, villages
from planbook.store.commit import Commit, transaction
from planbook.store.observations import format_value, sha256_bytes
from planbook.store.schema import STATUS_ZH
from planbook.store.submission import DEFAULT_STATUS, STATUS_WORDS, FileResult, IngestReport

# field -> header (the template's, and what intake reads)
HEADERS = {
    "village_id": "村编号", "name": "村名", "town": "所属乡镇（街道）", "year": "年份",
    "total_income": "集体经济年收入（万元）", "operating_income": "集体经济经营性收入（万元）",
    "waste_sorting": "垃圾分类", "sewage": "污水处理设施覆盖",
    "sanitary_toilet": "无害化户厕全覆盖", "gongfu_station": "共富驿站",
    "status": "数据状态", "source": "数据来源", "note": "备注",
}
MEASURES = ("total_income", "operating_income", *villages.FLAGS)
LOCKED = ("village_id", "name", "town", "year")
STORED = (*villages.RECORD_COLUMNS, "revision", "file_sha256")
_FLAG_WORDS = {"1": 1, "0": 0, "是": 1, "否": 0, "有": 1, "无": 0, "1.0": 1, "0.0": 0}


def _key(text: object) -> str:
    return re.sub(r"[\s*＊()（）]", "", unicodedata.normalize("NFKC", str(text))).lower()


HEADER_MAP = {_key(h): f for f, h in HEADERS.items()} | {_key(f): f for f in HEADERS}


def is_ledger_header(cells) -> bool:
    found = {HEADER_MAP.get(_key(c)) for c in cells if c not in (None, "")}
    return {"village_id", "year"} <= found


def is_ledger_file(path: Path) -> bool:
    """A village ledger is recognised by its headers (村编号 and 年份). Read within intake's
    limits: a device, pipe or oversized file is left to the figures intake, which refuses it
    before reading (a FIFO would block, /dev/zero never end)."""
    path = Path(path)
    content = submission.read_submission(path, submission.FileResult(path=path))
    if content is None:
        return False
    return bool(_tables(path, content, []))


def _tables(path: Path, content: bytes, problems: list[Problem]):
    reader = sheets.read_csv if path.suffix.lower() == ".csv" else sheets.read_xlsx
    if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
        return []
    return reader(content, path.name, problems, header=is_ledger_header)


# ---------------------------------------------------------------- the template


def villages_list(data: Path) -> pd.DataFrame:
    """The villages a ledger lists: id, name, town of the latest year's records, in town order."""
    recs = villages.load_villages(data)
    if not len(recs):
        return pd.DataFrame(columns=["village_id", "name", "town"])
    last = recs[recs["year"] == recs["year"].max()]
    order = {t: n for n, t in enumerate(villages.TOWNS)}
    last = last.assign(_t=last["town"].map(order).fillna(len(order)))
    return last.sort_values(["_t", "village_id"])[["village_id", "name", "town"]] \
        .reset_index(drop=True)


def write_template(registry: Registry, period: Period, out: Path, data: Path) -> list[Path]:
    """villages-<year>.xlsx: one sheet, a row per village, the measures to fill in. Only for a
    year (the records are yearly)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection

    if period.kind != "year":
        return []
    vlist = villages_list(data)
    if not len(vlist):
        return []
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"villages-{period.code}.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = f"村级台账 {period.code}"
    ws.append(list(HEADERS.values()))
    locked, fill = PatternFill("solid", fgColor="EDEDED"), PatternFill("solid", fgColor="FFF7D6")
    for n, fld in enumerate(HEADERS, 1):
        ws.cell(row=1, column=n).font = Font(bold=True, color="000000" if fld in LOCKED
                                             else "C00000")
        ws.column_dimensions[ws.cell(row=1, column=n).column_letter].width = \
            12 if fld in villages.FLAGS else 18
    for r, v in enumerate(vlist.itertuples(index=False), 2):
        values = {"village_id": v.village_id, "name": v.name, "town": v.town,
                  "year": period.code, "status": STATUS_ZH[DEFAULT_STATUS]}
        for n, fld in enumerate(HEADERS, 1):
            cell = ws.cell(row=r, column=n, value=values.get(fld))
            cell.number_format = "@" if fld in ("village_id", "year") else "General"
            cell.fill = locked if fld in LOCKED else fill
            cell.protection = Protection(locked=fld in LOCKED)
    ws.freeze_panes = "E2"
    ws.protection.sheet = True
    ws.protection.formatColumns = ws.protection.formatRows = False
    notes = wb.create_sheet("说明")
    derived = {}
    for ind in registry.indicators.values():
        if ind.villages:
            derived.setdefault(ind.villages, []).append(ind.name_zh)
    lines = [
        f"村级台账 {period.label_zh}（{len(vlist)} 个行政村，{vlist['town'].nunique()} 个乡镇街道）",
        f"1. 每行一个行政村，灰色列（村编号、村名、所属乡镇（街道）、年份）已锁定。自 "
        f"{figure_rows.reportable_from(period.code)} 起可报送。",
        "2. 填写：集体经济年收入、经营性收入（万元，≥0，经营性收入不大于年收入）；垃圾分类、"
        "污水处理设施覆盖、无害化户厕全覆盖、共富驿站填 1（是）或 0（否）。",
        "3. 须填齐全部行政村：方案中的各项占比以全部行政村为分母，缺任何一村整份退回。",
        "4. 系统据此计算的指标：" + "；".join(
            f"{villages.MEASURES[m][0]} → {'、'.join(names)}" for m, names in derived.items()),
        "5. 提交：评估组运行 `planbook ingest 文件名` 校验入库，规则与部门报表相同（整份文件有任何"
        "问题即整份退回，逐条列出单元格（如 H3）；与已存相同的记录不新增版次，改动的记录作为新修订版次保存）。",
    ]
    for r, text in enumerate(lines, 1):
        cell = notes.cell(row=r, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True)
        if r == 1:
            cell.font = Font(bold=True, size=14)
    notes.column_dimensions["A"].width = 110
    wb.active = 0
    wb.save(path)
    return [path]


# ---------------------------------------------------------------- intake


def ingest(files: list[Path], data: Path, *, dry_run: bool = False, today: date | None = None,
           received: date | None = None, check: bool = True,
           registry: Registry | None = None) -> IngestReport:
    """Validate each ledger, store the accepted records, archive every file (unless dry_run).
    As store.intake.ingest: check=True raises SubmissionRefused after all files."""
    registry = registry or load_registry(data)
    today, stamp = submission.receipt(received, today)
    import contextlib

    from planbook.store.observations import store_lock

    with contextlib.nullcontext() if dry_run else store_lock(data):  # one writer at a time
        results = [_one(Path(f), data, today, dry_run, stamp) for f in files]
    report = IngestReport(files=results, dry_run=dry_run, data=data)
    if check:
        report.raise_for_refused()
    return report


def _one(path: Path, data: Path, today: date, dry_run: bool, stamp: str) -> FileResult:
    result = FileResult(path=path, received_at=stamp)
    content = submission.read_submission(path, result)  # type, regular file, size limits
    if content is None:
        return result
    result.sha256 = sha256_bytes(content)
    result.duplicate_of = submission.accepted_before(data, result.sha256)
    planned = None
    if not result.duplicate_of:
        rows = _validate(path, content, data, today, result)
        if rows is not None and result.accepted:
            planned = _plan(data, rows, result)
    if not dry_run:  # archive, store records and outcome: one commit, all or nothing
        with transaction(data) as tx:
            result.archived = submission.archive_bytes(data, path, content, result.sha256,
                                                       result.mode, tx)
            if planned is not None and len(planned):
                _store(data, planned, tx)
                result.stored_in = [villages.village_file(data)]
            result.record = submission.write_record(data, result, tx)
    return result


def _validate(path: Path, content: bytes, data: Path, today: date,
              result: FileResult) -> pd.DataFrame | None:
    name = path.name
    problems = result.problems
    tables = _tables(path, content, problems)
    if not tables and not problems:
        problems.append(Problem("找不到村级台账表头", file=name,
                                expected="列名行包含 村编号、年份"))
    if problems:
        return None
    frames = []
    for table in tables:
        cols = {}
        for pos, header in enumerate(table.headers):
            fld = HEADER_MAP.get(_key(header))
            if fld and fld not in cols:
                cols[fld] = pos
        missing = [f for f in ("village_id", "year", *MEASURES) if f not in cols]
        for f in missing:
            problems.append(Problem("缺少必填列", file=name,
                                    sheet=table.sheet, row=table.header_row, column=HEADERS[f]))
        if missing:
            continue
        frame = pd.DataFrame({"_sheet": table.sheet, "_row": table.rows})
        for fld in HEADERS:
            frame[fld] = (table.cells[cols[fld]].astype(str).map(figure_rows.normalise)
                          if fld in cols else "")
        frame["_headers"] = [dict((f, table.headers[p]) for f, p in cols.items())] * len(frame)
        frame["_pos"] = [dict(cols)] * len(frame)
        frames.append(frame)
    if problems:
        return None
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[(frame[list(HEADERS)] != "").any(axis=1)].reset_index(drop=True)
    filled = (frame[list(MEASURES)] != "").any(axis=1)
    result.rows_skipped = int((~filled).sum())
    frame = frame[filled].reset_index(drop=True)
    result.rows_read = len(frame)
    if not len(frame):  # an untouched template: nothing to report yet
        result.empty_template = True
        return None

    bad = np.zeros(len(frame), dtype=bool)

    def add(i: int, fld: str, message: str, expected: str) -> None:
        bad[i] = True
        r = frame.iloc[i]
        problems.append(Problem(message, file=name, sheet=r["_sheet"], row=int(r["_row"]),
                                column=r["_headers"].get(fld, HEADERS[fld]),
                                cell=_cell(r, fld),
                                entry=r["village_id"] or None, value=r[fld], expected=expected))

    known = villages_list(data).set_index("village_id")
    years = pd.to_numeric(frame["year"].str.replace("年", ""), errors="coerce")
    future_rows = []
    for i, r in frame.iterrows():
        vid = r["village_id"].upper()
        frame.at[i, "village_id"] = vid
        if vid not in known.index:
            add(i, "village_id", "未知村编号", "模板中的村编号")
        elif r["town"] and r["town"] != known.at[vid, "town"]:
            add(i, "town", "所属乡镇与台账不一致", known.at[vid, "town"])
        y = years.iloc[i]
        if pd.isna(y) or y != int(y):
            add(i, "year", "年份格式不对", "如 2025")
        elif not BASELINE_YEAR <= int(y) <= LAST_YEAR:
            add(i, "year", "年份不在方案期内", f"{BASELINE_YEAR}—{LAST_YEAR}")
        elif date(int(y), 12, 31) >= today:
            future_rows.append(i)
        for fld in ("total_income", "operating_income"):
            v = pd.to_numeric(r[fld].replace(",", ""), errors="coerce")
            if r[fld] == "":
                add(i, fld, "必填项为空", "万元数")
            elif pd.isna(v):
                add(i, fld, "数值不是数字", "万元数，如 62.5")
            elif v < 0:
                add(i, fld, "收入不能为负", "≥ 0")
        t = pd.to_numeric(r["total_income"], errors="coerce")
        o = pd.to_numeric(r["operating_income"], errors="coerce")
        if pd.notna(t) and pd.notna(o) and o > t:
            add(i, "operating_income", "经营性收入大于年收入",
                f"≤ {format_value(t)}")
        for fld in villages.FLAGS:
            if r[fld] not in _FLAG_WORDS:
                add(i, fld, "只能填 1 或 0", "1（是）或 0（否）")
        if STATUS_WORDS.get(r["status"].lower(), DEFAULT_STATUS if not r["status"] else None) \
                is None:
            add(i, "status", "数据状态无效", "正式统计或部门报送（留空即部门报送）")
    if future_rows:  # the period rule, once per file
        for i in future_rows:
            bad[i] = True
        r = frame.iloc[future_rows[0]]
        ys = sorted({str(int(years.iloc[i])) for i in future_rows})
        problems.append(Problem(
            f"年份尚未结束：共 {len(future_rows)} 行", file=name,
            sheet=r["_sheet"], row=int(r["_row"]), column=r["_headers"].get("year", "年份"),
            cell=_cell(r, "year"),
            value="、".join(ys), expected="；".join(f"{y} 年自 {figure_rows.reportable_from(y)} 起可报送"
                                                 for y in ys)))
    dup = frame.duplicated(["village_id", "year"], keep=False)
    for i in np.flatnonzero(dup.to_numpy()):
        add(int(i), "village_id", "同一村同一年份重复",
            "每村每年一行")
    for y, group in frame[years.notna()].groupby(years[years.notna()].astype(int)):
        absent = sorted(set(known.index) - set(group["village_id"]))
        if absent:
            r = group.iloc[0]
            shown = "、".join(absent[:20]) + ("等" if len(absent) > 20 else "")
            problems.append(Problem(
                f"台账不完整：{y} 年缺 {len(absent)} 个行政村", file=name,
                sheet=r["_sheet"], row=int(r["_row"]), column=r["_headers"].get("village_id"),
                cell=_cell(r, "village_id"),
                value=shown, expected=f"全部 {len(known)} 个行政村各一行"))
    result.rows_with_problems = int(bad.sum())
    if problems:
        result.rows_refused = result.rows_read
        return None
    result.rows_accepted = result.rows_read
    out = pd.DataFrame({
        "village_id": frame["village_id"],
        "name": frame["village_id"].map(known["name"]),
        "town": frame["village_id"].map(known["town"]),
        "year": years.astype(int).astype(str),
        "total_income": [format_value(float(v.replace(",", ""))) for v in frame["total_income"]],
        "operating_income": [format_value(float(v.replace(",", "")))
                             for v in frame["operating_income"]],
        **{f: frame[f].map(_FLAG_WORDS).astype(str) for f in villages.FLAGS},
        "status": [STATUS_WORDS.get(s.lower(), DEFAULT_STATUS) if s else DEFAULT_STATUS
                   for s in frame["status"]],
        "source": frame["source"],
    })
    return out


def _cell(r: pd.Series, fld: str) -> str | None:
    """The Excel name of a row's cell in column `fld` (None in a CSV)."""
    return sheets.cell_name(r["_sheet"], r["_pos"].get(fld), int(r["_row"]))


def _records_text(data: Path) -> pd.DataFrame:
    path = villages.village_file(data)
    if not path.is_file():
        return pd.DataFrame(columns=list(STORED))
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for c in STORED:
        if c not in df.columns:
            df[c] = "1" if c == "revision" else ""
    return df


CONTENT = ["total_income", "operating_income", *villages.FLAGS, "status", "source"]


def _plan(data: Path, rows: pd.DataFrame, result: FileResult) -> pd.DataFrame:
    """New or changed records, each with its revision; unchanged ones add nothing (the rule
    of store.submission.classify_rows)."""
    old = _records_text(data)
    old = old.assign(_rev=pd.to_numeric(old["revision"], errors="coerce").fillna(1))
    current = old.assign(_real=(old["status"] != "sample").astype(int)).sort_values(
        ["year", "village_id", "_real", "_rev"]).drop_duplicates(["year", "village_id"],
                                                                 keep="last")
    top = old.groupby(["year", "village_id"])["_rev"].max()
    norm = {c: (lambda s: s.map(_norm)) for c in CONTENT}
    classes = submission.classify_rows(current, rows, ["year", "village_id"], CONTENT, norm)
    classes.count(result)
    for i in np.flatnonzero((classes.kind == "revised").to_numpy()):
        r, was = rows.iloc[i], classes.old.iloc[i]
        changed = [f"{HEADERS[c]} {was[c]} → {r[c]}" for c in CONTENT
                   if _norm(was[c]) != _norm(r[c])]
        result.changes.append(f"{r['village_id']} {r['name']} {r['year']}：" + "，".join(changed))
    out = rows[classes.stored.to_numpy()].copy()
    out["revision"] = [str(int(top.get((y, v), 0)) + 1)
                       for y, v in zip(out["year"], out["village_id"], strict=True)]
    out["received_at"] = result.received_at
    out["file_sha256"] = result.sha256
    return out


def _norm(v: object) -> str:
    text = str(v)
    try:
        return format_value(float(text))
    except ValueError:
        return text


def _store(data: Path, rows: pd.DataFrame, tx: Commit) -> None:
    """Append the records (the file keeps every revision; reports read the latest)."""
    old = _records_text(data)
    both = pd.concat([old, rows], ignore_index=True).fillna("")
    cols = [c for c in STORED] + [c for c in both.columns if c not in STORED]
    buf = io.StringIO()
    both[cols].to_csv(buf, index=False, lineterminator="\n")
    tx.write(villages.village_file(data), buf.getvalue().encode("utf-8"))
