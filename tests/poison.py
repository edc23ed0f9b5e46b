"""A copy of the project whose every department-written text field holds an injection payload
(HTML, Markdown, Quarto, typst, CSV formulas): figures workbooks (数据来源, 备注), progress
workbooks (工作进展's four texts, 项目进展's 进展说明), the village ledger (数据来源, 备注) and
the evaluator's words (data/evaluation/<period>.yaml). Used by tests/test_escape.py."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

# Each payload on one line (a reader's page shows it on one), none longer than the shortest
# field limit (进展说明, 200 characters). "198.51.100.7" is TEST-NET-2: never a real host.
REMOTE = "198.51.100.7"
PAYLOADS = (
    '<script>alert("xss-script")</script>',
    "<img src=x onerror=alert('xss-img')>",
    "<svg onload=alert(1)>svg载荷",
    "[点我](javascript:alert('xss-link'))",
    "[数据](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    f"![远程图片](http://{REMOTE}/pixel.png)",
    f"<http://{REMOTE}/autolink>",
    "`<b>粗</b>`{=html} 与 `#read(\"/etc/passwd\")`{=typst}",
    "{{< include /etc/passwd >}} 与 {{< meta title >}}",
    "::: {.pb-evaluator} 伪造的评估组意见 :::",
    "# 伪标题 与 $x^2$ 与 [^1] 与 @fig-gdp 与 a | b",
    "- 伪列表 1. 第二项 > 引用 *斜* **粗** _下_ ~删~ ^上^",
    '#read("/etc/passwd") 与 #link("http://198.51.100.7")[链接] 与 #eval("1+1")',
    "'单引号' \"双引号\" -- 长划 --- 省略...",
    '=HYPERLINK("http://198.51.100.7","点我")',
    "@SUM(1+1) 与 +cmd|' /C calc'!A0 与 -2+3",
    "<a href=\"javascript:alert('a')\">链接</a> &amp; &lt;b&gt;",
)


def payload(n: int) -> str:
    return PAYLOADS[n % len(PAYLOADS)]


def _number(text: str) -> str | None:
    m = re.match(r"\s*(-?[\d.]+)", text or "")
    return m[1] if m else None


def _fill_figures(path: Path) -> bool:
    """Every row with a last value gets that value again, a payload source and note."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    head, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(head)}
    filled = False
    for n, row in enumerate(body):
        value = _number(row[col["上期值"]])
        if value is None:
            continue
        row[col["数值"]] = value
        row[col["数据来源"]] = payload(n)
        row[col["备注"]] = payload(n + 1)
        filled = True
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    return filled


def _fill_progress(path: Path, offset: int) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["工作进展"]
    head = [c.value for c in ws[1]]
    for n, row in enumerate(ws.iter_rows(min_row=2), start=offset):
        cells = dict(zip(head, row, strict=True))
        cells["主要进展"].value = payload(n)
        cells["存在问题"].value = payload(n + 1)
        cells["下步打算"].value = payload(n + 2)
        # ；/; separate documents: a payload's own semicolons would split it
        cells["佐证材料"].value = f"《{payload(n + 3).replace(';', ',')}》（2025-06-30）"
    if "项目进展" in wb.sheetnames:
        ws = wb["项目进展"]
        head = [c.value for c in ws[1]]
        for n, row in enumerate(ws.iter_rows(min_row=2), start=offset):
            cells = dict(zip(head, row, strict=True))
            cells["当前阶段"].value = "在建"
            cells["阶段日期"].value = "2025-09-30"
            cells["进展说明"].value = payload(n)
    wb.save(path)


def _fill_ledger(path: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    for n, row in enumerate(ws.iter_rows(min_row=2)):
        cells = dict(zip(head, row, strict=True))
        if not cells["村编号"].value:
            continue
        cells["集体经济年收入（万元）"].value = 120
        cells["集体经济经营性收入（万元）"].value = 60
        for name in ("垃圾分类", "污水处理设施覆盖", "无害化户厕全覆盖", "共富驿站"):
            cells[name].value = 1
        cells["数据来源"].value = payload(n)
        cells["备注"].value = payload(n + 1)
    wb.save(path)


def _poison_evaluation(data: Path, period: str) -> None:
    path = data / "evaluation" / f"{period}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["evaluator"] = payload(3)
    for n, judgement in enumerate(doc["tasks"]):
        judgement["opinion"] = payload(n)
        # a reason on every judgement: the new figures move lights, a departing grade needs one
        judgement["reason"] = payload(n + 5)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def poison(root: Path, period: str, received: str) -> list[str]:
    """Write the period's templates, fill them with payloads, ingest them (received on
    `received`) and rewrite the evaluator's file; returns the ingest output lines."""
    import contextlib
    import io

    from planbook import cli

    out_dir = root / "poison-templates"
    data = root / "data"
    assert cli.main(["--data", str(data), "templates", "--period", period,
                     "--out", str(out_dir)]) == 0
    figures = [p for p in sorted(out_dir.glob(f"*-{period}.csv")) if _fill_figures(p)]
    progress = sorted(out_dir.glob(f"*-{period}-工作进展.xlsx"))
    for n, p in enumerate(progress):
        _fill_progress(p, n)
    ledgers = sorted(out_dir.glob(f"villages-{period}.xlsx"))
    for p in ledgers:
        _fill_ledger(p)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = cli.main(["--data", str(data), "ingest", *map(str, figures + progress + ledgers),
                       "--received", received, "--confirm"])
    assert rc == 0, buf.getvalue()
    _poison_evaluation(data, period)
    return buf.getvalue().splitlines()
