"""Department workbooks to fill in: one .xlsx per lead department, plus a CSV twin.

The data sheet's header row is exactly what intake reads (Chinese headers), so a filled
template goes straight back through `planbook ingest`. Id, name, unit, target, last value
and period are locked (sheet protection, no password: it guards against slips, not people);
value, status, source and note are the cells to fill in, with Excel data validation on the
value cells mirroring the checks intake makes.

A last value (上期值) that is illustrative sample data says so in its cell, `987（2024年，示例数据）`,
and the 说明 sheet then explains the mark: a department must not take it for its own figure.
Intake ignores the column, so the mark costs nothing on the way back in.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from planbook.escape import csv_cell, formula_like
from planbook.plan.frequency import FREQUENCY_ZH, due_period, period_note
from planbook.plan.periods import BASELINE_YEAR, LAST_YEAR, Period, parse_period
from planbook.plan.registry import Indicator, Registry
from planbook.store.figure_rows import reportable_from
from planbook.store.observations import format_value, latest, load_observations
from planbook.store.schema import STATUS_ZH
from planbook.store.submission import (
    DEFAULT_STATUS,
    FIELDS,
    MILESTONE_VALUES,
    TEMPLATE_EXTRAS,
    department_code,
)
from planbook.store.units import convertible_units, is_non_negative, is_share

# (key, header, width, fill-in?) in sheet order; headers come from intake's contract
COLUMNS = (
    ("indicator_id", FIELDS["indicator_id"][0], 24, False),
    ("name", TEMPLATE_EXTRAS["name"][0], 34, False),
    ("unit", FIELDS["unit"][0], 8, False),
    ("target", TEMPLATE_EXTRAS["target"][0], 30, False),
    ("last_value", TEMPLATE_EXTRAS["last_value"][0], 24, False),
    ("period", FIELDS["period"][0], 10, False),
    ("value", FIELDS["value"][0], 14, True),
    ("status", FIELDS["status"][0], 12, True),
    ("source", FIELDS["source"][0], 24, True),
    ("note", FIELDS["note"][0], 30, True),
    # last, so the value stays in column G where the 说明 and messages point
    ("period_note", TEMPLATE_EXTRAS["period_note"][0], 30, False),
)
HEADERS = [c[1] for c in COLUMNS]
_COL = {key: n for n, (key, *_) in enumerate(COLUMNS, 1)}
# "＝" (full width): a target text must not start with "=", which Excel reads as a formula
_OPS = {">=": "≥", "<=": "≤", "=": "＝", ">": "＞", "<": "＜"}
_LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
_INPUT_FILL = PatternFill("solid", fgColor="FFF7D6")
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_MAX_VALUE = "1E+15"  # Excel needs bounds for a plain decimal rule
SAMPLE_MARK = "示例数据"  # after the period of a 上期值 that is sample data


def write_templates(registry: Registry, period: Period, out: Path, data: Path) -> list[Path]:
    """Write <code>-<period>.xlsx and .csv for every lead department; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    last = last_values(registry, period, data)
    written = []
    for dept in registry.lead_departments:
        # Village-derived indicators are computed from data/villages/, not reported.
        inds = [i for i in registry.led_by(dept) if not i.villages]
        if not inds:
            continue
        rows = [template_row(i, period, last.get(i.id, "暂无")) for i in inds]
        stem = f"{department_code(registry, dept)}-{period.code}"
        xlsx = out / f"{stem}.xlsx"
        _write_workbook(xlsx, dept, period, inds, rows,
                        sample=any(is_sample_last(r["last_value"]) for r in rows))
        twin = out / f"{stem}.csv"
        # utf-8-sig: the BOM makes Excel on Chinese Windows open it as UTF-8, not GBK.
        with open(twin, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(HEADERS)
            writer.writerows([[csv_cell(r[key]) for key, *_ in COLUMNS] for r in rows])
        written += [xlsx, twin]
    return written


def _text_cell(cell) -> None:
    """Keep a string cell a string: openpyxl makes "=…" a formula; quotePrefix keeps Excel
    from making it one when the cell is edited."""
    if formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def template_row(ind: Indicator, period: Period, last: str) -> dict[str, str]:
    """One indicator's row; its period is the one of its frequency the report asks for
    (the 2026-10 template asks a quarterly indicator for 2026-Q3), said in words beside it."""
    due = due_period(ind, period)
    return {"indicator_id": ind.id, "name": ind.name_zh, "unit": ind.unit,
            "target": target_text(ind), "last_value": last, "period": due.code,
            "value": "", "status": STATUS_ZH[DEFAULT_STATUS], "source": "", "note": "",
            "period_note": f"{FREQUENCY_ZH[ind.frequency]}报送：{period_note(ind, due)}"}


def target_text(ind: Indicator) -> str:
    """≥1000（2025年）；≥1376（2027年）; 每年≥10; 2025年底前完成."""
    parts = []
    for t in sorted(ind.targets, key=lambda t: t.year):
        if t.value is None:
            parts.append(f"{t.year}年底前完成")
        elif t.every_year:
            parts.append(f"每年{_OPS[t.op]}{format_value(t.value)}")
        else:
            parts.append(f"{_OPS[t.op]}{format_value(t.value)}（{t.year}年）")
    return "；".join(parts)


def is_sample_last(text: str) -> bool:
    """Whether a 上期值 as last_values writes it is sample data."""
    return text.endswith(f"，{SAMPLE_MARK}）")


def last_values(registry: Registry, period: Period, data: Path) -> dict[str, str]:
    """Latest stored revision of each indicator for a period that ended before this one,
    `987（2024年）`; `987（2024年，示例数据）` when that row is sample data."""
    store = latest(load_observations(data))
    if store.empty:
        return {}
    store = store[store["indicator_id"].isin(list(registry.indicators))].copy()
    store["_period"] = store["period"].map(parse_period)
    # before the period each row asks for (a quarterly row of 2026-10 asks for 2026-Q3)
    starts = {i: due_period(ind, period).start for i, ind in registry.indicators.items()}
    store = store[[p.end < starts[i] for i, p in zip(store["indicator_id"], store["_period"],
                                                      strict=True)]]
    out = {}
    for ind_id, rows in store.groupby("indicator_id"):
        row = rows.loc[rows["_period"].idxmax()]  # latest end; a year beats its December
        ind = registry.indicators[ind_id]
        value = row["value"]
        shown = (MILESTONE_VALUES.get(float(value), format_value(value))
                 if ind.kind == "milestone" and pd.notna(value) else format_value(value))
        mark = f"，{SAMPLE_MARK}" if row["status"] == "sample" else ""
        out[ind_id] = f"{shown}（{row['_period'].label_zh}{mark}）"
    return out


def _sheet_title(dept: str, period: Period) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", f"{dept} {period.code}")[:31]


def _write_workbook(path: Path, dept: str, period: Period, inds: list[Indicator],
                    rows: list[dict[str, str]], *, sample: bool = False) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(dept, period)
    wb.properties.title = f"{dept} {period.label_zh} 指标数据填报表"
    wb.properties.creator = "planbook"
    ws.append(HEADERS)
    for n, (_, _, width, fill_in) in enumerate(COLUMNS, 1):
        cell = ws.cell(row=1, column=n)
        cell.font = Font(bold=True, color="C00000" if fill_in else "000000")
        cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(n)].width = width
    for r, row in enumerate(rows, 2):
        for n, (key, _, _, fill_in) in enumerate(COLUMNS, 1):
            cell = ws.cell(row=r, column=n, value=row[key] or None)
            _text_cell(cell)
            if key in ("period", "source", "note", "indicator_id"):
                cell.number_format = "@"  # text: Excel would turn 2025-09 into a date
            cell.fill = _INPUT_FILL if fill_in else _LOCKED_FILL
            cell.protection = Protection(locked=not fill_in)
            cell.alignment = Alignment(vertical="top", wrap_text=key in ("name", "target", "last_value",
                                                                    "period_note"))
    _add_validations(ws, inds)
    ws.freeze_panes = "C2"
    ws.protection.sheet = True
    # Widening columns and rows is harmless and helps reading long names.
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    _write_instructions(wb.create_sheet("说明"), dept, period, inds, sample=sample)
    wb.active = 0
    wb.save(path)


