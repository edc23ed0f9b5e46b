"""Issue 26's polish a reviewer notices: one chapter crosswalk, full-width punctuation, counts
that say their rule, shortened lists that say so, empty tables as sentences, short columns
that never wrap, figure labels above a floor, status colours in the heatmap, and a phone
layout whose wide boxes scroll with a visible cue."""

from __future__ import annotations

import re

import matplotlib.text
import pandas as pd
import pytest

from planbook.assess.narrative import zh_punct
from planbook.book.spec import BookPage, chapter_numbers
from planbook.chapters import catalogue, display, figures

PERIOD = "2025"


# --- units -----------------------------------------------------------------------------------

def test_chapter_numbers_follow_the_plan():
    plan = [c.plan_chapter for c in catalogue.ANNUAL if c.plan_chapter]
    assert chapter_numbers(plan) == ["2", "3", "4", "5", "6"]
    assert chapter_numbers([None, *plan]) == ["1", "2", "3", "4", "5", "6"]  # a front part
    page = BookPage("02_county", "x", "全面提升县城承载能力", "chapter", "3")
    assert page.heading_prefix == "第三章"
    assert BookPage("a1", "x", "t", "appendix", "B").heading_prefix == "附录B"


@pytest.mark.parametrize(("plain", "printed"), [
    ("发展优势产业,实施经济效能提高行动", "发展优势产业，实施经济效能提高行动"),
    ("和美乡村示范村(未来乡村)", "和美乡村示范村（未来乡村）"),
    ("互联网协议第6版(IPv6)全面部署", "互联网协议第6版（IPv6）全面部署"),
    ("让村(社)使出浑身解数;数据:来源", "让村（社）使出浑身解数；数据：来源"),
    ("2026-03-31 09:00, 1,376 (a)", "2026-03-31 09:00, 1,376 (a)"),
])
def test_zh_punct(plain, printed):
    assert zh_punct(plain) == printed
    assert zh_punct(printed) == printed


def test_dashboard_names_wrap_at_word_breaks():
    assert figures.wrap_zh("村级集体经济经营性收入50万元以上行政村占比", 14, 2, breaks=True) \
        == "村级集体经济经营性收入\n50万元以上行政村占比"
    assert figures.wrap_zh("重点项目累计完成投资额（亿元）", 14, 2, breaks=True) \
        == "重点项目累计完成投资额\n（亿元）"


@pytest.fixture()
def drawn(monkeypatch):
    shown = []
    monkeypatch.setattr(figures, "_show", lambda fig, inputs=(), data=None: shown.append(fig))
    yield shown
    import matplotlib.pyplot as plt

    plt.close("all")


def _texts(fig) -> list[matplotlib.text.Text]:
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]


def test_dashboard_and_heatmap_labels_are_at_least_the_floor(drawn):
    tiles = [{"name": "村级集体经济经营性收入50万元以上行政村占比", "value": "35.2%",
              "target": "60%", "status": "需加快推进", "light": "yellow"}] * 5
    figures.dashboard(tiles)
    counts = pd.DataFrame({"已达标": [3, 0], "出现倒退": [0, 4]}, index=["三(一)", "三(二)"])
    figures.status_heatmap(counts)
    for fig in drawn:
        small = [(t.get_text(), t.get_fontsize()) for t in _texts(fig)
                 if t.get_fontsize() < figures.MIN_FONT]
        assert not small, small
    assert figures.MIN_FONT >= 7.5


