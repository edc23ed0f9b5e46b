"""The built-in engine's HTML book: one page per chapter, docked sidebar, offline search.

Every asset is a local file. The search index is a JS file loaded with a <script> tag, so
search works from file:// (browsers refuse fetch() of local JSON).

A single document (`BookChapters.single`, the monthly briefing) is one page, index.html: a
title block, the content and its in-page TOC; no sidebar, pager or search.
"""

from __future__ import annotations

import itertools
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from planbook.book.assets import copy_static
from planbook.book.pages import PageContent, Ref, page_markdown
from planbook.book.pandoc import PAGES, largest_first, pandoc
from planbook.book.spec import (
    ANNEX_PART,
    ANNEX_PDF,
    COMPILER,
    PLAN_NAME,
    SAMPLE_NOTICE,
    BookChapters,
    book_subtitle,
    book_title,
)
from planbook.escape import html_text
from planbook.plan.params import Params

STATIC = ("book.css", "book.js", "favicon.svg")
_BARE_TABLE = re.compile(r"<table>.*?</table>", re.S)


def sample_banner(sample_notice: bool, text: str = SAMPLE_NOTICE) -> str:
    """The sample-data notice heading every page, as a labelled landmark (axe `region`);
    `text`: the portal says more than the books' pages."""
    if not sample_notice:
        return ""
    return (f'<div class="pb-sample-banner" role="region" aria-label="数据说明">'
            f"{text}</div>\n")


def scrollable(body: str) -> str:
    """Boxes that may scroll sideways are reachable by keyboard (axe
    scrollable-region-focusable): code blocks and output boxes get tabindex, pandoc's own
    tables a scrolling wrapper like the notebook tables have."""
    body = body.replace("<pre>", '<pre tabindex="0">').replace("<pre class=",
                                                               '<pre tabindex="0" class=')
    # Landmark labels are numbered: axe asks each region's name to be unique on the page.
    outputs, tables = itertools.count(1), itertools.count(1)
    body = re.sub(r'<div class="pb-output">', lambda m: '<div class="pb-output" tabindex="0" '
                  f'role="region" aria-label="输出{next(outputs)}">', body)
    return _BARE_TABLE.sub(lambda m: '<div class="pb-table-wrap" tabindex="0" role="region" '
                           f'aria-label="表格{next(tables)}">{m[0]}</div>', body)


