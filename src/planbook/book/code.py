"""The audit trail in the book: 溯源 caption links, code pages and the register appendix.

- Code pages `html/code/<notebook>.html`: one per executed notebook, every cell with its
  code (highlighted by Pygments, offline), its outputs (figures inline) and, for each
  register entry the cell made, the output's sha256 and its input rows. Each cell is
  anchored by its cell id, each entry by its label. Both engines publish the same pages.
- Caption links: the built-in engine passes `audit_captions` to `pages`; HTML captions get a
  溯源 link to `code/<key>.html#<cell id>`, typst captions the label (〔fig-x〕) to give to
  `planbook trace`. For Quarto, `quarto_caption` builds the same suffix as markdown; it is
  written into the `fig-cap`/`tbl-cap` of staged copies of the executed notebooks (see
  `quarto.stage_quarto_chapters`), so the published notebooks stay exactly as papermill wrote
  them and their hashes verify.
- The register appendix: `register_section` is appended to the page 数据来源与追溯.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path

from planbook.book.assets import ASSETS
from planbook.book.html import HTML_HEAD, sample_banner, scrollable
from planbook.book.pages import SKIP_TAGS, Captioned, cell_options, read_notebook
from planbook.book.pandoc import CODE, READER, largest_first, pandoc_path, run_pandoc
from planbook.book.spec import BookPage
from planbook.chapters.display import breakable_id
from planbook.chapters.provenance import IMAGE_TYPES
from planbook.errors import RenderError
from planbook.escape import html_text, md_cell, md_text

CODE_DIR = "code"
REGISTER_TITLE = "图表与数字登记"
KIND_ZH = {"figure": "图", "table": "表", "number": "数字"}


# A relative href/src: no scheme (https:, data:), no fragment alone, no absolute path.
_RELATIVE_LINK = re.compile(r'(\s(?:href|src)=")(?![A-Za-z][A-Za-z0-9+.-]*:|#|/)')


def from_code_folder(html: str) -> str:
    """An output's HTML as seen from a code page: its relative links were written for its
    book page (`a4_dossiers.html#ind_gdp`), one folder up from code/, so they go up one."""
    return _RELATIVE_LINK.sub(r"\1../", html)


def code_href(key: str, anchor: str | None, up: str = "") -> str:
    return f"{up}{CODE_DIR}/{key}.html" + (f"#{anchor}" if anchor else "")


# --- captions --------------------------------------------------------------------------------

def _trace_link(key: str, cell_id: str, label: str, up: str = "") -> str:
    title = html_text(f"planbook trace {label}" if label else "生成此输出的代码单元")
    return (f' <a class="pb-trace" href="{html_text(code_href(key, cell_id, up))}" '
            f'title="{title}">溯源</a>')


def audit_captions(item: Captioned, target: str) -> str:
    """The caption hook of both engines' pages: a 溯源 link (HTML) or the label (typst)."""
    if not item.cell_id or item.page.source.endswith((".qmd", ".md")):
        return ""
    if target == "html":
        return _trace_link(item.page.key, item.cell_id, item.label)
    if target == "quarto":
        return quarto_caption(item.page.key, item.cell_id, item.label, "")
    if target == "docx":  # small text after the caption (reference.docx's Trace Label)
        return (f'\u3000[〔{md_text(item.label)}〕]{{custom-style="Trace Label"}}'
                if item.label else "")
    return f"\u3000〔{md_text(item.label)}〕" if item.label else ""


def raw_inline(fmt: str, text: str) -> str:
    ticks = "`"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{text}{ticks}{{={fmt}}}"


def quarto_caption(key: str, cell_id: str, label: str, up: str) -> str:
    """Markdown appended to a Quarto caption: the label in the PDF, a 溯源 link in HTML, the
    same as the built-in engine's captions.

    Both are raw inlines, not `.content-visible` spans: Quarto reads an unlabelled table's
    tbl-cap only after its content-visible filter ran, and a link with attributes is never
    hidden, so either would show in both formats (/work/quarto-findings.md §3). Pandoc's
    html writer drops `{=typst}` and its typst writer drops `{=html}`, whatever the filter
    order. The label goes in as a typst string (`#"…";`: no markup inside, and the `;` ends
    the expression). One line: Quarto does not trim a tbl-cap."""
    pdf = raw_inline("typst", f"#{json.dumps(chr(0x3000) + f'〔{label}〕', ensure_ascii=False)};"
                      ) if label else ""
    # The space before the link stays outside: pandoc trims a raw inline's leading space.
    return f'{pdf} {raw_inline("html", _trace_link(key, cell_id, label, up).lstrip())}'


# --- the register appendix -------------------------------------------------------------------

