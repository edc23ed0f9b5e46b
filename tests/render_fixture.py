"""A small period built for real, shared by test_render.py and test_browser.py.

Fixture chapter notebooks are written with nbformat and executed by papermill in a temporary
project root (PLANBOOK_ROOT), the way the pipeline will; then the built-in engine renders.
The build is cached per session so both test modules use the same one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import papermill

from planbook.chapters import provenance

REPO = Path(__file__).resolve().parents[1]
PERIOD = "2025"
PARAMS = {"period": PERIOD, "as_of": "2026-03-31", "data_dir": "data", "kind": "annual",
          "plan_id": "jiande-2023-2027"}
SEARCH_NAME = "农村生活污水治理行政村覆盖率"  # an indicator name the search must find
SECRET = "THIS-CELL-IS-HIDDEN"

CHAPTERS = [
    ("00_summary", "报告摘要"),
    ("00b_judgement", "总体评估"),
    ("01_overall", "总体目标"),
    ("02_county", "全面提升县城承载能力"),
    ("03_villages", "持续深化“千村示范、万村整治”工程"),
    ("04_integration", "健全城乡融合发展体制机制"),
    ("05_safeguards", "保障措施与责任落实"),
    ("a1_indicators", "指标体系一览"),
    ("a2_sources", "数据来源与追溯"),
    ("a3_quality", "数据质量"),
    ("a4_dossiers", "指标档案"),
]
INDICATORS = ["地区生产总值", "城镇居民人均可支配收入", "农村居民人均可支配收入",
              SEARCH_NAME, "城镇化率", "规上工业总产值", "新建改造城镇污水管网",
              "省级未来乡村", "和美乡村示范村", "城乡居民收入倍差"]
LIGHTS = ["green", "yellow", "red", "grey"]

SETUP = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
import mplfonts, pathlib
import pandas as pd
from planbook.chapters import display
from planbook.chapters import provenance
_font = pathlib.Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
font_manager.fontManager.addfont(str(_font))
plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(_font)).get_name()
INDICATORS = {indicators!r}
LIGHTS = {lights!r}
"""


def _code(source: str, tags=()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def chapter_notebook(key: str, title: str, number: int) -> nbformat.NotebookNode:
    """A chapter like the real ones: parameters, H1, asis narrative, a figure, a long table."""
    slug = key.split("_", 1)[1]
    rows = 12 + 6 * number  # some tables run over a page in the PDF
    cells = [
        _code('period = ""\nas_of = ""\ndata_dir = ""\nkind = ""\nplan_id = ""',
              tags=["parameters"]),
        nbformat.v4.new_markdown_cell(f"# {title}\n\n本章评估{title}的进展情况（测试用章节）。"),
        _code("#| include: false\n" + SETUP.format(indicators=INDICATORS, lights=LIGHTS)
              + f"print({SECRET!r})"),
        _code("#| output: asis\n"
              f"display.show_markdown(f'## 主要进展\\n\\n截至{{as_of}}，本章{len(INDICATORS)}项指标中，'\n"
              f"    '{INDICATORS[number % len(INDICATORS)]}等指标进展较快，详见 @fig-{slug}-trend '\n"
              f"    '与 @tbl-{slug}-status。')\n"
              f"provenance.record('number', 'num-test-{slug}', text='10', inputs=[])"),
        _code(f"#| label: fig-{slug}-trend\n"
              f"#| fig-cap: {title}主要指标走势\n"
              f"#| fig-alt: 折线图：{title}主要指标2022—2025年走势\n"
              "fig, ax = plt.subplots(figsize=(6, 2.6))\n"
              "years = [2022, 2023, 2024, 2025]\n"
              f"ax.plot(years, [1, 2 + {number}, 3, 4 + {number}], marker='o', label='实际值')\n"
              "ax.set_xticks(years); ax.set_title('指标走势（示意）'); ax.legend()\n"
              "display.show_figure(fig)"),
        _code("#| output: asis\n"
              "display.show_markdown('## 指标状态\\n\\n下表列出各项指标的评估状态与预警灯。')"),
        _code(f"#| label: tbl-{slug}-status\n"
              f"#| tbl-cap: {title}指标状态一览\n"
              "df = pd.DataFrame({\n"
              f"    '指标': [INDICATORS[i % len(INDICATORS)] + f'（{{i + 1}}）' for i in range({rows})],\n"
              f"    '目标值': [100.0 + i for i in range({rows})],\n"
              f"    '当前值': [90.5 + i for i in range({rows})],\n"
              f"    '预警灯': [LIGHTS[i % 4] for i in range({rows})],\n"
              f"    '说明': ['按规划目标测算，' * (1 + i % 3) for i in range({rows})],\n"
              "})\n"
              "display.show_table(df)"),
        _code("print('普通输出：不带 asis 的文字以预排版块显示')"),
    ]
    if key == "00_summary":
        cells.append(nbformat.v4.new_markdown_cell(
            "## 说明\n\n评估方法见 @sec-methodology。" + SEARCH_NAME + "为重点关注指标。"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def make_project(root: Path, *, execute: bool = True) -> Path:
    """A project root with _quarto.yml, book/, params and executed chapter notebooks."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "_quarto.yml", root / "_quarto.yml")
    shutil.copytree(REPO / "book", root / "book", dirs_exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "params").mkdir(exist_ok=True)
    (root / "params" / f"{PERIOD}.yml").write_text(
        "".join(f'{k}: "{v}"\n' for k, v in PARAMS.items()), encoding="utf-8")
    src = root / "notebooks"
    out = root / "reports" / PERIOD / "notebooks"
    src.mkdir(exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    for number, (key, title) in enumerate(CHAPTERS):
        path = src / f"{key}.ipynb"
        nbformat.write(chapter_notebook(key, title, number), path)
        if execute:
            papermill.execute_notebook(str(path), str(out / path.name), parameters=PARAMS,
                                       kernel_name="python3", progress_bar=False,
                                       cwd=str(root))
            # As run.execute does after papermill: the records go into metadata.
            nb = nbformat.read(out / path.name, as_version=4)
            provenance.store_records(nb)
            nbformat.write(nb, out / path.name)
    return root


_CACHE: dict[str, Path] = {}


def built_project(tmp_path_factory) -> Path:
    """The executed fixture project, rendered once per session with the sample notice on."""
    if "root" not in _CACHE:
        from support import render_period, resolve

        root = make_project(tmp_path_factory.mktemp("book") / "project")
        old = os.environ.get("PLANBOOK_ROOT")
        os.environ["PLANBOOK_ROOT"] = str(root)
        try:
            render_period(resolve(PERIOD, root), engine="builtin", sample_notice=True)
        finally:
            if old is None:
                os.environ.pop("PLANBOOK_ROOT", None)
            else:
                os.environ["PLANBOOK_ROOT"] = old
        _CACHE["root"] = root
    return _CACHE["root"]
