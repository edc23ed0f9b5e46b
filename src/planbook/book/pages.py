"""A book page read from an executed notebook (or a static .qmd) and written as pandoc markdown.

Pandoc's own .ipynb reader shows every code cell and renders `text/markdown` outputs as their
text/plain repr, so the built-in engine reads notebooks with nbformat and honours the Quarto
cell options itself. Reading gives a list of blocks with figure and table numbers assigned;
writing turns them into markdown for one target:

- "html":  styled `text/html` tables and `<figure>`s as raw HTML;
- "typst": `text/markdown` pipe tables and markdown images (pandoc turns them into typst);
- "quarto": Quarto's own figure/table syntax (used for the generated index.qmd).

Which output a cell shows (first match wins):

| output                  | html target                 | typst target                  |
|-------------------------|-----------------------------|-------------------------------|
| text/markdown, asis     | markdown (narrative)        | markdown                      |
| stream stdout, asis     | markdown                    | markdown                      |
| stream stdout           | preformatted block          | preformatted block            |
| stream stderr           | dropped (warning: false)    | dropped                       |
| image/svg+xml, png, jpeg| figure (file next to page)  | figure (same file)            |
| text/html, text/markdown| text/html, else markdown    | text/markdown, else html→md   |
| text/plain only         | preformatted block          | preformatted block            |
| other MIME types        | dropped                     | dropped                       |
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from planbook.book.spec import BookPage
from planbook.chapters.display import figure_data
from planbook.errors import RenderError
from planbook.escape import html_text, md_text

SKIP_TAGS = {"injected-parameters", "parameters", "remove-cell"}
IMAGE_TYPES = (("image/svg+xml", "svg"), ("image/png", "png"), ("image/jpeg", "jpg"))
_OPTION = re.compile(r"^#\|\s?(.*)$")
_H1 = re.compile(r"^#[ \t]+(?P<title>.+?)[ \t]*(?:\{(?P<attrs>[^}]*)\})?[ \t]*$", re.MULTILINE)
_REF = re.compile(r"\[@((?:fig|tbl|sec)-[\w\-]*\w)\]|(?<![\w.@/\\-])@((?:fig|tbl|sec)-[\w\-]*\w)")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


@dataclass
class Captioned:
    """A numbered figure or table; what the caption hook (issue 7's 溯源 links) is given."""

    label: str
    kind: str  # "fig" | "tbl"
    number: str  # "1.2", "A.1" or "3" on an unnumbered page
    caption: str
    alt: str
    page: BookPage
    cell_id: str | None
    cell_index: int | None

    @property
    def display_number(self) -> str:
        return f"{'图' if self.kind == 'fig' else '表'} {self.number}"


# (item, target) -> extra caption text: raw HTML for "html", typst-safe markdown for "typst".
CaptionHook = Callable[[Captioned, str], str]


def no_caption_links(item: Captioned, target: str) -> str:
    return ""


@dataclass
class Block:
    kind: str  # "md" | "pre" | "figure" | "table" | "rich"
    text: str = ""  # md / pre / rich markdown
    html: str | None = None  # rich or table text/html
    asset: str | None = None  # figure file, relative to the page
    item: Captioned | None = None
    cell_index: int | None = None


@dataclass
class PageContent:
    page: BookPage
    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)
    assets: dict[str, bytes] = field(default_factory=dict)
    items: list[Captioned] = field(default_factory=list)

    @property
    def assets_dir(self) -> str:
        return f"{self.page.key}_files"


def cell_options(source: str) -> dict:
    """The `#| key: value` lines at the top of a code cell, parsed as YAML."""
    lines = []
    for line in source.splitlines():
        m = _OPTION.match(line)
        if not m:
            break
        lines.append(m.group(1))
    if not lines:
        return {}
    return dict(_parse_options("\n".join(lines)))