def _add_validations(ws, inds: list[Indicator]) -> None:
    col = get_column_letter(_COL["value"])
    share = DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                           errorTitle="比率超出范围", error="比率应在 0 至 100 之间（单位 %）。",
                           promptTitle="比率", prompt="填 0–100 的数，如 55 或 55%。")
    count = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                           errorTitle="不能为负", error="计数或实物量不能为负。",
                           promptTitle="数量", prompt="填不小于 0 的数。")
    number = DataValidation(type="decimal", operator="between", formula1=f"-{_MAX_VALUE}",
                            formula2=_MAX_VALUE, errorTitle="不是数字",
                            error="请填写数字（不带单位）。", promptTitle="数值",
                            prompt="按“单位”列的单位填写数字。")
    for dv in (share, count, number):
        ws.add_data_validation(dv)
    for r, ind in enumerate(inds, 2):
        ref = f"{col}{r}"
        if ind.kind == "milestone":
            # A formula rule relative to its own cell, so one rule per milestone row.
            dv = DataValidation(type="custom", formula1=f"OR({ref}=0,{ref}=0.5,{ref}=1)",
                                errorTitle="节点任务", error="节点任务只能填 1、0.5 或 0。",
                                promptTitle="节点任务",
                                prompt="1 = 已完成，0.5 = 推进中，0 = 未启动。")
            ws.add_data_validation(dv)
            dv.add(ref)
        elif is_share(ind):
            share.add(ref)
        elif is_non_negative(ind):
            count.add(ref)
        else:
            number.add(ref)
    status_col = get_column_letter(_COL["status"])
    # the words the reports print (schema.STATUS_ZH); intake reads them and the old codes
    status = DataValidation(type="list", formula1=f'"{STATUS_ZH["provisional"]},'
                            f'{STATUS_ZH["official"]}"', errorTitle="数据状态",
                            error="填 部门报送 或 正式统计（已公布的统计数）。")
    ws.add_data_validation(status)
    for dv in ws.data_validations.dataValidation:
        dv.showErrorMessage = dv.showInputMessage = True
    status.add(f"{status_col}2:{status_col}{len(inds) + 1}")