class _Sections(HTMLParser):
    """Splits a page fragment into (anchor, heading, text) sections for the search index."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: list[dict] = []
        self.heading: list[str] | None = None
        self.toc: list[tuple[int, str, str]] = []
        self._level = 0
        self._anchor = ""
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h1", "h2", "h3"):
            self._level = int(tag[1])
            self._anchor = a.get("id") or (self.sections[-1]["a"] if self.sections else "")
            self.heading = []
        elif tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self.heading is not None:
            text = "".join(self.heading).strip()
            self.sections.append({"a": self._anchor, "s": text, "x": ""})
            if self._level in (2, 3) and self._anchor:
                self.toc.append((self._level, self._anchor, text))
            self.heading = None
        elif tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if self._skip:
            return
        if self.heading is not None:
            self.heading.append(data)
        elif self.sections:
            self.sections[-1]["x"] += data


def _nav(book: BookChapters, titles: dict[str, str], current: str) -> str:
    def item(page) -> str:
        cls = ' class="active" aria-current="page"' if page.key == current else ""
        num = f'<span class="pb-nav-num">{page.heading_prefix}</span>' if page.number else ""
        return (f'<li><a href="{page.html_name}"{cls}>{num}'
                f'<span>{html_text(titles[page.key])}</span></a></li>')

    out = ['<ul class="pb-nav" id="pb-nav">', item(book.index)]
    for part in book.parts:
        out.append(f'<li class="pb-nav-part">{html_text(part.title)}</li>')
        out += [item(p) for p in part.pages]
    if book.body_appendices:
        out.append('<li class="pb-nav-part">附录</li>')
        out += [item(p) for p in book.body_appendices]
    if book.annex:  # the pages of annex.pdf: the same split as the two PDFs
        out.append(f'<li class="pb-nav-part">{html_text(ANNEX_PART)}'
                   f'（<a href="{ANNEX_HREF}">PDF</a>）</li>')
        out += [item(p) for p in book.annex]
    out.append("</ul>")
    return "\n".join(out)


def _pager(prev, nxt, titles) -> str:
    def link(page, rel, label):
        if page is None:
            return "<span></span>"
        return (f'<a class="pb-{rel}" rel="{rel}" href="{page.html_name}">'
                f'<small>{label}</small><span>{html_text(titles[page.key])}</span></a>')

    return (f'<nav class="pb-pager" aria-label="翻页">{link(prev, "prev", "上一章")}'
            f'{link(nxt, "next", "下一章")}</nav>')


def _toc(entries: list[tuple[int, str, str]], label: str = "本章目录") -> str:
    if not entries:
        return ""
    items = "".join(f'<li class="pb-toc-{lvl}"><a href="#{html_text(a)}">'
                    f"{html_text(t)}</a></li>" for lvl, a, t in entries)
    return (f'<aside class="pb-toc" aria-label="{label}"><h2>{label}</h2>'
            f"<ul>{items}</ul></aside>")


# What a page may load and run: its own files only. Scripts only from files next to it
# (search-index.js, book.js; no inline script, no event-handler attribute, no javascript:
# URL runs), nothing remote, no plugins, no <base> moving relative links. Inline styles stay
# allowed: the status dots and the portal carry them, and a style runs no code. Department
# text is escaped where it lands (planbook.escape); this is the second line of defence.
def content_policy(script_hashes: tuple[str, ...] = (), *, fetch: bool = False,
                   data_urls: bool = False, handler_hashes: tuple[str, ...] = ()) -> str:
    """The Content-Security-Policy of a page: scripts only from the book itself, so a slip in
    escaping still runs nothing. `script_hashes`: 'sha256-…' of inline scripts the page's own
    engine wrote (Quarto's pages carry some; planbook's carry none); `fetch`: the page loads
    its own files (Quarto's search index); `data_urls`: images and fonts inlined as data: URLs
    by the engine's stylesheets (Quarto's Bootstrap icons); `handler_hashes`: 'sha256-…' of
    inline event handlers the engine wrote, allowed by 'unsafe-hashes' (that text only)."""
    allowed = (*script_hashes, *(("unsafe-hashes", *handler_hashes) if handler_hashes else ()))
    scripts = " ".join(("'self'", *(f"'{h}'" for h in allowed)))
    inline = " data:" if data_urls else ""
    connect = "'self'" if fetch else "'none'"
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self'{inline}; font-src 'self'{inline}; "
            f"connect-src {connect}; object-src 'none'; "
            "frame-src 'none'; base-uri 'self'; form-action 'none'")


CSP = content_policy()

# The start every planbook page shares (book pages, one-page book, code pages, portal).
HTML_HEAD = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="planbook">
"""

PAGE = HTML_HEAD + """<title>{page_title} · {short_title}</title>
<link rel="icon" type="image/svg+xml" href="assets/favicon.svg">
<link rel="stylesheet" href="assets/book.css">
<script src="assets/search-index.js" defer></script>
<script src="assets/book.js" defer></script>
</head>
<body>
<a class="pb-skip" href="#pb-main">跳到正文</a>
{banner}<div class="pb-layout">
<nav class="pb-sidebar" id="pb-sidebar" aria-label="章节导航">
<div class="pb-book-title"><a href="index.html">{title}</a></div>
<div class="pb-subtitle">{subtitle}</div>
<p class="pb-links"><a href="{pdf_href}">PDF版（report.pdf）</a> · <a href="{docx_href}">下载 Word 版（report.docx）</a>{annex_link} · <a href="{portal_href}">全部报告</a></p>
<div class="pb-search" role="search">
<input type="search" id="pb-search-input" placeholder="搜索指标、章节、内容…" aria-label="搜索" autocomplete="off">
<ol id="pb-search-results" class="pb-search-results" hidden></ol>
</div>
{nav}
</nav>
<main class="pb-main" id="pb-main" tabindex="-1">
<article class="pb-content">
{body}
</article>
{pager}
<footer class="pb-footer">{compiler} · <span class="pb-stamp">{stamp}</span></footer>
</main>
{toc}
</div>
</body>
</html>
"""
# From reports/<P>/html/: the period's PDF and the portal of every period (reports/index.html).
PDF_HREF = "../report.pdf"
DOCX_HREF = "../report.docx"  # the Word edition of the evaluation (book.docx)
ANNEX_HREF = f"../{ANNEX_PDF}"  # the 技术附件
PORTAL_HREF = "../../index.html"


