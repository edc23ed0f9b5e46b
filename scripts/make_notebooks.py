"""Write the chapter notebooks (notebooks/*.ipynb), clean, from one readable description.

The notebooks are the source of truth once written; this script exists so that their cell
structure (labels, captions, alt text, parameters cell) stays uniform. Run it after changing
the chapter layout: `python scripts/make_notebooks.py`, then review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from planbook.plan.registry import load_registry  # noqa: E402

PARAMS = '''#| include: false
period = "2025"
as_of = "2026-03-31"
data_dir = "data"
kind = "annual"
plan_id = "jiande-2023-2027"'''
OPEN = '''#| include: false
from planbook.chapters import Report, show_markdown

rep = Report.load(period=period, as_of=as_of, data_dir=data_dir, kind=kind, plan_id=plan_id)'''


def md(text: str):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str, tags=()):
    cell = nbformat.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def asis(expr: str):
    """A narrative cell: its markdown as a text/markdown output (Jupyter shows it formatted),
    inserted unenclosed by `output: asis` (Quarto and the built-in engine)."""
    return code(f"#| output: asis\nshow_markdown({expr})")


def fig(label: str, cap: str, alt: str, call: str):
    return code(f"#| label: fig-{label}\n#| fig-cap: \"{cap}\"\n#| fig-alt: \"{alt}\"\n{call}")


def tbl(label: str, cap: str, call: str):
    return code(f"#| label: tbl-{label}\n#| tbl-cap: \"{cap}\"\n{call}")


def head(title: str, intro: str):
    return [md(f"# {title}\n\n{intro}"), code(PARAMS, tags=["parameters"]), code(OPEN)]


def kind_figures(key: str, chapter: str, kinds: set[str], what: str, select: str = "") -> list:
    select = select or f'rep.chapter("{chapter}")'
    cells = []
    if kinds & {"level", "share", "ceiling"}:
        cells.append(fig(f"{key}-trend", f"{what}水平类、比率类和上限类指标走势",
                         f"{what}各水平、比率与上限类指标的实际值与由基期至目标的路径对比，"
                         "虚线为目标路径，点线为按年均增速推算至目标年的预测；实线低于（上限类为高于）"
                         "虚线的指标进度落后",
                         f"rep.trend_figure({select})"))
    if "cumulative" in kinds:
        cells.append(fig(f"{key}-schedule", f"{what}累计类指标完成进度与时序进度",
                         f"{what}各累计类指标已完成目标的比例，竖线为时序进度；"
                         "彩色条短于竖线的指标慢于时序进度",
                         f"rep.schedule_figure({select})"))
    if "annual" in kinds:
        cells.append(fig(f"{key}-annual", f"{what}年度类指标逐年达标情况",
                         f"{what}每年须达到的指标逐年是否达标，绿色为达标、红色为未达标、灰色为无数据",
                         f"rep.annual_figure({select})"))
    return cells


def chapter_notebook(reg, key: str, chapter: str, title: str, intro: str, extra=()) -> list:
    cells = head(title, intro)
    cells.append(asis(f'rep.chapter_overview("{chapter}")'))
    # Sections come from the tasks, so a section without indicators still gets its blocks.
    sections = sorted({f"{t.chapter}{t.section}" for t in reg.tasks.values()
                       if t.chapter == chapter and "(" in t.section},
                      key=lambda s: "一二三四五六七八九十".index(s[2]))
    for n, section in enumerate(sections, start=1):
        kinds = {i.kind for i in reg.indicators.values() if i.section == section}
        cells.append(asis(f'rep.section_narrative("{section}")'))
        cells += kind_figures(f"{key}-s{n}", section, kinds, f"{section}",
                              select=f'rep.section("{section}")')
        if kinds:
            cells.append(tbl(f"{key}-s{n}", f"{section} 指标评估一览",
                             f'rep.indicator_table(rep.section("{section}"))'))
        cells.append(asis(f'rep.task_blocks("{section}")'))
    if reg.projects_in(chapter):
        cells += [md("## 点名项目推进情况\n\n方案在本部分任务中点名的项目和设施，按方案要求的阶段"
                     "（谋划、前期、开工、在建、完工）对照责任单位报送的当前阶段，灯号规则见附录“评估方法”。"),
                  tbl(f"{key}-projects", f"{chapter}、{title}：点名项目要求阶段与当前阶段",
                      f'rep.project_table("{chapter}")')]
    cells += list(extra)
    return cells


def notebooks(reg) -> dict[str, list]:
    summary = head("报告摘要", "本报告依据《建德市县城承载能力提升和深化“千村示范、万村整治”工程实施方案"
                   "（2023—2027年）》（建政函〔2023〕37号），按期评估方案确定的各项目标任务进展。"
                   "状态判定方法见附录“评估方法”，每个图表和引用数字均可追溯至生成它的代码单元和数据行。")
    summary += [
        asis("rep.sample_notice()"),
        md("## 总体目标完成情况"),
        asis('rep.status_sentence(rep.chapter("二"), "总体目标", "headline")'),
        fig("summary-dashboard", "总体目标八项指标最新值与灯号",
            "八项总体目标的最新值、目标值与预警灯号，边框颜色即灯号", "rep.dashboard_figure()"),
        md("## 全部指标状态"),
        asis('rep.status_sentence(rep.assessments, "全部", "all", rule=True)'),
        tbl("summary-chapters", "各章指标状态统计", "rep.chapter_status_table()"),
        fig("summary-heatmap", "各节指标状态分布",
            "按方案各节统计的指标状态数量热力图，颜色越深数量越多", "rep.heatmap_figure()"),
        md("## 主要预警"),
        tbl("summary-warnings", "最需关注的红灯指标（前十项）",
            'rep.warning_table(lights=("red",), limit=10, pdf_reasons=False)'),
        md("## 与上期相比"),
        asis("rep.changes_since_previous()"),
        md("## 任务评估"),
        asis("rep.task_summary()"),
        md("## 主要指标完成情况表"),
        asis("rep.completion_note()"),
        tbl("summary-completion", "主要指标完成情况表", "rep.completion_table_view()"),
        md("## 重大项目推进情况"),
        asis("rep.project_investment_text()"),
        tbl("summary-projects", "方案点名项目推进和投资情况", "rep.project_investment_table()"),
    ]
    ch2 = head("总体目标", "方案第二部分确定了到2027年的八项总体目标：地区生产总值、城乡居民收入倍差、"
               "常住人口城镇化率、重点项目累计投资、和美乡村示范村、农村居民人均可支配收入以及村级集体经济"
               "两项占比。本章逐项评估其进展。")
    ch2 += [asis('rep.chapter_overview("二")'),
            fig("overall-dashboard", "总体目标指标看板",
                "八项总体目标的最新值、目标值和灯号", "rep.dashboard_figure()")]
    ch2 += kind_figures("overall", "二", {i.kind for i in reg.in_chapter("二")}, "总体目标")
    ch2.append(tbl("overall-targets", "总体目标评估一览", 'rep.indicator_table(rep.chapter("二"))'))
    county = chapter_notebook(
        reg, "county", "三", "全面提升县城承载能力",
        "方案第三部分从产业、基础设施、公共服务、历史传承与生态、人口转移五个方面提出县城承载能力"
        "提升行动。本章按五节逐项评估。",
        extra=[md("## 各节状态分布"),
               fig("county-heatmap", "县城承载能力各节指标状态分布",
                   "第三部分五节的指标状态数量热力图", 'rep.heatmap_figure(chapters=("三",))')])
    villages_nb = chapter_notebook(
        reg, "villages", "四", "持续深化“千村示范、万村整治”工程",
        "方案第四部分围绕农业增效、乡村宜居宜业和农民增收三项行动深化“千万工程”。"
        "涉及全市229个行政村占比的指标，均由逐村台账计算。",
        extra=[md("## 村级集体经济与人居环境"),
               asis("rep.village_narrative()"),
               fig("villages-income", "村级集体经济经营性收入分布",
                   "各行政村集体经济经营性收入直方图，红色虚线为50万元和100万元目标线，"
                   "位于50万元线左侧的村尚未达标", "rep.village_income_figure()"),
               fig("villages-coverage", "分乡镇（街道）村级指标覆盖率",
                   "16个乡镇（街道）各项村级指标达标村占比热力图，绿色接近100%，红色偏低",
                   "rep.village_coverage_figure()")])
    integration = chapter_notebook(
        reg, "integration", "五", "健全城乡融合发展体制机制",
        "方案第五部分从规划建设管理、要素双向流动和公共资源配置三方面健全城乡融合发展体制机制。")
    safeguards = head("保障措施与责任落实",
                      "方案第六部分提出强化统筹领导、要素保障、氛围营造和督导服务四项保障措施，"
                      "并要求“实施工程进展晾晒机制，每月通报各项工作进度，及时调度、及时预警”。"
                      "本章给出各牵头单位的成绩单、数据报送情况和预警清单。")
    safeguards += [
        asis('rep.chapter_overview("六")'),
        tbl("safeguards-items", "保障措施相关指标", 'rep.indicator_table(rep.chapter("六"))'),
        md("## 保障措施任务评估"),
        asis('rep.task_blocks("六")'),
        md("## 要素保障\n\n方案六(二)要求加强资金统筹和乡村产业用地保障。资金投入方案未设量化指标，"
           "按部门报送的点名项目投资反映；用地保障按方案明确的指标和部门报送反映。"),
        asis("rep.funding_text()"),
        asis("rep.land_text()"),
        md("## 牵头单位成绩单"),
        fig("safeguards-scorecard", "各牵头单位指标灯号",
            "各牵头单位所牵头指标的绿、黄、红、灰灯数量，红灯多的单位任务落后较多",
            "rep.scorecard_figure()"),
        tbl("safeguards-leads", "各牵头单位指标状态统计", "rep.lead_table()"),
        md("## 数据报送情况"),
        tbl("safeguards-coverage", "各牵头单位本期数据报送情况", "rep.coverage_table()"),
        md("## 预警清单"),
        tbl("safeguards-warnings", "红灯和黄灯预警指标及责任单位", "rep.warning_table(pdf_reasons=False)"),
    ]
    a1 = head("指标体系一览", "下表列出方案确定的全部指标及其方案原文、牵头单位和目标值。")
    for n, ch in enumerate(("二", "三", "四", "五", "六"), start=1):
        from planbook.plan.registry import CHAPTER_TITLES

        a1 += [md(f"## {ch}、{CHAPTER_TITLES[ch]}"),
               tbl(f"registry-{n}", f"{ch}、{CHAPTER_TITLES[ch]}指标", f'rep.registry_table("{ch}")')]
    # The register section (图表与数字登记) is appended by the render: the register exists only
    # once every chapter has run (planbook.book.render.add_register_section).
    a2 = head("数据来源与追溯", "本附录列出本期报告使用的全部输入文件及其SHA256校验值，并在文末"
              "登记每个图、表和正文引用的数字：生成它的代码单元、所用数据行和输出校验值。"
              "用 `planbook trace 标签 --period 期间` 可查询任一图表或数字的来源单元和数据行。")
    a2 += [tbl("sources-files", "输入文件及校验值", "rep.files_table()")]
    a3 = head("数据质量", "本附录说明本期数据的覆盖、修订和数据状态（正式统计、部门报送、示例数据）。")
    a3 += [asis("rep.quality_narrative()"),
           tbl("quality-coverage", "各牵头单位数据覆盖情况", "rep.coverage_table()"),
           tbl("quality-revisions", "经过修订的观测值", "rep.revision_table()"),
           tbl("quality-plausibility", "数值合理性提示（入库时已核实确认）",
               "rep.plausibility_table()")]
    a4 = head("指标档案", "本附录为方案的每项指标建立档案：定义、方案原文与条目、牵头和责任单位、基期与目标、"
              "历年数值图及其全部数据（含修订）、历次年度评估和近几个月通报中的状态、数据来源与报送文件，"
              "以及本报告中使用该指标的图、表和数字。每项指标有固定链接，即指标编号（如 "
              "`a4_dossiers.html#ind_gdp`）；各章指标表中的指标名称链接到这里。")
    a4.append(code("#| include: false\nfrom planbook.chapters.dossier import Dossier\n\n"
                   "dossier = Dossier(rep)"))
    for ind in reg.indicators.values():
        stem = ind.id.removeprefix("ind_").replace("_", "-")
        a4.append(asis(f'dossier.head("{ind.id}")'))
        if ind.kind != "milestone":
            a4.append(fig(f"dossier-{stem}", f"{ind.name_zh}：历年数值与目标",
                          f"{ind.name_zh}各年实际值（实线）与由基期至目标的路径（虚线），星号为目标",
                          f'dossier.figure("{ind.id}")'))
        a4.append(tbl(f"dossier-{stem}", f"{ind.name_zh}：全部数据（含修订）",
                      f'dossier.table("{ind.id}")'))
    briefing = [md("# 月度工作进展晾晒通报\n\n依据方案六(四)“实施工程进展晾晒机制，每月通报各项工作进度，"
                   "及时调度、及时预警”，本通报按牵头单位晾晒各项指标的灯号、本月进度和未报送情况。"),
                code(PARAMS.replace('"2025"', '"2026-10"').replace("2026-03-31", "2026-11-10")
                     .replace('"annual"', '"briefing"'), tags=["parameters"]),
                code(OPEN.replace("import Report", "import Briefing").replace("Report.load",
                                                                              "Briefing.load")),
                asis("rep.sample_notice()"),
                md("## 总体情况"),
                asis("rep.overview()"),
                tbl("briefing-leads", "各牵头单位指标灯号统计", "rep.lead_table()"),
                md("## 各牵头单位晾晒"),
                asis("rep.department_blocks()"),
                md("## 未报送"),
                asis("rep.missing_sentence()"),
                tbl("briefing-missing", "本月应报未报的指标", "rep.missing_table()"),
                md("## 预警清单"),
                tbl("briefing-warnings", "红灯和黄灯预警指标、责任单位及差距",
                    "rep.warning_table(reasons=False)")]
    judgement = head("总体评估", "本章是评估报告的总论：先据数据作出总体判断，再归纳主要成效、分领域梳理"
                     "存在问题及原因、提出对策建议，最后说明评估的组织与过程。文中数字均由数据计算并可"
                     "追溯（溯源标签见附录“数据来源与追溯”）；评估组和部门的文字为原文引用，与计算结果"
                     "分列。")
    judgement += [asis(f"rep.{method}()") for method in (
        "sample_notice", "overall_judgement", "main_achievements", "problems_and_causes",
        "recommendations", "adjustment_proposals", "evaluation_process")]
    return {"briefing": briefing, "00_summary": summary, "00b_judgement": judgement,
            "01_overall": ch2, "02_county": county,
            "03_villages": villages_nb, "04_integration": integration,
            "05_safeguards": safeguards, "a1_indicators": a1, "a2_sources": a2,
            "a3_quality": a3, "a4_dossiers": a4}


def main() -> None:
    reg = load_registry(ROOT / "data")
    out = ROOT / "notebooks"
    out.mkdir(exist_ok=True)
    for name, cells in notebooks(reg).items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        for i, cell in enumerate(cells):
            cell["id"] = f"{name.replace('_', '-')}-{i:02d}"  # stable ids: the audit cites them
        nb.cells = cells
        nbformat.write(nb, out / f"{name}.ipynb")
        print(out / f"{name}.ipynb")


if __name__ == "__main__":
    main()