# libyaml's parser when PyYAML has it (the same safe constructor builds the values).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=2048)
def _parse_options(text: str) -> dict:
    """Parsed once per text: the register, the pages and the code pages all read every cell's
    options (1,234 YAML parses in an annual render). Callers get a copy of the top level and
    must not modify nested values."""
    try:
        opts = yaml.load(text, Loader=_LOADER) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {}
    return opts if isinstance(opts, dict) else {}


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _split_title(text: str, page: BookPage) -> tuple[str | None, str, str]:
    """(title, anchor, text without its first H1); title None when the text has no H1."""
    m = _H1.search(text)
    if not m:
        return None, "", text
    attrs = m.group("attrs") or ""
    anchor = next((a[1:] for a in attrs.split() if a.startswith("#")), "")
    return m.group("title").strip(), anchor, text[: m.start()] + text[m.end():]


def default_anchor(page: BookPage) -> str:
    return "sec-" + re.sub(r"[^a-z0-9]+", "-", page.key.lower()).strip("-")


class _Numbering:
    def __init__(self, page: BookPage):
        self.page = page
        self.counts = {"fig": 0, "tbl": 0}

    def next(self, kind: str) -> str:
        self.counts[kind] += 1
        n = self.counts[kind]
        return f"{self.page.number}.{n}" if self.page.number else str(n)


def read_page(page: BookPage, root: Path) -> PageContent:
    """Read one page's source into blocks, numbering its figures and tables."""
    path = root / page.source
    if not path.is_file():
        raise RenderError(f"缺少章节源文件 {path}",
                          hint="运行 planbook run --period P 执行各章笔记本")
    if path.suffix == ".ipynb":
        return _read_notebook(page, path)
    return _read_markdown(page, path)


_INCLUDE = re.compile(r"^\{\{< include (?P<file>\S+) >\}\}$", re.M)


def expand_includes(text: str, folder: Path) -> str:
    """Quarto's `{{< include FILE >}}` (path relative to the page), as Quarto does it: the
    file's text in place of the line. The methodology's worked examples come in this way."""
    def sub(m: re.Match) -> str:
        file = folder / m["file"]
        if not file.is_file():
            raise RenderError(f"{folder} 中找不到引入的文件 {m['file']}",
                              hint="运行 python scripts/make_examples.py 生成它")
        return file.read_text(encoding="utf-8").rstrip("\n")

    return _INCLUDE.sub(sub, text)


def _read_markdown(page: BookPage, path: Path) -> PageContent:
    text = expand_includes(path.read_text(encoding="utf-8"), path.parent)
    fm_title = None
    fm = _FRONT_MATTER.match(text)
    if fm:
        meta = yaml.safe_load(fm.group(1)) or {}
        fm_title = meta.get("title") if isinstance(meta, dict) else None
        text = text[fm.end():]
    title, anchor, text = _split_title(text, page)
    title = title or fm_title or page.title
    return PageContent(page, title, anchor or default_anchor(page), [Block("md", text)])


_parsed: dict[str, tuple[tuple[int, int], object]] = {}  # path -> ((mtime, size), notebook)
_sessions = 0
_parsed_lock = threading.Lock()


@contextlib.contextmanager
def reading():
    """Within the block every executed notebook is parsed once, however many steps read it
    (register, pages, code pages); the parsed copies are dropped when the last block ends,
    so memory stays flat over a range of periods. Readers must not modify what they get."""
    global _sessions
    with _parsed_lock:
        _sessions += 1
    try:
        yield
    finally:
        with _parsed_lock:
            _sessions -= 1
            if not _sessions:
                _parsed.clear()


def read_notebook(path: Path):
    """nbformat.read(path, as_version=4), parsed once per file version inside `reading()`."""
    import nbformat

    if not _sessions:
        return nbformat.read(path, as_version=4)
    st = path.stat()
    key, stamp = str(path.resolve()), (st.st_mtime_ns, st.st_size)
    with _parsed_lock:
        hit = _parsed.get(key)
    if hit and hit[0] == stamp:
        return hit[1]
    nb = nbformat.read(path, as_version=4)
    with _parsed_lock:
        if _sessions:
            _parsed[key] = (stamp, nb)
    return nb