def _inputs_summary(rows: list[dict]) -> str:
    if not rows:
        return "—"
    files = sorted({Path(r.get("file") or "?").stem for r in rows})
    shown = "、".join(files[:3]) + ("等" if len(files) > 3 else "")
    return f"{len(rows)}行（{shown}）"


def register_rows(entries: list[dict], titles: dict[str, str]) -> list[dict]:
    return [{"label": e["label"], "kind": KIND_ZH.get(e["kind"], e["kind"]),
             "chapter": titles.get(e["chapter"], e["chapter"]), "key": e["chapter"],
             "cell": str(e["cell_id"]),
             "anchor": e["label"] if e["kind"] == "number" else e["cell_id"],
             "value": e.get("text") or "—",
             "inputs": _inputs_summary(e["inputs"]), "hash": e["sha256"]}
            for e in entries]


INTRO = ("下表登记本报告每个编号的图、表和正文引用的每个数字：生成它的笔记本单元、所用数据行和"
         "输出的SHA256（HTML版列出全文；PDF版列出前16位，全文见HTML版与 manifest.json）。HTML版点击标签查看代码单元与全部输入数据行；"
         "也可运行 `planbook trace 标签 --period {period}`。`planbook verify --period {period}` "
         "重新执行全部笔记本并逐项比对这些校验值。")
HEADER = ("标签", "类型", "数值", "章节", "单元", "输入", "SHA256（前16位）")
HTML_HEADER = (*HEADER[:-1], "SHA256")


def paper_hash(sha256: str) -> str:
    """The first 16 hex digits, breakable after 8 (a zero-width space): the page's narrow
    hash column holds them on two short lines instead of running off the page."""
    return f"{sha256[:8]}\u200b{sha256[8:16]}"


def register_section(entries: list[dict], titles: dict[str, str], period: str
                     ) -> tuple[str, str, str]:
    """(heading + intro markdown, pipe-table markdown, HTML table) of the register.

    Only the HTML table links labels to the code pages: a relative link means nothing in a
    PDF, where the label itself is what a reader gives to `planbook trace`."""
    rows = register_rows(entries, titles)
    head = f"## {REGISTER_TITLE}\n\n{INTRO.format(period=period)}"

    # Dash counts are pandoc's relative column widths: the value (a quoted sentence) gets the
    # most, the 16-digit hash only its two 8-digit lines.
    md = ["| " + " | ".join(HEADER) + " |",
          "|:---------|:--|:------------|:----|:-----|:-----|:----|"]
    html = ['<table class="pb-table pb-register">',
            "<thead><tr>" + "".join(f"<th>{h}</th>" for h in HTML_HEADER)
            + "</tr></thead><tbody>"]
    for r in rows:
        href = code_href(r["key"], r["anchor"])
        # On paper a label may wrap after its underscores (`planbook trace` ignores the
        # zero-width spaces when one is copied from the PDF).
        md.append("| " + " | ".join([md_cell(breakable_id(r["label"])), r["kind"],
                                      md_cell(r["value"]), md_cell(r["chapter"]), md_cell(r["cell"]),
                                      md_cell(r["inputs"]), paper_hash(r["hash"])]) + " |")
        html.append(f'<tr><td><a href="{html_text(href)}"><code>{html_text(r["label"])}'
                    f'</code></a></td><td>{r["kind"]}</td><td>{html_text(r["value"])}</td>'
                    f'<td>{html_text(r["chapter"])}</td>'
                    f'<td>{html_text(r["cell"])}</td><td>{html_text(r["inputs"])}</td>'
                    f'<td><code class="pb-hash">{r["hash"]}</code></td></tr>')
    html.append("</tbody></table>")
    return head, "\n".join(md), "\n".join(html)


# --- code pages ------------------------------------------------------------------------------

def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _highlight(source: str) -> str:
    from pygments import highlight
    from pygments.formatters.html import HtmlFormatter
    from pygments.lexers.python import PythonLexer

    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight"))


