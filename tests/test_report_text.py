"""The report's sentences on the shipped sample data: counts that reconcile, lists that say
what they leave out, schedules a reader can recompute, lights as words, one vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planbook.assess import rules as assess
from planbook.assess import tables
from planbook.assess.narrative import zh_punct
from planbook.chapters.report import COUNT_RULE, LIST_LIMIT, Briefing, Report
from planbook.plan.params import Params
from planbook.plan.registry import CHAPTERS, load_registry
from planbook.store import observations

DATA = Path(__file__).resolve().parents[1] / "data"


def open_report(period: str, cls=Report) -> Report:
    reg = load_registry(DATA)
    kind = "briefing" if "-" in period else "annual"
    params = Params(period=period, as_of="2026-11-10" if kind == "briefing" else "2026-03-31",
                    data_dir=str(DATA), kind=kind, plan_id="jiande-2023-2027")
    return cls(params=params, registry=reg, data=DATA,
               observations=observations.load_all(DATA, reg))


@pytest.fixture(scope="module")
def rep() -> Report:
    return open_report("2025")


def _total(sentence: str) -> int:
    return int(re.search(r"监测的(\d+)项指标", sentence)[1])


def test_chapter_counts_reconcile_with_the_summary_table(rep):
    table = tables.aggregate(rep.registry, rep.assessments, "chapter").set_index("chapter")
    totals = 0
    for chapter in CHAPTERS:
        text = rep.chapter_overview(chapter)
        n = _total(text)
        assert n == table.loc[chapter, "indicators"], chapter
        share = f"{table.loc[chapter, 'green_share'] * 100:.1f}%"
        assert f"绿灯指标占{share}" in text, chapter
        assert COUNT_RULE in text  # the rule is stated where the counts appear
        totals += n
    assert totals == len(rep.registry.indicators)
    summary = rep.status_sentence(rep.assessments, "全部", "all", rule=True)
    assert _total(summary) == totals and COUNT_RULE in summary


def test_cross_listed_indicators_are_named_not_counted(rep):
    text = rep.chapter_overview("四")
    also = rep.registry.cross_listed("四")
    assert also, "the sample registry has indicators cross-listed in 四"
    for ind in also:
        assert f"{zh_punct(ind.name_zh)}（{ind.path}）" in text.split("另见（")[1]


def test_change_lists_say_how_many_they_show_and_who_leads(rep):
    text = rep.changes_since_previous()
    for word in ("好转", "转差"):
        n = int(re.search(rf"{word}(\d+)项", text)[1])
        block = re.search(rf"{word}的指标([^：]*)：\n\n((?:- .*\n?)*)", text)
        if not n:
            assert block is None
            continue
        items = block[2].strip().splitlines()
        assert len(items) == min(n, LIST_LIMIT)
        assert all("牵头）" in line for line in items)
        if n > LIST_LIMIT:
            assert f"（共{n}项，其中列出前{LIST_LIMIT}项）" == block[1]


def test_lights_are_words(rep):
    for section in ("三(一)", "三(二)", "四(一)"):
        text = rep.section_narrative(section)
        assert "灯号 " not in text
        assert re.search(r"：\d+项指标，(?:[绿黄红灰]灯\d+项、?)+", text)


def test_schedule_gaps_are_whole_counts_a_reader_can_recompute(rep):
    seen = 0
    for a in rep.assessments:
        if a.kind != "cumulative" or a.latest_value is None:
            continue
        text = rep.gap_text(a)
        m = re.fullmatch(r"按时序进度(\d+\.\d)%应达([\d,.]+)(\D*)，(?:差([\d,.]+)\D*|已达时序进度)",
                         text)
        assert m, text
        share, due, unit = float(m[1]) / 100, float(m[2].replace(",", "")), m[3]
        target = a.target_value
        base = a.baseline_value or 0.0
        assert due == pytest.approx(assess.whole(base + (target - base) * share, unit), abs=0.06)
        if unit in assess.narrative.INTEGER_UNITS:
            assert "." not in m[2] and (m[4] is None or "." not in m[4]), text
        seen += 1
    assert seen


def test_briefing_uses_one_term_and_whole_counts():
    brief = open_report("2026-10", Briefing)
    text = brief.overview() + brief.department_blocks()
    assert "序时" not in text and "时序进度" in text
    for due in re.findall(r"应达([\d,.]+)(个|家|幢|户|人|名|座|条|所|项)", text):
        assert "." not in due[0], due
    assert re.search(r"牵头\d+项：(?:[绿黄红灰]灯\d+项、?)+。", text)


def test_methodology_examples_are_generated_from_the_registry_and_data():
    from planbook.book.pages import expand_includes
    from planbook.chapters.methodology import worked_examples

    reg = load_registry(DATA)
    examples = worked_examples(reg, observations.load_all(DATA, reg))
    book = DATA.parent / "book"
    for name, text in examples.items():
        committed = (book / f"_example-{name}.md").read_text(encoding="utf-8")
        assert committed == text + "\n", f"run `python scripts/make_examples.py` ({name})"
    page = expand_includes((book / "methodology.qmd").read_text(encoding="utf-8"), book)
    target = reg.indicators["ind_output_industrial"].final_target.value
    assert f"2027年目标{target:.0f}亿元" in page and "1200亿元" not in page
    assert "{{< include" not in page


def test_indicator_names_carry_the_plan_condition():
    """A name drops no condition its quote states: the village share counts villages with
    total income >= 80万 AND operating income >= 50万, as the plan says."""
    reg = load_registry(DATA)
    name = reg.indicators["ind_village_income_80w_share"].name_zh
    assert "80万元以上且经营性收入50万元以上" in name
    for ind in reg.indicators.values():
        for quote in ind.quotes:
            if "以上且" in quote and ind.villages == "total_80_and_operating_50":
                assert "且" in ind.name_zh, ind.id


def test_paper_tables_shorten_hashes_and_let_ids_wrap(rep, monkeypatch):
    from planbook.chapters import display

    shown = []
    monkeypatch.setattr(display, "_display", shown.append)
    rep.files_table()
    rep.registry_table("四")
    files, registry = shown
    assert re.search(r"<td>[0-9a-f]{64}</td>", files["text/html"])  # HTML: the full hash
    assert not re.search(r"[0-9a-f]{17}", files["text/markdown"])  # paper: 16 and …
    assert "…" in files["text/markdown"]
    rule = registry["text/markdown"].splitlines()[1].split("|")[1:-1]
    widths = dict(zip(registry["text/markdown"].splitlines()[0].split("|")[1:-1], rule,
                      strict=True))
    assert len(widths[" 编号 "]) < len(widths[" 方案原文 "])  # ids are not the widest column
    assert "ind_" not in registry["text/html"] or "\u200b" not in registry["text/html"]


@pytest.mark.parametrize("name", ["集体经济经营性收入50万元以上行政村占比",
                                  "集体经济年经营性收入100万元以上行政村占比",
                                  "行政村以上地区5G网络连片覆盖率", "PM2.5浓度"])
def test_figure_labels_never_split_a_number(name):
    from planbook.chapters.figures import wrap_zh

    lines = wrap_zh(name, 10, 3).split("\n")
    assert "".join(lines) == name
    for a, b in zip(lines, lines[1:], strict=False):
        assert not (a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum())


def test_register_hash_is_full_in_html_and_fits_the_page():
    from planbook.book.code import register_section

    sha = "c485f848723cdd3e21b8b607bb3976292df08c734a839fc5685c6bf271f2d348"
    entry = {"label": "fig-x", "kind": "figure", "chapter": "01_overall", "cell_id": "c1",
             "cell_index": 3, "inputs": [], "sha256": sha, "text": ""}
    _, md, html = register_section([entry], {"01_overall": "总体目标"}, "2025")
    assert f"<code class=\"pb-hash\">{sha}</code>" in html
    row = md.splitlines()[-1]
    assert sha not in row and "c485f848\u200b723cdd3e" in row  # 16 digits on two short lines


def test_register_table_keeps_every_row_when_a_quoted_text_has_line_breaks():
    # A department statement quoted as a number reads "主要进展：…\n下步打算：…". Its line break
    # once ended the PDF's pipe table there: the later rows became one paragraph of pipes.
    from planbook.book.code import register_section
    from planbook.book.pandoc import pandoc

    entries = [{"label": f"stmt-{n}", "kind": "number", "chapter": "01_overall",
                "cell_id": "c1", "cell_index": 3, "inputs": [], "sha256": "ab" * 32,
                "text": "主要进展：示例。\n下步打算：示例|续。\r\n佐证材料：台账"} for n in range(3)]
    _, md, html = register_section(entries, {"01_overall": "总体目标"}, "2025")
    typst = pandoc(md, "typst")
    # Three rows of seven cells, the value whole in its own cell ("|" too).
    assert typst.count("[主要进展：示例。 下步打算：示例|续。 佐证材料：台账], [总体目标], [c1]") == 3
    assert html.count("<tr>") == 4  # header and three rows
    wrapping = register_section([{**entries[0], "label": "num-all-on_track-2025"}],
                                {"01_overall": "总体目标"}, "2025")[1]
    # may wrap after "_" on paper; every ASCII mark escaped (escape.md_cell)
    assert "num\\-all\\-on\\_\u200btrack\\-2025" in wrapping


def test_trend_titles_do_not_overlap_and_the_numbers_come_along(rep, monkeypatch):
    from matplotlib.text import Text

    from planbook.chapters import display

    shown = []
    monkeypatch.setattr(display, "show_figure", lambda fig, data=None: shown.append((fig, data)))
    for chapter in ("二", "四"):
        rep.trend_figure(rep.chapter(chapter))
    for fig, data in shown:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        titles = [(ax, ax.get_title(loc="left")) for ax in fig.axes if ax.get_title(loc="left")]
        boxes = [next(t for t in ax.findobj(Text) if t.get_text() == title)
                 .get_window_extent(renderer) for ax, title in titles]
        for i, a in enumerate(boxes):
            assert not any(a.overlaps(b) for b in boxes[i + 1:])
        assert data is not None and len(data) == len(boxes)  # one 数据表 row per panel