def _read_notebook(page: BookPage, path: Path) -> PageContent:
    try:
        nb = read_notebook(path)
    except Exception as exc:  # nbformat raises several unrelated types on bad JSON
        raise RenderError(f"{path} 不是可读取的笔记本（{type(exc).__name__}：{exc}）",
                          hint="重新运行 planbook run --period P 以重写它") from None
    content = PageContent(page, page.title, "")
    numbering = _Numbering(page)
    titled = False
    for index, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & SKIP_TAGS:
            continue
        source = _text(cell.get("source", ""))
        if cell.cell_type == "markdown":
            if not titled:
                title, anchor, source = _split_title(source, page)
                if title:
                    titled = True
                    content.title, content.anchor = title, anchor
            content.blocks.append(Block("md", source, cell_index=index))
        elif cell.cell_type == "raw":
            mime = cell.get("metadata", {}).get("raw_mimetype", "")
            if mime in ("text/markdown", "text/x-markdown"):
                content.blocks.append(Block("md", source, cell_index=index))
        elif cell.cell_type == "code":
            _read_code_cell(content, cell, index, source, tags, numbering, path)
    content.anchor = content.anchor or default_anchor(page)
    return content


def _read_code_cell(content: PageContent, cell, index: int, source: str, tags: set,
                    numbering: _Numbering, path: Path) -> None:
    opts = cell_options(source)
    if opts.get("include") is False or opts.get("output") is False or "remove-output" in tags:
        return
    asis = opts.get("output") == "asis"
    label = str(opts.get("label") or "")
    cell_id = cell.get("id")
    figures = 0
    tabled = False
    for output in cell.get("outputs", []):
        otype = output.get("output_type")
        if otype == "error":
            raise RenderError(
                f"{path} 第 {index} 个单元格的输出是错误"
                f"（{output.get('ename')}：{output.get('evalue')}）",
                hint="改正该章后重新运行 planbook run --period P")
        if otype == "stream":
            if output.get("name") != "stdout":
                continue
            text = _text(output.get("text", ""))
            content.blocks.append(Block("md" if asis else "pre", text, cell_index=index))
            continue
        if otype not in ("display_data", "execute_result"):
            continue
        data = output.get("data", {})
        image = next(((m, ext) for m, ext in IMAGE_TYPES if m in data), None)
        if image:
            figures += 1
            mime, ext = image
            stem = label or f"cell{index}"
            if figures > 1:
                stem = f"{stem}-{figures}"
            name = f"{content.assets_dir}/{stem}.{ext}"
            raw = _text(data[mime])
            content.assets[name] = raw.encode("utf-8") if ext == "svg" else base64.b64decode(raw)
            item = None
            if label.startswith("fig-") or opts.get("fig-cap"):
                number = numbering.next("fig") if label.startswith("fig-") else ""
                item = Captioned(label=stem if label.startswith("fig-") else "", kind="fig",
                                 number=number, caption=str(opts.get("fig-cap") or ""),
                                 alt=str(opts.get("fig-alt") or ""),
                                 page=content.page, cell_id=cell_id, cell_index=index)
                content.items.append(item)
            content.blocks.append(Block("figure", asset=name, item=item, cell_index=index,
                                        text=str(opts.get("fig-alt") or ""),
                                        html=figure_data(output)))
            continue
        html = _text(data["text/html"]) if "text/html" in data else None
        markdown = _text(data["text/markdown"]) if "text/markdown" in data else None
        if asis and markdown is not None and html is None:
            # Narrative (display.show_markdown): inserted as it stands, as Quarto does.
            content.blocks.append(Block("md", markdown, cell_index=index))
            continue
        if html is None and markdown is None:
            if "text/plain" in data and set(data) <= {"text/plain"}:
                content.blocks.append(Block("pre", _text(data["text/plain"]), cell_index=index))
            continue
        if label.startswith("tbl-") and not tabled:
            tabled = True
            item = Captioned(label=label, kind="tbl", number=numbering.next("tbl"),
                             caption=str(opts.get("tbl-cap") or ""), alt="",
                             page=content.page, cell_id=cell_id, cell_index=index)
            content.items.append(item)
            content.blocks.append(Block("table", markdown or "", html, item=item,
                                        cell_index=index))
        else:
            content.blocks.append(Block("rich", markdown or "", html, cell_index=index))


