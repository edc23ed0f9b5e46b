"""The book's chapters: which notebook tells which part of the plan, and which data it reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from planbook import paths
from planbook.plan.registry import Registry


@dataclass(frozen=True)
class Chapter:
    key: str  # notebook file stem, e.g. 02_county
    title: str  # 章标题 (the notebook's H1)
    plan_chapter: str | None  # the plan chapter it reports on (二…六), None for summary/appendix
    appendix: bool = False
    reads_all: bool = False  # summary and cross-cutting pages read every store file
    # In the 技术附件 (annex.pdf), not the report's PDF: the register, the audit trail, the
    # data quality and the 指标档案. The HTML book keeps every page (its nav has the part).
    annex: bool = False

    @property
    def notebook(self) -> str:
        return f"{self.key}.ipynb"


ANNUAL = (
    Chapter("00_summary", "报告摘要", None, reads_all=True),
    Chapter("00b_judgement", "总体评估", None, reads_all=True),
    Chapter("01_overall", "总体目标", "二"),
    Chapter("02_county", "全面提升县城承载能力", "三"),
    Chapter("03_villages", "持续深化“千村示范、万村整治”工程", "四"),
    Chapter("04_integration", "健全城乡融合发展体制机制", "五"),
    Chapter("05_safeguards", "保障措施与责任落实", "六", reads_all=True),
    Chapter("a1_indicators", "指标体系一览", None, appendix=True, reads_all=True, annex=True),
    Chapter("a2_sources", "数据来源与追溯", None, appendix=True, reads_all=True, annex=True),
    Chapter("a3_quality", "数据质量", None, appendix=True, reads_all=True, annex=True),
    Chapter("a4_dossiers", "指标档案", None, appendix=True, reads_all=True, annex=True),
)
# The appendix that also lists the audit register (appended at render time: the register
# exists only once every notebook has run).
REGISTER_PAGE = "a2_sources"
# The appendix 指标档案 (chapters.dossier): each entry leaves a USES_CLASS block that the render
# fills from the register (book.dossier). Named here, so the render does not import the
# chapters' drawing code (matplotlib) to learn two names.
DOSSIER_PAGE = "a4_dossiers"
USES_CLASS = "pb-uses"
BRIEFING = (Chapter("briefing", "月度工作进展晾晒通报", None, reads_all=True),)


def chapters_for(kind: str) -> tuple[Chapter, ...]:
    """The chapters of a report kind: the monthly briefing is one notebook; the evaluations
    (annual, midterm, final) share the book, worded by their kind."""
    return BRIEFING if kind == "briefing" else ANNUAL


def source_notebook(chapter: Chapter, root: Path | None = None) -> Path:
    return paths.notebooks_dir(root) / chapter.notebook


def data_inputs(chapter: Chapter, data: Path, registry: Registry) -> list[Path]:
    """The data files a chapter's notebook reads: the plan registry, the store files of the
    departments leading its indicators, and the village records where it reports shares of them.
    A change to any other file leaves the chapter's cached run valid."""
    plan = paths.plan_dir(data)
    # projects.yaml and leads_confirmed.yaml are optional; the appendix prints each lead's
    # confirmation, so a new confirmation re-runs it.
    optional = ("projects.yaml", "leads_confirmed.yaml")
    files = [plan / n for n in ("plan.txt", "indicators.yaml", "tasks.yaml", "departments.yaml",
                                *optional) if n not in optional or (plan / n).is_file()]
    # Statements, project stages and the evaluator's file: small, read by every chapter's
    # task blocks and the summary's counts. (Imported here: the catalogue stays light.)
    from planbook.store import statements

    files += statements.store_files(data)
    evaluation = paths.evaluation_dir(data)
    files += sorted(evaluation.glob("*.yaml")) if evaluation.is_dir() else []
    obs = paths.observations_dir(data)
    if chapter.reads_all or chapter.plan_chapter is None:
        files += sorted(obs.glob("*.csv"))
        files += sorted(paths.villages_dir(data).glob("*.csv"))
        return files
    indicators = registry.in_chapter(chapter.plan_chapter)
    codes = sorted({registry.departments[i.lead].code for i in indicators})
    files += [obs / f"{c}.csv" for c in codes if (obs / f"{c}.csv").is_file()]
    if any(i.villages for i in indicators):
        files += sorted(paths.villages_dir(data).glob("*.csv"))
    return files
