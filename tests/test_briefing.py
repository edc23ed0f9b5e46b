"""The monthly briefing (晾晒通报): department blocks, 未报送 and month-over-month changes."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from support import render_period, resolve

from planbook.chapters.report import Briefing
from planbook.plan.params import Params
from planbook.plan.registry import load_registry
from planbook.run import execute as pipeline
from planbook.store import observations

PLAN = "完成44个老旧小区改造。每年引进亿元以上项目30个。城镇化率不低于55%。新增农创客500名以上。"
DEPARTMENTS = [{"name": "住建局", "type": "government", "code": "zhujian"},
               {"name": "商务局", "type": "government", "code": "shangwu"},
               {"name": "发改局", "type": "government", "code": "fagai"}]


NAMED = [d["name"] for d in DEPARTMENTS]  # the bodies the test item names, in its order


def _ind(i, name, unit, kind, lead, freq, value, quote):
    return {"id": i, "path": "三(一)1", "name_zh": name, "name_en": i, "unit": unit,
            "kind": kind, "direction": "increase", "frequency": freq, "lead": lead,
            "co": [d for d in NAMED if d != lead], "lead_basis": f"测试：{lead}的职责。",
            "lead_stated": False,
            "targets": [{"value": value, "year": 2027, "op": ">=",
                         **({"every_year": True} if kind == "annual" else {})}],
            "quote": quote}


INDICATORS = [
    _ind("estates", "老旧小区改造", "个", "cumulative", "住建局", "monthly", 44, "完成44个老旧小区改造"),
    _ind("projects", "引进亿元以上项目", "个", "annual", "商务局", "monthly", 30, "每年引进亿元以上项目30个"),
    _ind("urban", "城镇化率", "%", "share", "发改局", "quarterly", 55, "城镇化率不低于55%"),
    _ind("makers", "新增农创客", "名", "cumulative", "发改局", "annual", 500, "新增农创客500名以上"),
]
ROWS = [  # indicator, period, value
    ("estates", "2025", 25), ("estates", "2026-09", 30), ("estates", "2026-10", 36),
    ("projects", "2026-09", 25),  # nothing for October: 未报送
    ("urban", "2022", 50), ("urban", "2026-Q3", 53.5),
    ("makers", "2025", 200),
]


@pytest.fixture
def data(tmp_path) -> Path:
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "plan.txt").write_text(PLAN, encoding="utf-8")
    for name, entries in (("departments", DEPARTMENTS), ("indicators", INDICATORS),
                          ("tasks", [{"id": "三(一)1", "chapter": "三", "title": "测试",
                                      "departments": NAMED,
                                      "indicators": [i["id"] for i in INDICATORS]}])):
        (plan / f"{name}.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True),
                                           encoding="utf-8")
    reg = load_registry(tmp_path)
    frame = pd.DataFrame([{
        "indicator_id": i, "period": p, "value": v, "unit": reg.indicators[i].unit,
        "status": "provisional", "source": "测试", "submitted_by": reg.indicators[i].lead,
        "received_at": "2026-11-05T10:00:00", "revision": 1, "note": "", "file_sha256": "x"}
        for i, p, v in ROWS])
    for ind_id, group in frame.groupby("indicator_id"):
        observations.append_rows(tmp_path, reg.departments[reg.indicators[ind_id].lead].code,
                                 group)
    return tmp_path


def briefing(data: Path, period: str) -> Briefing:
    reg = load_registry(data)
    params = Params(period=period, as_of="2026-11-10", data_dir=str(data), kind="briefing",
                    plan_id="jiande-2023-2027")
    return Briefing(params=params, registry=reg, data=data,
                    observations=observations.load_all(data, reg))


def test_missing_lists_exactly_the_indicators_due_without_a_figure(data):
    october = briefing(data, "2026-10")
    assert [ind.id for ind, _ in october.due_indicators()] == ["estates", "projects"]
    assert [(ind.id, periods) for ind, periods in october.missing()] == [
        ("projects", ["2026-10"])]
    assert "未报送1项" in october.missing_sentence() and "商务局" in october.missing_sentence()
    september = briefing(data, "2026-09")  # a quarter's last month: the quarterly one is due
    assert [ind.id for ind, _ in september.due_indicators()] == ["estates", "projects", "urban"]
    assert september.missing() == []
    march = briefing(data, "2026-03")  # annual figures for the previous year are due in March
    due = [ind.id for ind, _ in march.due_indicators()]
    assert "makers" in due
    assert ("makers", ["2025"]) not in [(i.id, p) for i, p in march.missing()]
    assert "estates" in [i.id for i, _ in march.missing()]


def test_month_over_month_changes(data):
    october = briefing(data, "2026-10")
    by_id = october.by_id
    assert october.change_text(by_id["estates"]) == "+6个"
    assert october.change_text(by_id["projects"]) == "—（本月无新数据）"
    assert by_id["estates"].latest_period == "2026-10"
    sept = october.previous["estates"]
    assert sept.latest_value == 30 and sept.latest_period == "2026-09"
    # new reds and recovered greens are counted against the previous month's lights
    text = october.overview()
    new_red = [a for a in october.assessments if a.light == "red"
               and october.previous[a.indicator_id].light != "red"]
    assert f"新增红灯{len(new_red)}项" in text


def test_department_blocks_cover_every_lead_department(data):
    blocks = briefing(data, "2026-10").department_blocks()
    heads = re.findall(r"^### (\S+)", blocks, re.M)
    assert heads == ["住建局", "商务局", "发改局"]
    assert "应达" in blocks  # the schedule for the month


def test_briefing_builds_for_real_on_sample_data(project):
    result = pipeline.run(resolve("2026-10", project), progress=False)
    assert result.executed == ["briefing"]
    nb = nbformat.read(project / "reports" / "2026-10" / "notebooks" / "briefing.ipynb", 4)
    # narrative is a text/markdown display output (what Jupyter shows formatted)
    text = "\n".join(o.get("text", "") + o.get("data", {}).get("text/markdown", "")
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    reg = load_registry(project / "data")
    heads = re.findall(r"^### (\S+)", text, re.M)
    assert heads == reg.lead_departments
    assert "示例数据，非官方统计" in text and "未报送" in text


def test_briefing_builds_as_a_single_document(project):
    """`planbook build --period 2026-10`, built-in engine: one HTML page, a compact A4 PDF."""
    import json
    from html.parser import HTMLParser
    from urllib.parse import unquote, urlsplit

    from pypdf import PdfReader

    from planbook.build import build

    sample = "示例数据，非官方统计"
    lines = list(build("2026-10", engine="builtin", root=project))
    assert any("渲染完成" in line for line in lines)
    out = project / "reports" / "2026-10"
    html_dir = out / "html"

    # HTML: one page, no book sidebar or pager, the in-page TOC, the sample banner, dots
    assert [p.name for p in html_dir.glob("*.html")] == ["index.html"]
    page = (html_dir / "index.html").read_text(encoding="utf-8")
    for book_part in ('class="pb-sidebar"', 'class="pb-nav"', 'class="pb-pager"'):
        assert book_part not in page
    assert '<aside class="pb-toc"' in page and "月度工作进展晾晒通报</h1>" in page
    assert f'<div class="pb-sample-banner" role="region" aria-label="数据说明">{sample}</div>' in page
    assert '<span class="pb-dot pb-dot-red" data-glyph="●" aria-hidden="true"></span>红' in page
    assert 'class="pb-trace" href="code/briefing.html#' in page  # 溯源 links to the code page

    class Refs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.refs: list[str] = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            ref = a.get("src") if tag in ("img", "script") else a.get("href")
            if ref and tag in ("img", "script", "link", "a"):
                self.refs.append(ref)

    checked = 0
    for path in sorted(html_dir.rglob("*")):
        if path.suffix in (".html", ".css", ".js"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"https?://", text), f"{path.name} names an external URL"
        if path.suffix != ".html":
            continue
        parser = Refs()
        parser.feed(path.read_text(encoding="utf-8"))
        for ref in parser.refs:
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, f"{path.name}: external {ref}"
            if parts.path:
                target = (path.parent / unquote(parts.path)).resolve()
                assert target.exists(), f"{path.name}: {ref} does not resolve"
                checked += 1
    assert checked >= 5

    # PDF: a few A4 pages, the title block on page 1 (no cover, no TOC page, no chapters)
    pdf = out / "report.pdf"
    reader = PdfReader(pdf)
    assert 3 <= len(reader.pages) <= 12
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)
    texts = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    first = texts[0]
    assert "月度工作进展晾晒通报" in first and "2026年10月" in first
    assert "数据截至2026年11月10日" in first and "编制" in first
    assert "总体情况" in first  # the body starts on the title page
    whole = "".join(texts)
    assert "目录" not in whole and "第1章" not in whole
    for n, text in enumerate(texts, start=1):
        assert sample in text, f"page {n} lacks the sample line"
    for dept in load_registry(project / "data").lead_departments:
        assert dept in whole, dept

    # the audit trail covers the briefing; the PDF is byte-for-byte reproducible
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["register"] and manifest["parameters"]["kind"] == "briefing"
    before = pdf.read_bytes()
    result = render_period(resolve("2026-10", project), engine="builtin")
    assert result.single and result.pdf.read_bytes() == before
