"""What chapter notebooks call to emit outputs both render engines understand.

- `show_markdown(text)` displays narrative as a `text/markdown` output. Use it in a cell
  marked `#| output: asis`: Quarto and the built-in engine then insert the text as markdown
  without enclosing it (no output div, so its headings make sections), and JupyterLab or
  `jupyter nbconvert` show it formatted. Emit `##` or lower headings: a `#` heading starts a
  new chapter.
- `div_lines` / `span` write pandoc's divs and spans as HTML tags (`<div class=…>`, which
  pandoc reads as the same Div as a `:::` fence, and Quarto alike), so a notebook viewer
  shows their content as text instead of `:::` lines; a div only for paper also carries
  `hidden`, so a viewer, which shows the screen's version, hides it.
- `show_table(df)` emits one display_data with `text/html` (styled, status lights as
  coloured dots) for HTML and `text/markdown` (a pipe table) for PDF/typst.
- `show_figure(fig)` emits deterministic `image/svg+xml` and closes the figure.

Captions, labels and alt text come from the cell options (`#| label: tbl-…`,
`#| tbl-cap: …`, `#| fig-cap: …`, `#| fig-alt: …`), never from these functions.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from planbook.assess.rules import LIGHT_ZH, LIGHTS  # the status vocabulary lives in assess
from planbook.chapters.provenance import KEY  # planbook's key in output metadata
from planbook.escape import html_text, md_cell, md_text

# Each light at least 3:1 against the page and the table stripes (WCAG 1.4.11 for a mark that
# carries meaning; the light's word always goes with it): a darker gold, a mid grey.
# book.css, assets/light_dots.lua and the portal use the same (tests/test_validators.py).
LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#b07d00", "red": "#c62828", "grey": "#767676"}
# Date and Creator (matplotlib's version) are the only metadata matplotlib adds by default.
SHORT_CELL = 6  # characters: a column whose every cell is this short is set without wrapping
EMPTY_TABLE = "本期没有符合本表条件的记录，本表无数据行。"
SVG_METADATA = {"Date": None, "Creator": None}
SVG_HASHSALT = "planbook"
# A figure's numbers as an HTML table, shown under the chart in a <details> 数据表 (chart text
# is drawn as paths). Kept in the figure output's metadata (planbook.figdata), not as a MIME
# type of its own: every output type must be one Quarto renders, and Quarto ignores output
# metadata (see chapters.provenance, where the audit records live the same way).
FIGDATA_KEY = "figdata"
# Pandoc bracketed spans: the dot takes its light's colour from its class (book.css for HTML,
# assets/light_dots.lua for typst); the character keeps the light readable in black and white.
LIGHT_TEXT = {"green": '<span class="pb-dot pb-dot-green">●</span>绿',
              "yellow": '<span class="pb-dot pb-dot-yellow">●</span>黄',
              "red": '<span class="pb-dot pb-dot-red">●</span>红',
              "grey": '<span class="pb-dot pb-dot-grey">○</span>灰'}
# Pipe-table column widths (dash counts, which pandoc turns into relative widths), in
# display columns (a CJK character is two) of the PDF's 8pt table text: A4 less 2 cm margins
# holds about 120, less each cell's inset.
PAGE_COLUMNS = 112
CELL_PAD = 2
SHORT_COLUMN = 18  # a column no wider than this (8 CJK characters) is never wrapped
MIN_LONG_COLUMN = 14


def _display(bundle: Mapping[str, str], metadata: dict | None = None) -> None:
    from IPython.display import display

    display(dict(bundle), raw=True, metadata=metadata)


def show_markdown(text: str) -> None:
    """Display narrative markdown (a `#| output: asis` cell) as one `text/markdown` output;
    empty text shows nothing. No text/plain copy: every reader of the notebook (Quarto, the
    built-in engine, Jupyter) renders text/markdown, and a copy would double its size."""
    if text.strip():
        _display({"text/markdown": text})


def _attributes(classes: str, attrs: Mapping[str, str] | None) -> str:
    pairs = [("class", classes), *((attrs or {}).items())]
    return "".join(f' {k}="{html_text(v)}"' for k, v in pairs)


def span(text: str, classes: str, attrs: Mapping[str, str] | None = None) -> str:
    """A pandoc Span written as an HTML tag: `span("●", "pb-dot")` reads as `[●]{.pb-dot}`."""
    return f"<span{_attributes(classes, attrs)}>{text}</span>"


def div_lines(classes: str, body: Sequence[str], attrs: Mapping[str, str] | None = None, *,
              indent: str = "", hidden: bool = False) -> list[str]:
    """A pandoc Div written as HTML tags around markdown lines (the same Div as a `:::`
    fence). The blank lines after the opening and before the closing tag make CommonMark
    viewers (Jupyter) read the body as markdown too. `indent`: the content column of the
    list item the div sits in. `hidden`: kept from viewers (a paper-only div)."""
    flag = " hidden" if hidden else ""
    return [f"{indent}<div{_attributes(classes, attrs)}{flag}>", "", *body, "",
            f"{indent}</div>"]


SCREEN = {"when-format": "html"}  # with content-visible: HTML only; content-hidden: not HTML


def screen_only(text: str) -> str:
    """Markdown shown in the HTML book only (a span; assets/formats.lua, Quarto alike): the
    long provenance of a quoted passage, which the PDF gives by its 溯源标签 alone."""
    return span(text, "content-visible", SCREEN) if text else ""


def capped_list(items: Sequence[str], limit: int, rest: str = "", *,
                indent: str = "") -> list[str]:
    """Markdown list lines (`- …`) of which the PDF shows the first `limit` and says
    共N项，列出前M项 (then `rest`: where the others are); the HTML shows every item.
    `indent`: the content column of the list item the items are nested in ("  " under
    `- …`), where the format-only blocks must start (assets/formats.lua)."""
    items = list(items)
    if len(items) <= limit:
        return items
    note = f"（共{len(items)}项，列出前{limit}项{('；' + rest) if rest else ''}）"
    return [*items[:limit], "",
            *div_lines("content-visible", items[limit:], SCREEN, indent=indent), "",
            *div_lines("content-hidden", [f"{indent}{note}"], SCREEN, indent=indent,
                       hidden=True), ""]


def light_columns(df: pd.DataFrame) -> list[str]:
    """Columns whose every non-empty value is a light code (green/yellow/red/grey)."""
    out = []
    for col in df.columns:
        values = {v for v in df[col].dropna().tolist() if v != ""}
        if values and all(isinstance(v, str) and v in LIGHTS for v in values):
            out.append(col)
    return out


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return str(value)


def _light_html(code: str) -> str:
    colour = LIGHT_COLOURS[code]
    label = LIGHT_ZH[code]
    # Inline style so the dot also shows in Quarto's HTML, which lacks the built-in CSS.
    return (f'<span class="pb-light pb-light-{code}" title="{label}" role="img" '
            f'aria-label="{label}" style="display:inline-block;width:0.85em;height:0.85em;'
            f'border-radius:50%;vertical-align:-0.1em;background:{colour}"></span>'
            f'<span class="pb-light-text">{label}</span>')


# A column's links: per row (HTML href, markdown target) or None for no link.
Links = Mapping[str, Sequence[tuple[str, str] | None]]


def table_html(df: pd.DataFrame, *, index: bool = False, lights: Iterable[str] | None = None,
               links: Links | None = None) -> str:
    """A plain, class-styled HTML table; light columns become coloured dots with their label;
    `links` makes a column's cells links (an indicator's name → its 指标档案 entry)."""
    frame = df.reset_index() if index else df
    links = links or {}
    light_cols = set(light_columns(frame) if lights is None else lights)
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    num_cls = ' class="num"'
    # A column of short words (状态 需加快推进, 灯号) never wraps: one character a line is
    # what a narrow column otherwise does at 1280 px and on a phone.
    short = {c for c in frame.columns if c not in numeric and c not in light_cols
             and max((len(_cell_text(v)) for v in frame[c]), default=0) <= SHORT_CELL}
    head = "".join(f"<th{num_cls if c in numeric else ''}>{html_text(c)}</th>"
                   for c in frame.columns)
    rows = []
    for n, rec in enumerate(frame.itertuples(index=False, name=None)):
        cells = []
        for col, value in zip(frame.columns, rec, strict=True):
            if col in light_cols and value in LIGHTS:
                cells.append(f'<td class="light">{_light_html(value)}</td>')
            else:
                cls = num_cls if col in numeric else ' class="pb-nowrap"' if col in short else ""
                text = html_text(_cell_text(value))
                link = links[col][n] if col in links else None
                if link:
                    text = f'<a href="{html_text(link[0])}">{text}</a>'
                cells.append(f"<td{cls}>{text}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table class="pb-table">\n<thead><tr>{head}</tr></thead>\n'
            f'<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>")


def breakable_id(text: str) -> str:
    """A snake_case id that may wrap after its underscores on paper (zero-width spaces), so
    it does not claim a table's widest column."""
    return text.replace("_", "_\u200b")


