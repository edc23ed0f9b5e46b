"""The portal reports/index.html: every published period in one place.

A render writes `html/period.json` next to the book (title, period, data cut-off, edition,
counts by light); the portal lists every `reports/<P>/` and every kept edition under
`reports/editions/<P>/<N>/` from those files (edition fields from the manifest where present),
annual reports and monthly briefings apart, newest first, with links to the HTML, the PDF and
the data package. All links are relative, so it works from file:// like the books. `build`
rewrites it after every period; its bytes depend only on what is published.

Sample data: period.json records whether the edition's report used any (`sample`, the same
fact that puts 示例数据，非官方统计 on its pages); an edition published before that record
existed is read from its first page (the banner is there or not). Each such entry says
示例数据，非官方统计 in words under its name, and the page says it at the top when any does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from planbook import paths
from planbook.assess.rules import LIGHT_ZH, LIGHTS
from planbook.book.assets import ASSETS, WEB_FONT, font_dir
from planbook.book.html import HTML_HEAD, sample_banner
from planbook.book.spec import (
    ANNEX_PDF,
    ANNEX_TITLE,
    COMPILER,
    PLAN_NAME,
    SAMPLE_NOTICE,
    date_zh,
    edition_label,
)
from planbook.chapters.display import LIGHT_COLOURS
from planbook.escape import html_text
from planbook.plan.params import KIND_ZH
from planbook.plan.periods import parse_period

PERIOD_FILE = "period.json"
PORTAL = "index.html"
_BANNER = 'class="pb-sample-banner"'  # the books' sample banner (html.sample_banner, quarto)


def period_summary(rp, book, assessments, sample: bool = False) -> dict:
    """What the portal shows of a period: written by the render as html/period.json.
    `sample`: the report used sample data (its pages carry the notice)."""
    from planbook.book.downloads import DOWNLOADS, package_name

    counts = {light: sum(1 for a in assessments if a.light == light) for light in LIGHTS} \
        if assessments else {}
    return {"period": rp.code, "kind": rp.kind, "title": book.title,
            "label": rp.params.label_zh, "as_of": rp.params.as_of,
            "edition": book.edition, "edition_date": book.edition_date, "lights": counts,
            "data": f"{DOWNLOADS}/{package_name(rp.code)}", "sample": bool(sample)}


def write_period_summary(html_dir: Path, summary: dict) -> Path:
    path = html_dir / PERIOD_FILE
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path


class Unlisted(Exception):
    """An edition the portal cannot read (a damaged period.json or manifest.json)."""


def _json_object(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unlisted(f"{path} 无法读取（{type(exc).__name__}）") from None
    if not isinstance(value, dict):
        raise Unlisted(f"{path} 不是一个 JSON 对象")
    return value


def _read(folder: Path, reports: Path) -> dict | None:
    """One published edition in `folder` (html/, report.pdf, manifest.json), hrefs relative
    to reports/; None when it has no HTML book; Unlisted when its records are damaged."""
    html = folder / "html"
    if not (html / "index.html").is_file():
        return None
    entry: dict = {}
    if (html / PERIOD_FILE).is_file():
        entry.update(_json_object(html / PERIOD_FILE))
    manifest = folder / "manifest.json"
    if manifest.is_file():
        m = _json_object(manifest)
        params = m.get("parameters") or {}
        entry.setdefault("period", params.get("period"))
        entry.setdefault("kind", params.get("kind", "annual"))
        entry.setdefault("as_of", params.get("as_of", ""))
        for key in ("edition", "edition_date"):  # the manifest is the record of the edition
            if m.get(key):
                entry[key] = m[key]
    if not entry.get("period"):
        return None
    rel = folder.relative_to(reports).as_posix()
    entry["html"] = f"{rel}/html/index.html"
    entry["pdf"] = f"{rel}/report.pdf" if (folder / "report.pdf").is_file() else ""
    entry["annex"] = f"{rel}/{ANNEX_PDF}" if (folder / ANNEX_PDF).is_file() else ""
    entry["docx"] = f"{rel}/report.docx" if (folder / "report.docx").is_file() else ""
    data = entry.get("data") or ""
    entry["data"] = f"{rel}/html/{data}" if data and (html / data).is_file() else ""
    entry.setdefault("edition", 1)
    entry.setdefault("edition_date", "")
    if "sample" not in entry:  # published before period.json recorded it: its first page says
        entry["sample"] = _BANNER in (html / "index.html").read_text(encoding="utf-8")
    entry["sample"] = bool(entry["sample"])
    return entry


def _is_period(name: str) -> bool:
    """reports/2025, reports/2026-10: a period's folder (not assets/, editions/ or staging)."""
    try:
        parse_period(name)
    except Exception:  # noqa: BLE001 - the period parser's error says why; here: not one
        return False
    return True