def stylesheet(font_href: str) -> str:
    """book.css with its web font at `font_href`, Pygments' colours and the code page's rules.
    Monospace text falls back to the CJK font, so Chinese in code shows offline too."""
    from pygments.formatters import HtmlFormatter

    css = (ASSETS / "book.css").read_text(encoding="utf-8")
    css = css.replace('url("fonts/', f'url("{font_href}')
    return css + "\n" + HtmlFormatter().get_style_defs(".highlight") + """
.pb-code-page pre, .pb-code-page code { font-family: ui-monospace, "DejaVu Sans Mono", monospace, "Planbook Sans"; }
.pb-code-page { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
.pb-code-page h1 { font-size: 1.5rem; color: var(--pb-blue); }
.pb-cell { border: 1px solid var(--pb-line); border-radius: 6px; margin: 1rem 0; padding: .4rem .8rem; }
.pb-cell:target, .pb-entry:target { outline: 3px solid #b45309; }
.pb-cell-head { font-size: .8rem; color: #4b5563; }
.pb-cell-head code { color: #1f2328; }
.pb-cell .highlight pre, .pb-cell pre { overflow-x: auto; font-size: .82rem; background: #f6f8fa; padding: .5rem; }
.pb-cell img { max-width: 100%; }
.pb-entry { background: #f3f7fb; border-left: 3px solid var(--pb-blue); padding: .3rem .6rem; margin: .5rem 0; font-size: .85rem; }
.pb-entry table { font-size: .78rem; }
.pb-entry code, .pb-code-page p code { overflow-wrap: anywhere; word-break: break-all; }
/* Cells hidden from the report: a dashed frame, not faded text (contrast stays readable). */
.pb-hidden-cell { border-style: dashed; }
.pb-code-page .highlight pre { white-space: pre; }
@media (max-width: 760px) { .pb-code-page { padding: .6rem .7rem 3rem; }
  .pb-code-page .highlight pre, .pb-code-page pre { white-space: pre-wrap; overflow-wrap: anywhere; } }
"""


def _inputs_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>未使用观测数据行（只用方案登记表或其他统计结果）。</p>"
    body = "".join(
        f"<tr><td><code>{html_text(str(r.get('indicator_id')))}</code></td>"
        f"<td>{html_text(str(r.get('period')))}</td><td>{r.get('revision')}</td>"
        f"<td>{html_text(str(r.get('file')))}"
        + (f"<br><small>{html_text(str(r['rows']))}</small>" if r.get("rows") else "")
        + f"</td><td><code>{html_text(str(r.get('file_sha256')))}"
        "</code></td></tr>" for r in rows)
    return (f"<details><summary>输入数据行（{len(rows)}）</summary><table>"
            "<thead><tr><th>指标编号</th><th>期间</th><th>修订</th><th>数据文件</th>"
            f"<th>报送文件SHA256</th></tr></thead><tbody>{body}</tbody></table></details>")


def _entry_html(e: dict) -> str:
    value = f"：{html_text(e['text'])}" if e.get("text") else ""
    ident = html_text(e["label"])
    return (f'<div class="pb-entry" id="{ident}"><strong>{KIND_ZH.get(e["kind"], "")} '
            f"<code>{html_text(e['label'])}</code></strong>{value} · 输出SHA256 "
            f"<code>{e['sha256']}</code>{_inputs_table(e['inputs'])}</div>")


def _raw(html: str) -> str:
    ticks = "```"
    while ticks in html:
        ticks += "`"
    return f"{ticks}{{=html}}\n{html}\n{ticks}"