def write_html(book: BookChapters, contents: list[PageContent], refs: dict[str, Ref],
               params: Params, out: Path, *, sample_notice: bool, hook) -> list[Path]:
    """Write every page, its figure files, the static assets and the search index into `out`."""
    if book.single:
        return [write_single_html(contents[0], refs, params, out, sample_notice=sample_notice,
                                  hook=hook, stamp=book.stamp)]
    copy_static(out, STATIC)
    titles = {c.page.key: c.title for c in contents}
    banner = sample_banner(sample_notice)

    def fragment(job: tuple[PageContent, str]) -> str:
        c, md = job
        return scrollable(pandoc(md, "html5", prefix=c.page.heading_prefix,
                                 number=c.page.number, urgency=PAGES))

    fragments = largest_first(fragment, [(c, page_markdown(c, "html", refs, hook))
                                         for c in contents], lambda job: len(job[1]))

    index: list[dict] = []
    written = []
    for i, (c, body) in enumerate(zip(contents, fragments, strict=True)):
        for name, data in c.assets.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        parser = _Sections()
        parser.feed(body)
        for s in parser.sections:
            text = " ".join(s["x"].split())
            index.append({"p": c.page.html_name, "t": c.title, "a": s["a"], "s": s["s"],
                          "x": text})
        prev = contents[i - 1].page if i > 0 else None
        nxt = contents[i + 1].page if i + 1 < len(contents) else None
        html = PAGE.format(
            page_title=html_text(c.title), short_title=html_text(book.short_title),
            title=html_text(book_title(params)), subtitle=html_text(book_subtitle(params)), banner=banner,
            nav=_nav(book, titles, c.page.key), body=body, pager=_pager(prev, nxt, titles),
            compiler=html_text(book.compiler), stamp=html_text(book.stamp), pdf_href=PDF_HREF,
            docx_href=DOCX_HREF,
            annex_link=(f' · <a href="{ANNEX_HREF}">{ANNEX_PART}（{ANNEX_PDF}）</a>'
                        if book.annex else ""),
            portal_href=PORTAL_HREF, toc=_toc(parser.toc))
        path = out / c.page.html_name
        path.write_text(html, encoding="utf-8")
        written.append(path)
    payload = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    (out / "assets" / "search-index.js").write_text(
        f"window.PB_SEARCH_INDEX = {payload};\n", encoding="utf-8")
    return written


SINGLE_PAGE = HTML_HEAD + """<title>{page_title} · {subtitle}</title>
<link rel="icon" type="image/svg+xml" href="assets/favicon.svg">
<link rel="stylesheet" href="assets/book.css">
</head>
<body class="pb-single-doc">
<a class="pb-skip" href="#pb-main">跳到正文</a>
{banner}<div class="pb-layout pb-single">
<main class="pb-main" id="pb-main" tabindex="-1">
<article class="pb-content">
<header class="pb-doc-head">
<div class="pb-doc-kicker">{kicker}</div>
{body}
</article>
<footer class="pb-footer">{compiler} · <span class="pb-stamp">{stamp}</span></footer>
</main>
{toc}
</div>
</body>
</html>
"""


def write_single_html(content: PageContent, refs: dict[str, Ref], params: Params,
                      out: Path, *, sample_notice: bool, hook, stamp: str = "") -> Path:
    """A single document (the monthly briefing) as one page, `out/index.html`.

    The page's H1 heads a title block with the plan's name above it and the period, as-of
    date and compiler below it; the in-page TOC lists its sections."""
    copy_static(out, ("book.css", "favicon.svg"))
    for name, data in content.assets.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    body = scrollable(pandoc(page_markdown(content, "html", refs, hook), "html5"))
    meta = (f'<p class="pb-doc-subtitle">{html_text(params.label_zh)}</p>\n'
            f'<p class="pb-doc-meta">数据截至{html_text(params.as_of_zh)}　{html_text(COMPILER)}</p>\n'
            f'<p class="pb-links"><a href="{PDF_HREF}">PDF版（report.pdf）</a> · '
            f'<a href="{DOCX_HREF}">下载 Word 版（report.docx）</a> · '
            f'<a href="{PORTAL_HREF}">全部报告</a></p>\n'
            "</header>")
    end = body.find("</h1>")
    if end < 0:  # page_markdown always writes the H1; keep the header well-formed anyway
        body = meta + "\n" + body
    else:
        end += len("</h1>")
        body = body[:end] + "\n" + meta + body[end:]
    parser = _Sections()
    parser.feed(body)
    banner = sample_banner(sample_notice)
    html = SINGLE_PAGE.format(
        page_title=html_text(content.title), subtitle=html_text(params.label_zh), banner=banner,
        kicker=html_text(PLAN_NAME), body=body, compiler=html_text(COMPILER),
        stamp=html_text(stamp or params.as_of_zh), toc=_toc(parser.toc, "目录"))
    path = out / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
