"""Report kinds (annual, midterm, final, briefing) and the report/技术附件 split (issue 26)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest

from planbook.errors import ParamsError
from planbook.plan.params import kinds_for, load_params
from planbook.plan.periods import parse_period
from tests.conftest import AFTER_FINAL_CUTOFF, ROOT

BODY_PAGES = 60  # the report a reviewer reads (issue 26)
TOC_PAGES = 2


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M)[1])


def pdf_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    cmd = ["pdftotext"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(pdf), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_each_period_has_its_kinds():
    assert kinds_for(parse_period("2025")) == ("midterm", "annual")
    assert kinds_for(parse_period("2027")) == ("final", "annual")
    assert kinds_for(parse_period("2024")) == ("annual",)
    assert kinds_for(parse_period("2026-10")) == ("briefing",)


def test_shipped_params_make_2025_the_midterm_and_2027_the_final():
    assert load_params("2025", ROOT).kind == "midterm"
    assert load_params("2024", ROOT).kind == "annual"
    # The 总结评估 can be built once its cut-off has passed, never before.
    with pytest.raises(ParamsError, match="晚于今天"):
        load_params("2027", ROOT, today=dt.date(2028, 3, 30))
    final = load_params("2027", ROOT, today=dt.date.fromisoformat(AFTER_FINAL_CUTOFF))
    assert (final.kind, final.as_of, final.kind_zh) == ("final", "2028-03-31", "总结评估")


@pytest.mark.parametrize(("where", "period", "words"), [
    ("sample_build", "2025", "中期评估报告"),
    ("kind_builds", "2024", "年度评估报告"),
    ("kind_builds", "2027", "总结评估报告"),
])
def test_each_evaluation_kind_builds_with_its_title_and_annex(request, where, period, words):
    root = request.getfixturevalue(where)
    out = root / "reports" / period
    cover = pdf_text(out / "report.pdf", 1, 1).replace("\n", "")
    assert words in cover
    annex = out / "annex.pdf"
    annex_text = pdf_text(annex)
    assert "技术附件" in annex_text.replace("\n", "")[:400]
    # The register, the audit trail, data quality and the 指标档案 are in the annex only.
    for title in ("指标体系一览", "数据来源与追溯", "数据质量", "指标档案"):
        assert title in annex_text
    body = pdf_text(out / "report.pdf")
    assert "附录 B" not in body and "指标档案" not in pdf_text(out / "report.pdf", 2, 3)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"report.pdf", "annex.pdf"} <= set(manifest["outputs"])
    assert manifest["parameters"]["kind"] == {"2025": "midterm", "2024": "annual",
                                              "2027": "final"}[period]


def test_the_final_report_shows_2027_as_gaps(kind_builds):
    text = pdf_text(kind_builds / "reports" / "2027" / "report.pdf")
    assert "2027年" in text.replace(" ", "") and "暂无数据" in text


def test_the_briefing_stays_one_document_without_annex(kind_builds):
    out = kind_builds / "reports" / "2026-10"
    assert (out / "report.pdf").is_file() and not (out / "annex.pdf").exists()


def test_the_midterm_body_is_short_and_its_contents_brief(sample_build):
    pdf = sample_build / "reports" / "2025" / "report.pdf"
    assert pdf_pages(pdf) <= BODY_PAGES
    # The contents start on page 2 and end before the page the summary starts on.
    starts = [n for n in range(2, 2 + TOC_PAGES + 2) if "目录" in pdf_text(pdf, n, n)[:200]]
    summary = next(n for n in range(2, 10) if re.search(r"报告摘要\s*\n(?!.*\.\s*\.)",
                                                        pdf_text(pdf, n, n)[:300]))
    assert starts == [2] and summary - 2 <= TOC_PAGES
    assert pdf_pages(sample_build / "reports" / "2025" / "annex.pdf") > pdf_pages(pdf) // 2


def test_the_book_and_the_portal_link_the_annex(sample_build):
    reports = sample_build / "reports"
    page = (reports / "2025" / "html" / "index.html").read_text(encoding="utf-8")
    assert 'href="../annex.pdf"' in page and "技术附件" in page
    assert (reports / "2025" / "html" / "../annex.pdf").resolve().is_file()
    # The HTML keeps every page, the annex's under its own part of the navigation.
    nav = page[page.index('id="pb-nav"'):]
    assert nav.index("技术附件") < nav.index("a4_dossiers.html")
    assert nav.index("methodology.html") < nav.index("技术附件")
    portal = (reports / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]*annex\.pdf)"', portal)
    assert links and all((reports / link).is_file() for link in links)
    assert "2025年中期评估报告" in portal