def published(root: Path | None = None, skipped: list[str] | None = None) -> list[dict]:
    """Every published edition: current ones (reports/<P>/), then kept ones
    (reports/editions/<P>/<N>/), each with `current` set. An edition whose records cannot be
    read is left out and named in `skipped` (one portal line must not hide every other)."""
    reports = paths.reports_dir(root)
    out: list[dict] = []
    if not reports.is_dir():
        return out
    current = sorted(p for p in reports.iterdir() if p.is_dir() and _is_period(p.name))
    kept = reports / "editions"
    # kept editions are numbered folders; .<n>.new is a re-issue's copy on its way in
    old = sorted(f for f in kept.glob("*/*") if _is_period(f.parent.name)
                 and f.name.isdigit()) if kept.is_dir() else []
    for folders, is_current in ((current, True), (old, False)):
        for folder in folders:
            try:
                entry = _read(folder, reports)
            except Unlisted as exc:
                if skipped is not None:
                    skipped.append(f"全部报告未列出 {folder}：{exc}；请从备份恢复该版次的文件")
                continue
            if entry:
                out.append({**entry, "current": is_current})
    return out


def _lights(counts: dict | None) -> str:
    if not counts:
        return "—"
    return "".join(
        f'<span class="pb-count pb-count-{k}"><span class="pb-dot" aria-hidden="true"></span>'
        f"{LIGHT_ZH[k]} {int(counts.get(k, 0))}</span>" for k in LIGHTS)


def _row(e: dict) -> str:
    kind = KIND_ZH.get(e["kind"], KIND_ZH["annual"])
    name = html_text(f"{e.get('label') or e['period']}{kind}{'' if e['kind'] == 'briefing' else '报告'}")
    links = [f'<a href="{html_text(e["html"])}">HTML<span class="pb-sr">：{name}</span></a>']
    if e["pdf"]:
        links.append(f'<a href="{html_text(e["pdf"])}">PDF<span class="pb-sr">：'
                     f"{name}</span></a>")
    if e.get("docx"):
        links.append(f'<a href="{html_text(e["docx"])}">Word 版<span class="pb-sr">：'
                     f"{name}</span></a>")
    if e.get("annex"):
        links.append(f'<a href="{html_text(e["annex"])}">{ANNEX_TITLE}（PDF）<span class="pb-sr">：'
                     f"{name}</span></a>")
    if e["data"]:
        links.append(f'<a href="{html_text(e["data"])}">数据包（ZIP）'
                     f'<span class="pb-sr">：{name}</span></a>')
    edition = edition_label(int(e["edition"]))
    if not e["current"]:
        edition += "（已被新版取代）"
    issued = date_zh(e["edition_date"]) if e.get("edition_date") else "—"
    as_of = date_zh(e["as_of"]) if e.get("as_of") else "—"
    mark = f'<div class="pb-sample">{SAMPLE_NOTICE}</div>' if e.get("sample") else ""
    return (f'<tr id="p-{html_text(e["period"])}'
            f'{"" if e["current"] else "-e" + str(e["edition"])}">'
            f'<th scope="row"><a href="{html_text(e["html"])}">{name}</a>'
            f'<div class="pb-title">{html_text(e.get("title") or "")}</div>{mark}</th>'
            f'<td class="n">{as_of}</td><td class="n">{html_text(edition)}</td>'
            f'<td class="n">{issued}</td>'
            f"<td>{_lights(e.get('lights'))}</td><td>{' · '.join(links)}</td></tr>")


def _sort_key(e: dict):
    p = parse_period(e["period"])
    return (-p.end.toordinal(), -int(e["edition"]))


HEAD = ("<tr><th scope=\"col\">报告</th><th scope=\"col\">数据截至</th><th scope=\"col\">版次</th>"
        "<th scope=\"col\">版次日期</th><th scope=\"col\">各灯号指标数</th>"
        "<th scope=\"col\">阅读与下载</th></tr>")

STYLE = """
@font-face { font-family: "Planbook Sans"; src: local("Noto Sans CJK SC"), local("Source Han Sans SC"),
             url("assets/fonts/NotoSansCJKsc-Regular.otf") format("opentype"); font-display: swap; }
body { font-family: "Planbook Sans", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: #1b1b1b; background: #fff; margin: 0; line-height: 1.6; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem; }
h1 { color: #1f4e79; font-size: 1.6rem; margin: .5rem 0; }
h2 { color: #1f4e79; font-size: 1.25rem; margin-top: 2rem; }
a { color: #1f4e79; }
a:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
.pb-table-wrap { overflow-x: auto; max-width: 100%; position: relative; }  /* holds .pb-sr inside */
.pb-table-wrap:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; min-width: 40rem; font-size: .92rem; }
th, td { border-bottom: 1px solid #c8ccd0; padding: .45rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #eef2f6; }
td.n { white-space: nowrap; }
tbody th { font-weight: 600; }
.pb-title { font-weight: normal; font-size: .8rem; color: #444; }
.pb-count { display: inline-block; margin-right: .6rem; white-space: nowrap; }
.pb-dot { display: inline-block; width: .75em; height: .75em; border-radius: 50%; margin-right: .2em;
          vertical-align: -.05em; border: 1px solid #555; }
.pb-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.pb-sample { display: inline-block; color: #8a0014; font-weight: 600; font-size: .8rem;
             border: 1px solid #8a0014; border-radius: 3px; padding: 0 .3rem; margin-top: .2rem; }
.pb-sample-banner { background: #fdecea; color: #8a0014; border-bottom: 1px solid #f5c2c0;
                    text-align: center; font-weight: bold; padding: .35rem 1rem; }
footer { color: #444; font-size: .85rem; margin-top: 2rem; }
""" + "".join(
    f".pb-count-{light} .pb-dot {{ background: {colour}; }}\n"
    for light, colour in LIGHT_COLOURS.items())  # the books' light colours