def _contrast(a, b) -> float:
    la, lb = sorted((figures._luminance(matplotlib.colors.to_rgb(c)) for c in (a, b)),
                    reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_heatmap_shades_each_status_in_its_own_colour_with_readable_numbers(drawn):
    counts = pd.DataFrame({"已达标": [3, 1], "出现倒退": [2, 4], "暂无数据": [0, 1]},
                          index=["三(一)", "三(二)"])
    figures.status_heatmap(counts)
    [fig] = drawn
    image = fig.axes[0].get_images()[0].get_array()
    green, red = image[0, 0], image[1, 1]
    assert green[1] > green[0] and red[0] > red[1]  # good green, bad red: not one blue scale
    assert tuple(image[0, 2]) == (1.0, 1.0, 1.0)  # a zero stays white
    numbers = [t for t in _texts(fig) if re.fullmatch(r"\d+", t.get_text())]
    assert len(numbers) == counts.size
    for t in numbers:
        i, j = round(t.get_position()[1]), round(t.get_position()[0])
        if counts.iloc[i, j]:
            assert _contrast(t.get_color(), image[i, j]) >= 4.5, t.get_text()


def test_an_empty_table_is_a_sentence(monkeypatch):
    shown = []
    monkeypatch.setattr(display, "_display", shown.append)
    display.show_table(pd.DataFrame(columns=["指标", "期间"]), empty="本期没有经过修订的观测值。")
    [out] = shown
    assert out["text/markdown"] == "本期没有经过修订的观测值。"
    assert "<table" not in out["text/html"] and "<th" not in out["text/html"]


def test_short_columns_never_wrap():
    html = display.table_html(pd.DataFrame({"指标": ["农村居民人均可支配收入" * 2],
                                            "状态": ["需加快推进"], "灯号": ["red"]}),
                              lights=["灯号"])
    assert '<td class="pb-nowrap">需加快推进</td>' in html
    assert '<td class="light">' in html and "<td>农村" in html


# --- the built book --------------------------------------------------------------------------

def _html(root):
    return root / "reports" / PERIOD / "html"


def test_the_built_book_numbers_chapters_as_the_plan_does(sample_build):
    html = _html(sample_build)
    county = (html / "02_county.html").read_text(encoding="utf-8")
    assert "第三章" in county and "第2章" not in county and "第1章" not in county
    nav = (html / "index.html").read_text(encoding="utf-8")
    for prefix in ("第二章", "第三章", "第四章", "第五章", "第六章"):
        assert prefix in nav, prefix
    # headings in full-width punctuation; the plan's ASCII marks only inside its quotations
    assert "发展优势产业，实施经济效能提高行动" in county
    headings = re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", county)
    # a task's id stays as the plan and the evaluator's file write it (三(一)1): an id, not prose
    ids = re.compile(r"[一二三四五六]\([一二三四五六七八九十]+\)\d*")
    assert headings and not any(re.search(r"[\u4e00-\u9fff][,(]", ids.sub("", h))
                                for h in headings)


def test_the_built_book_says_its_counting_rules(sample_build):
    html = _html(sample_build)
    text = "".join(p.read_text(encoding="utf-8") for p in [html / "index.html",
                                                           *sorted(html.glob("0*.html"))])
    assert "各行指标数之和可多于本节监测的指标数" in text
    assert "第二部分总体目标不是任务" in text  # where the task count is printed (the summary)
    for m in re.finditer(r"需要重点关注的指标（共.*?(\d+)</span>项(，按严重程度列出前(\d+)项)?）",
                         text):
        listed = m.group(3)
        assert listed is None or int(m.group(1)) > int(listed)
    assert "需要重点关注的指标：" not in text
    quality = (html / "a3_quality.html").read_text(encoding="utf-8")
    assert "pb-empty-table" in quality or "<tbody>" in quality


@pytest.fixture()
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield context.new_page()
    context.close()


def test_phone_headers_stay_level_and_wide_boxes_show_a_cue(phone, sample_build):
    phone.goto((_html(sample_build) / "index.html").as_uri())
    boxes = phone.eval_on_selector_all(".pb-table-wrap, .pb-figure-scroll", """els => els.map(e => ({
        wide: e.scrollWidth > e.clientWidth + 1, more: e.classList.contains('pb-more'),
        cue: !!(e.nextElementSibling && e.nextElementSibling.classList.contains('pb-scroll-cue')
                && getComputedStyle(e.nextElementSibling).display !== 'none'),
        overflow: getComputedStyle(e).overflowX}))""")
    wide = [b for b in boxes if b["wide"]]
    assert wide, "the summary's dashboard and heatmap are wider than a phone"
    assert all(b["more"] and b["cue"] and b["overflow"] == "auto" for b in wide), wide
    phone.goto((_html(sample_build) / "02_county.html").as_uri())
    heads = phone.eval_on_selector_all("thead th", """els => els.map(e => {
        const r = e.getBoundingClientRect(); return [e.textContent, r.width, r.height]; })""")
    assert heads
    tall = [h for h in heads if h[2] > h[1] * 1.5 and len(h[0]) > 1]
    assert not tall, tall  # a header set one character a line is taller than wide
