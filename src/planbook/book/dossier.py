"""The render's part of the 指标档案 (planbook.chapters.dossier): each entry's list of the
figures, tables and numbers that use its indicator, from the audit register (which exists
only once every chapter has run). Figures and tables become cross-references (@fig-x: a
link in HTML, a numbered reference in the PDF); numbers are named by label for `trace`.

Also the record every edition publishes of its statuses (html/statuses.json,
chapters.history), which later reports' 指标档案 read as this period's 历次评估."""

from __future__ import annotations

import re
from pathlib import Path

from planbook.book.pages import PageContent
from planbook.chapters import history
from planbook.chapters.catalogue import DOSSIER_PAGE, USES_CLASS
from planbook.chapters.display import div_lines

# The block chapters.dossier leaves (display.div_lines); a notebook executed before narrative
# became text/markdown has it as a `:::` fence.
_USES = re.compile(r'<div class="' + USES_CLASS + r'" data-indicator="(?P<id>[^"]+)">\n.*?\n</div>'
                   r'|::: \{\.' + USES_CLASS + r' data-indicator="(?P<old>[^"]+)"\}\n.*?\n:::',
                   re.S)
KIND_ZH = {"figure": "图", "table": "表", "number": "数字"}


def indicator_uses(register: list[dict]) -> dict[str, dict[str, list[str]]]:
    """indicator id -> kind -> the labels (register order, once each) using it outside the
    指标档案: one pass over the register for all entries, not one per indicator (the input
    rows grow with the store)."""
    uses: dict[str, dict[str, list[str]]] = {}
    for e in register:
        if e["chapter"] == DOSSIER_PAGE or e["kind"] not in KIND_ZH:
            continue
        for indicator_id in dict.fromkeys(r.get("indicator_id") for r in e["inputs"]):
            labels = uses.setdefault(indicator_id, {k: [] for k in KIND_ZH})[e["kind"]]
            if e["label"] not in labels:
                labels.append(e["label"])
    return uses


def uses_markdown(indicator_id: str, register: list[dict], period: str,
                  uses: dict[str, dict[str, list[str]]] | None = None) -> str:
    """The filled block: every label using the indicator outside its own entry, by kind.
    `uses`: indicator_uses(register), when the caller has it."""
    uses = indicator_uses(register) if uses is None else uses
    found = uses.get(indicator_id) or {k: [] for k in KIND_ZH}
    parts = []
    for kind in ("figure", "table"):
        if found[kind]:
            parts.append(f"{KIND_ZH[kind]}：" + "、".join(f"@{x}" for x in found[kind]))
    if found["number"]:
        parts.append("数字：" + "、".join(f"`{x}`" for x in found["number"]))
    body = "；".join(parts) + "。" if parts else "本期报告的其他图、表和数字未使用本指标。"
    return "\n".join(div_lines(USES_CLASS, [
        f"**使用本指标的图、表和数字**：{body}"
        f"（`planbook trace {indicator_id} --period {period}`）"], {"data-indicator": indicator_id}))


def fill_uses(text: str, register: list[dict], period: str,
              uses: dict[str, dict[str, list[str]]]) -> str:
    """`text` with every uses block filled (uses_markdown); both engines call it."""
    return _USES.sub(lambda m: uses_markdown(m["id"] or m["old"], register, period, uses),
                     text)


def add_indicator_uses(contents: list[PageContent], register: list[dict], period: str) -> None:
    """Fill every entry's uses block on the 指标档案 page (when the book has it)."""
    page = next((c for c in contents if c.page.key == DOSSIER_PAGE), None)
    if page is None:
        return
    uses = indicator_uses(register)
    for block in page.blocks:
        if block.kind == "md" and USES_CLASS in block.text:
            block.text = fill_uses(block.text, register, period, uses)


def write_statuses(rp, assessments, html_dir: Path) -> Path | None:
    """html/statuses.json: every indicator's status, light and latest value as this edition
    publishes them, with its cut-off and edition (chapters.history). None for a book made
    without the plan registry (no assessments)."""
    if not assessments:
        return None
    return history.write_record(html_dir, period=rp.code, kind=rp.kind, as_of=rp.params.as_of,
                                edition=rp.edition, edition_date=rp.edition_date,
                                assessments=assessments)