# --- writing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    text: str  # 图 2.2 / 第二章
    page: str  # html file name of the page holding the target
    anchor: str


def collect_refs(contents: list[PageContent]) -> dict[str, Ref]:
    """Every cross-reference target of the book; duplicate labels are an error (typst too)."""
    refs: dict[str, Ref] = {}
    dupes: list[str] = []
    for c in contents:
        targets = [(c.anchor, c.page.heading_prefix or c.title)]
        targets += [(i.label, i.display_number) for i in c.items if i.label]
        for label, text in targets:
            if label in refs:
                dupes.append(f"{label}（{refs[label].page} 和 {c.page.html_name}）")
            refs[label] = Ref(text, c.page.html_name, label)
    if dupes:
        raise RenderError("报告中有重复使用的标签：" + "；".join(dupes),
                          hint="每个图、表的标签各取一个不重复的名称")
    return refs


def resolve_refs(text: str, refs: dict[str, Ref], target: str, here: str) -> str:
    """Quarto `@fig-x` / `[@tbl-y]` become links with the computed number (不改 quarto 目标)."""
    if target == "quarto":
        return text

    def sub(m: re.Match) -> str:
        label = m.group(1) or m.group(2)
        ref = refs.get(label)
        if ref is None:
            return f"?\\@{label}"
        href = f"#{ref.anchor}" if target in ("typst", "docx") or ref.page == here else (
            f"{ref.page}#{ref.anchor}")
        return f"[{ref.text}]({href})"

    return _REF.sub(sub, text)


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text.rstrip()}\n{ticks}"


def _raw(fmt: str, text: str) -> str:
    return f"```{{={fmt}}}\n{text}\n```"


def html_to_markdown(html: str) -> str:
    """Pandoc converts an HTML-only output (e.g. a bare DataFrame) for the typst target."""
    from planbook.book.pandoc import pandoc_path, run_pandoc

    proc = run_pandoc([pandoc_path(), "-f", "html", "-t", "markdown"], html.encode("utf-8"))
    if proc.returncode:
        raise RenderError(f"pandoc 无法读取一个 HTML 输出：{proc.stderr.decode()[:300]}")
    return proc.stdout.decode("utf-8")


def _caption_html(item: Captioned, hook: CaptionHook) -> str:
    num = f'<span class="pb-num">{item.display_number}</span>' if item.number else ""
    return (f"<figcaption>{num}<span class=\"pb-cap\">{html_text(item.caption)}</span>"
            f"{hook(item, 'html')}</figcaption>")


def _caption_md(item: Captioned, hook: CaptionHook, target: str) -> str:
    num = f"{item.display_number}\u3000" if item.number else ""
    return num + md_text(item.caption) + hook(item, target)


def page_markdown(content: PageContent, target: str, refs: dict[str, Ref],
                  hook: CaptionHook = no_caption_links) -> str:
    """The page as pandoc markdown for `target` ("html" | "typst" | "quarto" | "docx"; the
    Word edition reads as the typst one, its figures as PNG with their alt text)."""
    page = content.page
    cls = "" if page.number else " .unnumbered"
    parts = [f"# {md_text(content.title)} {{#{content.anchor}{cls}}}"]
    for b in content.blocks:
        if b.kind == "md":
            parts.append(resolve_refs(b.text, refs, target, page.html_name))
        elif b.kind == "pre":
            parts.append(_fence(b.text))
        elif b.kind == "figure":
            parts.append(_figure(b, target, hook))
        elif b.kind == "table":
            parts.append(_table(b, target, hook))
        elif b.kind == "rich":
            if target == "html" and b.html is not None:
                parts.append(_raw("html", f'<div class="pb-output">\n{b.html}\n</div>'))
            elif b.text:
                parts.append(resolve_refs(b.text, refs, target, page.html_name))
            elif b.html is not None:
                parts.append(html_to_markdown(b.html))
    return "\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"


