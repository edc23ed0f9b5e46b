"""The Quarto engine for real (Quarto 1.10.18; .ci/run installs it, absent it skips saying so):
its PDF is the same book as the built-in engine's (no overlapping table rows, figure and table
numbers as built-in, running header and stamp on every page), Quarto's messages reach the
analyst, and every period kind renders. Two Quarto builds in all (conftest quarto_build,
quarto_briefing); the rest reads them."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import clone_build, copy_project, need_quarto

from planbook.book.quarto import KNOWN_QUARTO_WARNING, quarto_log, quarto_messages

# --- reading a PDF (poppler's pdftotext / pdfinfo) ------------------------------------------

def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)[1])


class _Boxes(HTMLParser):
    """pdftotext -bbox: per page, its words (text, xMin, yMin, xMax, yMax)."""

    def __init__(self):
        super().__init__()
        self.pages: list[list[tuple[str, float, float, float, float]]] = []
        self.height = 0.0
        self._word: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "page":
            self.pages.append([])
            self.height = float(a["height"])
        elif tag == "word":
            self._word = ["", *(float(a[k]) for k in ("xmin", "ymin", "xmax", "ymax"))]

    def handle_endtag(self, tag):
        if tag == "word" and self._word is not None:
            self.pages[-1].append(tuple(self._word))
            self._word = None

    def handle_data(self, data):
        if self._word is not None:
            self._word[0] += data.strip()


def _words(pdf: Path) -> tuple[list[list[tuple]], float]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    parser = _Boxes()
    parser.feed(out)
    return parser.pages, parser.height


def _punct(c: str) -> bool:
    return unicodedata.category(c).startswith("P")


def _core(word: tuple) -> tuple:
    """The word's box without its leading and trailing punctuation: typst squeezes adjacent
    CJK punctuation (”、“) to half width, so those glyphs' boxes overlap their neighbours'."""
    text, x0, y0, x1, y1 = word
    step = (x1 - x0) / len(text)
    lead = len(text) - len(text.lstrip("".join(c for c in text if _punct(c))))
    trail = len(text) - len(text.rstrip("".join(c for c in text if _punct(c))))
    return text, x0 + lead * step, y0, x1 - trail * step, y1


def overlapping_words(pdf: Path) -> list[tuple[int, str, str]]:
    """Words printed over each other, per page: boxes overlapping by more than half a
    character each way (rows of a table drawn on top of each other or of the footer, or
    text running into the next column). Neighbouring words of one line overlap by less (a
    CJK quote or bracket is drawn half-width inside its full-width box)."""
    pages, height = _words(pdf)
    found = []
    for n, words in enumerate(pages, 1):
        # The running header is left out: on orange-book's part pages it lies under the
        # page's colour block, beneath the part's big numeral (hidden, but in the text).
        words = [w for w in words if w[2] > 0.06 * height]
        # A lone CJK comma's box overlaps its neighbours' on every line: only words with a
        # letter or digit count.
        words = sorted((_core(w) for w in words if any(c.isalnum() for c in w[0])),
                       key=lambda w: w[2])
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                if b[2] >= a[4]:
                    break  # sorted by top: no later word reaches up into a
                dx = min(a[3], b[3]) - max(a[1], b[1])
                dy = min(a[4], b[4]) - max(a[2], b[2])
                size = min(a[4] - a[2], b[4] - b[2])  # the smaller font's height
                if dx > 0.6 * size and dy > 0.3 * size:
                    found.append((n, a[0], b[0]))
    return found


def _text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")


def _quarto_warnings(root: Path, period: str) -> list[str]:
    log = quarto_log(period, root).read_text(encoding="utf-8")
    return [m for m in quarto_messages(log) if KNOWN_QUARTO_WARNING not in m]


# --- the 2025 book -------------------------------------------------------------------------

def test_quarto_pdf_has_no_overlapping_rows(quarto_build):
    pdf = quarto_build / "reports" / "2025" / "report.pdf"
    assert overlapping_words(pdf) == []


def test_quarto_pdf_numbers_as_built_in(quarto_build):
    pages = _text(quarto_build / "reports" / "2025" / "report.pdf")
    text = "\n".join(pages)
    # never chapter 0: the summary is unnumbered (图1, 表1), the chapters take the plan's
    # chapter numbers (二、总体目标: 图2.1) and the appendices letters, as built in
    assert not re.search(r"[图表]\s*0\.\d", text)
    assert re.search(r"表\s*1[^.\d]", text) and re.search(r"图\s*2\.1\b", text)
    assert re.search(r"图\s*E\.1\b", text)


def test_quarto_pdf_running_header_and_stamp(quarto_build):
    """The stamp (and the sample notice) on every page but orange-book's cover; the running
    header on every page of the body (orange-book's contents come before the rules that
    set it: quarto.quarto_book_typst)."""
    from planbook.book.spec import book_spec
    from planbook.run.period import resolve

    book = book_spec(resolve("2025", quarto_build))
    pdf = quarto_build / "reports" / "2025" / "report.pdf"
    pages, height = _words(pdf)
    tops = ["".join(w[0] for w in words if w[2] < 0.08 * height) for words in pages]
    feet = ["".join(w[0] for w in words if w[2] > 0.9 * height) for words in pages]
    assert all(book.stamp.replace(" ", "") in foot and "示例数据" in foot for foot in feet[1:])
    first = next(n for n, top in enumerate(tops) if book.short_title in top)
    assert first < 10 and "报告摘要" in "".join(tops[first:first + 3])
    assert all(book.short_title in top for top in tops[first:])


def test_quarto_messages_reach_the_analyst(quarto_build):
    """Quarto's output is kept in the build log; no WARN but the known typst-gather line."""
    log = quarto_log("2025", quarto_build)
    assert log.is_file() and "quarto render" in log.read_text(encoding="utf-8")
    assert _quarto_warnings(quarto_build, "2025") == []
    said = (quarto_build / "build-lines.txt").read_text(encoding="utf-8")
    known = [m for m in quarto_messages(log.read_text(encoding="utf-8"))]
    if known:  # shown to the analyst, framed in Chinese, with where the whole output is
        assert "Quarto 给出" in said and str(log) in said