def code_page(nb, page: BookPage, title: str, entries: list[dict], parameters: dict,
              *, chapter_href: str, notebook_href: str, sample_notice: bool = False,
              stamp: str = ""
              ) -> tuple[str, dict[str, bytes]]:
    """One notebook's code page (HTML) and its figure files (relative to the code folder)."""
    assets: dict[str, bytes] = {}
    by_cell: dict[int, list[dict]] = {}
    for e in entries:
        by_cell.setdefault(e["cell_index"], []).append(e)
    params = "".join(f"<tr><th>{html_text(str(k))}</th><td><code>{html_text(str(v))}</code></td></tr>"
                     for k, v in parameters.items())
    source = nb.metadata.get("papermill", {}).get("input_path", "")
    parts = [_raw(
        f'<p><a href="{html_text(chapter_href)}">← 返回《{html_text(title)}》</a></p>'
        f"<h1>代码与溯源：{html_text(title)}</h1>"
        f"<p>下面是执行后的笔记本 <a href=\"{html_text(notebook_href)}\">"
        f"{html_text(Path(notebook_href).name)}</a>（源笔记本 <code>{html_text(source)}</code>）的全部"
        "单元：代码、输出，以及每个图、表和数字的输出校验值与所用数据行。"
        "同一结果可用 <code>planbook trace 标签</code> 在命令行查询。</p>"
        f"<h2>运行参数</h2><table>{params}</table><h2>单元</h2>")]
    for index, cell in enumerate(nb.cells):
        cid = html_text(str(cell.get("id") or f"cell-{index}"))
        tags = set(cell.get("metadata", {}).get("tags", []))
        src = _text(cell.get("source", ""))
        if cell.cell_type == "markdown":
            parts += [_raw(f'<div class="pb-cell" id="{cid}"><div class="pb-cell-head">'
                           f"单元 {index} · <code>{cid}</code> · 文字</div>"), src, _raw("</div>")]
            continue
        if cell.cell_type != "code":
            continue
        label = str(cell_options(src).get("label") or "")
        head = f"单元 {index} · <code>{cid}</code>" + (
            f" · 标签 <code>{html_text(label)}</code>" if label else "")
        if tags & SKIP_TAGS:
            head += " · 参数（不在报告中显示）"
        # A cell is a <div>, not a <section>: it has no heading of its own (Nu Html Checker).
        html = [f'<div class="pb-cell{" pb-hidden-cell" if tags & SKIP_TAGS else ""}" '
                f'id="{cid}"><div class="pb-cell-head">{head}</div>', _highlight(src)]
        figures = 0
        for output in cell.get("outputs", []):
            otype = output.get("output_type")
            if otype == "stream" and output.get("name") == "stdout":
                html.append(f'<pre class="pb-stdout">{html_text(_text(output.get("text", "")))}</pre>')
            elif otype == "error":
                html.append(f"<pre>{html_text(str(output.get('ename')))}: "
                            f"{html_text(str(output.get('evalue')))}</pre>")
            elif otype in ("display_data", "execute_result"):
                data = output.get("data", {})
                mime = next((m for m in IMAGE_TYPES if m in data), None)
                if mime:
                    figures += 1
                    ext = {"image/svg+xml": "svg", "image/png": "png"}.get(mime, "jpg")
                    name = f"{page.key}_files/cell{index}-{figures}.{ext}"
                    raw = _text(data[mime])
                    assets[name] = (raw.encode("utf-8") if ext == "svg"
                                    else base64.b64decode(raw))
                    html.append(f'<img src="{name}" alt="单元 {index} 的图">')
                elif "text/html" in data:
                    html.append(f'<div class="pb-output">{from_code_folder(_text(data["text/html"]))}'
                                "</div>")
                elif "text/markdown" in data:  # narrative: the markdown as the cell made it
                    html.append(f'<pre class="pb-stdout">{html_text(_text(data["text/markdown"]))}'
                                "</pre>")
                elif "text/plain" in data:
                    html.append(f"<pre>{html_text(_text(data['text/plain']))}</pre>")
        html += [_entry_html(e) for e in by_cell.get(index, [])]
        html.append("</div>")
        parts.append(_raw("\n".join(html)))
    md = "\n\n".join(parts)
    proc = run_pandoc([pandoc_path(), "-f", READER, "-t", "html5", "--wrap=none",
                       "--shift-heading-level-by=1"], md.encode("utf-8"), urgency=CODE)
    if proc.returncode:
        raise RenderError(f"pandoc 无法生成 {page.key} 的代码页："
                          f"{proc.stderr.decode('utf-8', 'replace')[:300]}")
    body = proc.stdout.decode("utf-8")
    # Scrollable blocks keyboard-reachable, pandoc tables in their own scrolling box.
    return PAGE.format(title=html_text(title), body=scrollable(body),
                       banner=sample_banner(sample_notice),
                       stamp=html_text(stamp)), assets


PAGE = HTML_HEAD + """<title>代码与溯源：{title}</title>
<link rel="icon" type="image/svg+xml" href="../assets/favicon.svg">
<link rel="stylesheet" href="code.css">
</head>
<body>
<a class="pb-skip" href="#pb-main">跳到正文</a>
{banner}<main class="pb-code-page" id="pb-main" tabindex="-1">
{body}
<footer class="pb-footer"><span class="pb-stamp">{stamp}</span></footer>
</main>
</body>
</html>
"""


def write_code_pages(pages: list[BookPage], titles: dict[str, str], root: Path, out: Path,
                     register: list[dict], parameters: dict, *,
                     chapter_href: Callable[[BookPage], str], notebooks_href: str,
                     fonts_href: str, sample_notice: bool = False,
                     stamp: str = "") -> list[Path]:
    """Write `out/code/<key>.html` for every notebook page, its figures and code.css.

    chapter_href: the link back from a code page (relative to the code folder);
    notebooks_href: the published executed notebooks' folder, relative to the code folder;
    fonts_href: the book's web-font folder relative to the code folder.
    """
    folder = out / CODE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "code.css").write_text(stylesheet(fonts_href.rstrip("/") + "/"), encoding="utf-8")

    def write(page: BookPage) -> Path:
        path = root / page.source
        nb = read_notebook(path)
        entries = [e for e in register if e["chapter"] == page.key]
        html, assets = code_page(nb, page, titles.get(page.key, page.title), entries, parameters,
                                 chapter_href=chapter_href(page),
                                 notebook_href=f"{notebooks_href}/{path.name}",
                                 sample_notice=sample_notice, stamp=stamp)
        for name, data in assets.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        target = folder / f"{page.key}.html"
        target.write_text(html, encoding="utf-8")
        return target

    # Each page's pandoc run overlaps the next page's highlighting; the largest notebook first.
    # Pygments imported here, before the threads: its lazy lexer lookup is not thread-safe.
    _highlight("")
    notebooks = [p for p in pages if (root / p.source).suffix == ".ipynb"]
    return largest_first(write, notebooks, lambda p: _size(root / p.source), workers=3)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