PDF_FIGURE_WIDTH = "75%"


def figure_data_html(alt: str, table: str) -> str:
    """The chart's numbers under it, for readers who cannot see it (HTML; both engines).
    `alt`: the figure's alt text, already escaped; `table`: display.figure_data's HTML."""
    return ('<details class="pb-figdata"><summary>数据表</summary>'
            f'<div class="pb-table-wrap" tabindex="0" role="region" aria-label="{alt}">'
            f"{table}</div></details>")
def png_name(asset: str) -> str:
    """The file the Word edition uses for a figure: an SVG's PNG (fig-x.svg → fig-x.png,
    book.docx draws it), a bitmap as it is."""
    return asset[:-4] + ".png" if asset.endswith(".svg") else asset


def _figure(b: Block, target: str, hook: CaptionHook) -> str:
    item = b.item
    if target == "html":
        ident = f' id="{item.label}"' if item and item.label else ""
        alt = html_text(item.alt if item else b.text)
        cap = _caption_html(item, hook) if item else ""
        data = figure_data_html(alt, b.html) if b.html else ""
        # On a phone the chart keeps a legible size and scrolls inside its own box. The
        # caption closes the figure: HTML allows a <figcaption> only as a figure's first or
        # last child, so the 数据表 comes between chart and caption (Nu Html Checker).
        return _raw("html", f'<figure class="pb-figure"{ident} data-cell="{b.cell_index}">'
                            f'<div class="pb-figure-scroll" tabindex="0" role="region" '
                            f'aria-label="{alt}"><img src="{b.asset}" alt="{alt}"></div>'
                            f"{data}{cap}</figure>")
    if target == "quarto":
        # Quarto's HTML gets the numbers under the chart too; its typst writer drops them.
        data = ("\n\n" + _raw("html", figure_data_html(html_text(item.alt if item else b.text),
                                                      b.html)) if b.html else "")
        if not item:
            return f"![]({b.asset})" + data
        attrs = f"#{item.label} " if item.label else ""
        return (f"![{md_text(item.caption)}{hook(item, target)}]({b.asset}){{{attrs}"
                f'fig-alt="{_attr(item.alt)}"}}' + data)
    # On paper a chart takes 75% of the text width: legible, and the body stays short. The
    # alt text goes to typst as `fig-alt` (assets/image_alt.lua; none: PDF/UA-1 refuses it)
    # and to Word as the picture's alt text (assets/docx.lua); Word takes an SVG's PNG
    # (book.docx draws it).
    alt = item.alt if item else b.text
    alt = f' fig-alt="{_attr(alt)}"' if alt else ""
    asset = png_name(b.asset) if target == "docx" else b.asset
    if not item:
        return f"![]({asset}){{width={PDF_FIGURE_WIDTH}{alt}}}\n"
    attrs = f"#{item.label} " if item.label else ""
    return (f"![{_caption_md(item, hook, target)}]({asset})"
            f"{{{attrs}width={PDF_FIGURE_WIDTH}{alt}}}")


def _attr(text: str) -> str:
    """A pandoc attribute value between double quotes: one line, `\\` and `"` escaped."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def _table(b: Block, target: str, hook: CaptionHook) -> str:
    item = b.item
    if target == "html":
        cap = _caption_html(item, hook)
        if b.html is not None:
            return _raw("html", f'<figure class="pb-tbl" id="{item.label}" '
                                f'data-cell="{b.cell_index}">{cap}\n'
                                f'<div class="pb-table-wrap" tabindex="0" role="region" '
                                f'aria-label="{html_text(item.caption)}">\n{b.html}\n'
                                "</div></figure>")
        return (_raw("html", f'<figure class="pb-tbl" id="{item.label}">{cap}') + "\n\n"
                + b.text + "\n\n" + _raw("html", "</figure>"))
    table = b.text or html_to_markdown(b.html or "")
    if target == "quarto":
        return f"{table}\n\n: {md_text(item.caption)}{hook(item, target)} {{#{item.label}}}"
    return f"{table}\n\n: {_caption_md(item, hook, target)} {{#{item.label}}}"