PAGE = HTML_HEAD + """<title>全部报告 · {plan}</title>
<link rel="icon" type="image/svg+xml" href="assets/favicon.svg">
<style>{style}</style>
</head>
<body>
{banner}<main>
<h1>全部报告</h1>
<p>{plan}：各期评估报告（年度、中期、总结评估）和月度工作进展通报。每期列出数据截至日期、版次及其日期、
各灯号指标数，以及HTML、PDF（评估报告另有技术附件）和本期所用数据（Frictionless 数据包）的链接。</p>
{sections}
<footer>{compiler}</footer>
</main>
</body>
</html>
"""


def portal_html(entries: list[dict]) -> str:
    sections = []
    for kind, title in (("annual", "评估报告"), ("briefing", "月度工作进展通报")):
        # annual, midterm and final evaluations are one list, newest first
        group = sorted((e for e in entries if ((e.get("kind") or "annual") == "briefing")
                        == (kind == "briefing")), key=_sort_key)
        if not group:
            continue
        rows = "\n".join(_row(e) for e in group)
        sections.append(f'<section aria-labelledby="s-{kind}"><h2 id="s-{kind}">{title}</h2>\n'
                        # On a phone the table scrolls inside its own box, never the page.
                        f'<div class="pb-table-wrap" tabindex="0" role="region" '
                        f'aria-label="{title}一览">'
                        f"<table>\n<thead>{HEAD}</thead>\n<tbody>\n{rows}\n</tbody>\n</table>"
                        "</div></section>")
    if not sections:
        sections.append("<p>尚无已发布的报告。运行 <code>planbook build --period 2025</code> 生成。</p>")
    return PAGE.format(plan=html_text(PLAN_NAME), style=STYLE, sections="\n".join(sections),
                       compiler=html_text(COMPILER), banner=_sample_banner(entries))


def _sample_banner(entries: list[dict]) -> str:
    """The page's first words when any listed edition used sample data: a labelled region,
    like the books' banner."""
    return sample_banner(any(e.get("sample") for e in entries),
                         f"{SAMPLE_NOTICE}：下列标注“{SAMPLE_NOTICE}”的报告使用了示例数据"
                         "（planbook sample 生成），其中的数字不是官方统计。")


ICON = "favicon.svg"


def write_portal(root: Path | None = None, skipped: list[str] | None = None) -> Path:
    """reports/index.html from what is published now; editions it could not read are named
    in `skipped` (the caller warns)."""
    path = paths.reports_dir(root) / PORTAL
    fonts = path.parent / "assets" / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    font = fonts / WEB_FONT  # the books' web font: Chinese shows offline on any machine
    if not font.is_file() or font.stat().st_size != (font_dir() / WEB_FONT).stat().st_size:
        shutil.copyfile(font_dir() / WEB_FONT, font)
    icon = path.parent / "assets" / ICON  # else a browser asks the server for /favicon.ico
    if not icon.is_file() or icon.read_bytes() != (ASSETS / ICON).read_bytes():
        shutil.copyfile(ASSETS / ICON, icon)
    path.write_text(portal_html(published(root, skipped)), encoding="utf-8")
    _link_kept_editions(path.parent)
    return path


def _link_kept_editions(reports: Path) -> None:
    """A kept edition (reports/editions/<P>/<N>/) is a byte-for-byte copy, so its 全部报告
    link (../../index.html from html/) lands on reports/editions/<P>/index.html: that page
    forwards to the portal instead of rewriting the kept files."""
    for folder in sorted((reports / "editions").glob("*")):
        if folder.is_dir() and _is_period(folder.name):
            (folder / PORTAL).write_text(
                '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
                f'<title>全部报告</title><meta http-equiv="refresh" content="0; url=../../{PORTAL}">'
                f'</head><body><main><p><a href="../../{PORTAL}">全部报告</a></p></main>'
                "</body></html>\n", encoding="utf-8")