def _write_instructions(ws, dept: str, period: Period, inds: list[Indicator], *,
                        sample: bool = False) -> None:
    units = sorted({i.unit for i in inds if i.unit})
    convertible = [f"{u} ↔ {'、'.join(convertible_units(u)[1:])}" for u in units
                   if len(convertible_units(u)) > 1]
    lines = [
        (f"{dept} {period.label_zh} 指标数据填报说明", "title"),
        ("", None),
        ("一、填什么", "h"),
        (f"1. 在“{ws.parent.worksheets[0].title}”工作表中，每行是本单位牵头的一项指标。"
         "灰色单元格（指标编号、指标名称、单位、目标值、上期值、期间、期间说明）已锁定，请勿改动。", None),
        ("2. 只填写黄色单元格：数值（必填）、数据来源、备注；数据状态已预填“部门报送”，"
         "如为统计部门已正式公布的数据，改为“正式统计”。", None),
        (f"3. 本表为 {period.code}（{period.label_zh}）报送，自 {reportable_from(period.code)} 起可报送"
         "（期间结束的次日；此前报送会被退回）。每行的期间按指标的报送频率填好：月度指标为本月，"
         "季度指标为最近结束的季度，年度指标为最近结束的年度；“期间说明”列写明数值的口径"
         "（如 1—3季度累计）。本期暂无数据的指标，数值、数据来源、"
         "备注都留空即可，该行不计入报送；一行都未填写的模板不计入报送。", None),
        *([(f"4. 上期值注明“{SAMPLE_MARK}”的（如 987（2024年，{SAMPLE_MARK}）），是 planbook sample "
            "生成的示例数据，非官方统计，只为演示格式：不能作为本单位数据或核对依据，"
            "请按本单位实际统计填写数值。", None)] if sample else []),
        ("", None),
        ("二、怎么填数值", "h"),
        ("1. 按“单位”列的单位填写纯数字，不要带单位。千分位逗号（1,376）、全角数字都可以识别。", None),
        ("2. 比率类指标（单位 %）填 0 至 100 之间的数，如 55 或 55%。", None),
        ("3. 个、家、人、条、座、户、亩等计数或实物量指标不能为负。", None),
        (f"4. 节点任务（无单位）填：{'，'.join(f'{format_value(v)} = {t}' for v, t in MILESTONE_VALUES.items())}。",
         None),
        ("5. 不要用公式；如用了公式，请保存后再提交（未计算的公式会被退回）。", None),
        (f"6. 本表涉及的单位：{'、'.join(units) or '（无）'}。", None),
        *([("   用 CSV 报送时，可在“单位”列写明可换算的单位，系统自动换算并在备注中注明："
            + "；".join(convertible), None)] if convertible else []),
        ("7. 由村级台账计算的指标（如各类行政村覆盖率）不在本表填报，请报送村级台账。", None),
        ("", None),
        ("三、怎么提交", "h"),
        ("1. 保存本工作簿（.xlsx），或使用同名 CSV 文件（UTF-8 编码；GBK 也可），发送给方案评估组。", None),
        ("2. 评估组运行 `planbook ingest 文件名` 校验入库；可先用 `--dry-run` 只校验不入库。", None),
        ("3. 同一指标同一期间再次报送且数值有改动的，作为新的修订版次保存（列出“原值 → 新值”），"
         "报告使用最新版次，历史版次保留；与已存数值相同的行不新增版次，完全相同的文件重复发送不改变任何数据。",
         None),
        ("4. 与上期相比明显异常的数值（相差 10 倍以上、% 指标填了小数、累计数减少、超出物理范围）"
         "需核实：确认无误的，请在备注中说明原因，否则整份文件退回。", None),
        ("", None),
        ("四、哪些情况会被退回（整份文件退回，全部问题一次列出，注明工作表和单元格，如 C5）", "h"),
        ("· 指标编号不存在；指标编号、期间、数值任一项为空；", None),
        (f"· 期间不在 {BASELINE_YEAR}—{LAST_YEAR} 年之间，或期间尚未结束"
         "（例如 2025-09 须在 2025 年 10 月 1 日后报送，2025 年度数须在 2026 年 1 月 1 日后报送）；", None),
        ("· 数值不是数字；单位与登记不一致且无法换算；比率超出 0—100；计数为负；"
         "节点任务不是 1、0.5、0；", None),
        ("· 同一指标同一期间在文件中出现两次；公式没有计算结果；"
         "数据状态不是“部门报送”或“正式统计”。", None),
    ]
    ws.column_dimensions["A"].width = 110
    for r, (text, style) in enumerate(lines, 1):
        cell = ws.cell(row=r, column=1, value=text or None)
        _text_cell(cell)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if style == "title":
            cell.font = Font(bold=True, size=14)
        elif style == "h":
            cell.font = Font(bold=True)
    ws.protection.sheet = True