def test_quarto_messages_are_found():
    out = ("[1/3] chapters/a.ipynb\nWARN: typst-gather analyze failed; staging all packages\n"
           "WARNING (/x/filter.lua:3) label fig-a is duplicated\n"
           "[WARNING] Could not fetch resource x.png\nERROR: bad\nOutput created: a.pdf\n")
    assert quarto_messages(out) == (
        "WARN: typst-gather analyze failed; staging all packages",
        "WARNING (/x/filter.lua:3) label fig-a is duplicated",
        "[WARNING] Could not fetch resource x.png", "ERROR: bad")


# --- the 2026-10 briefing --------------------------------------------------------------------

def test_quarto_briefing_pdf(quarto_briefing, tmp_path):
    """The briefing through Quarto: no overlap, no warning, and at most two pages more than
    the built-in engine makes of the same executed notebooks (rendered here in a copy)."""
    from planbook.build import render_book
    from planbook.run.period import resolve

    pdf = quarto_briefing / "reports" / "2026-10" / "report.pdf"
    copy = clone_build(quarto_briefing, tmp_path / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLANBOOK_ROOT", str(copy))
        built_in = render_book(resolve("2026-10", copy), engine="builtin")
    assert built_in.engine == "builtin"
    assert _pages(pdf) <= _pages(built_in.pdf) + 2  # 10 against 8 here (narrow table columns)
    assert overlapping_words(pdf) == []
    assert _quarto_warnings(quarto_briefing, "2026-10") == []


# --- render without a build ----------------------------------------------------------------

@pytest.mark.parametrize("period", ["2024", "2026-10"])
def test_render_before_run_says_what_to_run(project, period, capsys):
    """A period never run: render (either engine) names the exact commands, in Chinese,
    before writing anything."""
    from planbook.cli import main

    assert main(["render", "--period", period, "--engine", "builtin"]) == 1
    err = capsys.readouterr().err
    assert f"{period} 的笔记本尚未执行" in err
    assert f"planbook run --period {period}" in err
    assert f"planbook build --period {period} --engine builtin" in err
    assert not (project / "reports" / period / "report.pdf").exists()


@pytest.mark.quarto_render
def test_quarto_renders_the_final_report(tmp_path):
    """The final report (2027, after its cut-off) rendered through Quarto from notebooks that
    `planbook run` executed: `planbook render --engine quarto` needs no Quarto build first.
    (2025 midterm and 2026-10 briefing: the fixtures; 2024 annual is the same book.)"""
    import datetime as dt

    need_quarto()
    from conftest import AFTER_FINAL_CUTOFF

    from planbook import clock
    from planbook.cli import main

    root = copy_project(tmp_path / "project")
    later = dt.datetime.fromisoformat(AFTER_FINAL_CUTOFF + "T09:00:00").replace(
        tzinfo=clock.JIANDE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "now", lambda: later)
        mp.setenv("PLANBOOK_ROOT", str(root))
        mp.chdir(root)
        assert main(["run", "--period", "2027"]) == 0
        assert main(["render", "--period", "2027", "--engine", "quarto"]) == 0
    pdf = root / "reports" / "2027" / "report.pdf"
    assert overlapping_words(pdf) == []
    assert _quarto_warnings(root, "2027") == []


# --- the typst rules, without Quarto -----------------------------------------------------------

def test_book_typst_rules_on_a_long_quarto_table(tmp_path):
    """quarto_book_typst over a page shaped as Quarto writes it (a state of orange-book, a
    long table as a figure of kind quarto-float-tbl, an unnumbered summary, then a chapter):
    the table breaks across pages with no row over another or over the footer, the summary's
    table is 表1 and the chapter's 表1.1, and every page has the running header and stamp."""
    from types import SimpleNamespace

    import typst

    from planbook.book.assets import font_dir
    from planbook.book.quarto import quarto_book_typst

    book = SimpleNamespace(short_title="某某评估报告", stamp="2025年 · 数据截至2026年3月31日 · 第1版")
    rows = "".join(f"[指标{i}], [{i * 1.5}], [very_long_identifier_{i}_of_a_figure], "
                   for i in range(120))

    def table(n):
        return (f'#figure([#table(columns: (1fr, 1fr, 2cm), {rows})], caption: figure.caption('
                f'position: top, [长表{n}]), kind: "quarto-float-tbl", supplement: "表")\n')

    doc = "\n".join([
        '#set text(font: ("Noto Serif CJK SC",), lang: "zh")',
        '#set heading(numbering: (..n) => if n.pos().len() == 1 { numbering("1.", ..n) })',
        # as Quarto's typst book does: each chapter numbers its tables from 1
        '#show heading.where(level: 1): it => { counter(figure.where(kind: "quarto-float-tbl"))'
        '.update(0); it }',
        quarto_book_typst(book, sample_notice=True),
        "#heading(numbering: none)[报告摘要]", table(1),
        "= 总体目标", table(2),
    ])
    main = tmp_path / "doc.typ"
    main.write_text(doc, encoding="utf-8")
    pdf = tmp_path / "doc.pdf"
    typst.compile(str(main), output=str(pdf), font_paths=[str(font_dir())],
                  ignore_system_fonts=True)
    assert _pages(pdf) >= 6
    assert overlapping_words(pdf) == []
    text = "\n".join(_text(pdf))
    assert re.search(r"表\s*1\s+长表\s*1", text) and re.search(r"表\s*1\.1\s+长表\s*2", text)
    pages, height = _words(pdf)
    for words in pages:
        top = "".join(w[0] for w in words if w[2] < 0.08 * height)
        foot = "".join(w[0] for w in words if w[2] > 0.9 * height)
        assert "某某评估报告" in top and "第1版" in foot and "示例数据" in foot