def _width(text: str) -> int:
    # CJK characters take two columns; pandoc's relative widths should reflect that.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pieces(cell: str) -> list[str]:
    # A cell that may wrap at zero-width spaces needs only its longest piece for one line.
    return cell.split("\u200b")


def _lines(widths: Sequence[int], width: int) -> int:
    """Lines a cell of these pieces takes in a column `width` wide (less its padding)."""
    room = max(1, width - CELL_PAD)
    return sum(max(1, -(-w // room)) for w in widths)


def column_widths(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[int]:
    """Relative column widths for a pipe table (its dash counts), in display columns (a CJK
    character is two) of the PDF's table text, a page wide being PAGE_COLUMNS.

    A table that fits gets each column its longest cell. One that does not keeps its short
    columns (status words, lights, numbers, years: at most SHORT_COLUMN) on one line and
    gives the rest of the width, a character at a time, to the long column where it saves
    the most lines over the whole table (a row is as tall as its tallest cell). A header may
    take two lines."""
    heads = [(_width(h) + 1) // 2 if len(h) > 2 else _width(h) for h in header]
    cells = [[[_width(p) for p in _pieces(r[i])] for r in body] for i in range(len(header))]
    natural = [max([heads[i], *(w for c in cells[i] for w in c)]) + CELL_PAD
               for i in range(len(header))]
    if sum(natural) <= PAGE_COLUMNS:
        return [max(3, w) for w in natural]
    widths = [w if w <= SHORT_COLUMN else min(w, MIN_LONG_COLUMN) for w in natural]
    lines = [[_lines(c, widths[i]) for c in cells[i]] for i in range(len(header))]
    room = PAGE_COLUMNS - sum(widths)
    while room >= 2:
        best = None  # (lines saved per column of width, column, step)
        for i, w in enumerate(widths):
            others = [max((lines[j][r] for j in range(len(header)) if j != i), default=1)
                      for r in range(len(body))]
            now = (sum(max(o, a) for o, a in zip(others, lines[i], strict=True)),
                   sum(lines[i]))
            # The narrowest widening that saves a line (a wrapped cell needs a whole
            # character more per line before it loses one).
            for step in range(2, min(room, natural[i] - w) + 1, 2):
                wider = [_lines(c, w + step) for c in cells[i]]
                saved = (now[0] - sum(max(o, b) for o, b in zip(others, wider, strict=True)),
                         now[1] - sum(wider))
                if saved > (0, 0):
                    rate = (saved[0] / step, saved[1] / step)
                    if best is None or rate > best[0]:
                        best = (rate, i, step)
                    break
        if best is None:
            break
        _, i, step = best
        widths[i] += step
        lines[i] = [_lines(c, widths[i]) for c in cells[i]]
        room -= step
    return [max(3, w) for w in widths]


def table_markdown(df: pd.DataFrame, *, index: bool = False,
                   lights: Iterable[str] | None = None, links: Links | None = None) -> str:
    """A pandoc pipe table; light codes become their Chinese label (绿灯 …)."""
    frame = df.reset_index() if index else df
    links = links or {}
    light_cols = set(light_columns(frame) if lights is None else lights)
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    header = [" ".join(str(c).split()) for c in frame.columns]
    body = []  # the cells as shown; escaped (md_cell) once their widths are measured
    for rec in frame.itertuples(index=False, name=None):
        row = []
        for col, value in zip(frame.columns, rec, strict=True):
            text = LIGHT_ZH[value] if col in light_cols and value in LIGHTS else _cell_text(value)
            row.append(" ".join(text.split()))
        body.append(row)
    widths = column_widths(header, body)
    rule = []
    for col, w in zip(frame.columns, widths, strict=True):
        rule.append("-" * (w - 1) + ":" if col in numeric else ":" + "-" * (w - 1))
    header = [md_cell(c) for c in header]
    body = [[md_cell(c) for c in r] for r in body]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    for col, targets in links.items():  # after the widths: a link's target takes no room
        i = list(frame.columns).index(col)
        for r, link in zip(body, targets, strict=True):
            if link:
                r[i] = f"[{r[i]}]({link[1]})"
    lines += ["| " + " | ".join(r) + " |" for r in body]
    # A line over pandoc's 72 columns makes it use the dash counts as relative widths, so
    # long Chinese cells wrap instead of running off the page; short tables keep natural width.
    return "\n".join(lines)


def show_table(df: pd.DataFrame, *, index: bool = False, lights: Iterable[str] | None = None,
               pdf: pd.DataFrame | None = None, links: Links | None = None,
               empty: str = EMPTY_TABLE) -> None:
    """Display a table for both engines: styled text/html and a text/markdown pipe table.
    A table without rows is the sentence `empty` instead of a bare header row.

    `lights` names the columns holding light codes; by default every column whose values
    are all green/yellow/red/grey is one. `pdf`: a narrower version for the page (shortened
    hashes, breakable ids), used for the markdown only; HTML keeps the full table.
    """
    if df.empty:
        _display({"text/html": f'<p class="pb-empty-table">{html_text(empty)}</p>',
                  "text/markdown": md_text(empty), "text/plain": empty})
        return
    _display({
        "text/html": table_html(df, index=index, lights=lights, links=links),
        "text/markdown": table_markdown(df if pdf is None else pdf, index=index, lights=lights,
                                        links=links),
        "text/plain": df.to_string(index=index),
    })


def figure_svg(fig) -> str:
    """The figure as SVG text with no date, no creator and fixed element ids.

    With `savefig.bbox: tight` (the house style) and no active layout engine, the crop box is
    measured here and handed to savefig, which then draws once instead of twice (see
    `_tight_bbox_inches`); the bytes are the same as savefig's own tight crop
    (tests/test_figures.py compares every kind of house figure both ways).
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT}):
        if not _one_pass(fig):
            fig.savefig(buf, format="svg", metadata=SVG_METADATA)
            return buf.getvalue()
        engine = fig.get_layout_engine()
        bbox = _tight_bbox_inches(fig)
        # tight_layout leaves a placeholder engine, and any engine makes savefig draw first.
        fig.set_layout_engine(None)
        try:
            # dpi=72: the figure's dpi while savefig crops, as in its own tight path; it sets
            # only the resolution of raster parts, which a one-pass figure has none of.
            fig.savefig(buf, format="svg", metadata=SVG_METADATA, bbox_inches=bbox, dpi=72)
        finally:
            fig.set_layout_engine(engine)
    return buf.getvalue()


def _one_pass(fig) -> bool:
    """Whether `figure_svg` may crop the figure itself: a tight crop asked for, no layout
    engine left to run (tight_layout leaves only a placeholder), nothing drawn as raster."""
    import matplotlib
    from matplotlib.image import AxesImage, BboxImage, FigureImage
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    rc = matplotlib.rcParams
    return (rc["savefig.bbox"] == "tight" and not rc["figure.autolayout"]
            and isinstance(fig.get_layout_engine(), (type(None), PlaceHolderLayoutEngine))
            and all(ax.get_rasterization_zorder() is None for ax in fig.axes)
            and not fig.findobj(lambda a: a.get_rasterized()
                                or isinstance(a, AxesImage | BboxImage | FigureImage)))


def _tight_bbox_inches(fig):
    """The box savefig(bbox_inches="tight") crops an SVG to, measured as it measures it (an SVG
    renderer, the figure at 72 dpi, savefig.pad_inches around) but without the pass over every
    artist with drawing disabled that savefig makes first. The axes are already placed
    (tight_layout), and get_tightbbox updates ticks and titles itself, so that pass changes
    nothing; it costs about as much as the measuring."""
    import matplotlib
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    dpi = fig.dpi
    fig.dpi = 72  # what print_svg sets while it measures and draws
    try:
        width, height = fig.get_size_inches()
        renderer = MixedModeRenderer(fig, width, height, dpi, RendererSVG(
            width * 72, height * 72, io.StringIO(), image_dpi=dpi))
        bbox = fig.get_tightbbox(renderer)
    finally:
        fig.dpi = dpi
    return bbox.padded(matplotlib.rcParams["savefig.pad_inches"])


def show_figure(fig, data: pd.DataFrame | None = None) -> None:
    """Display a matplotlib figure as deterministic SVG, then close it (no second PNG copy).
    `data`: the numbers drawn, offered to readers as a table under the chart (HTML)."""
    import matplotlib.pyplot as plt

    try:
        svg = figure_svg(fig)
    finally:
        plt.close(fig)
    meta = ({KEY: {FIGDATA_KEY: table_html(data)}} if data is not None and len(data)
            else None)
    _display({"image/svg+xml": svg, "text/plain": "<Figure>"}, meta)


def figure_data(output: Mapping) -> str | None:
    """The HTML data table `show_figure` stored with a figure output, if any."""
    return (output.get("metadata") or {}).get(KEY, {}).get(FIGDATA_KEY)
