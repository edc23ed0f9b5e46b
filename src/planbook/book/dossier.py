"""The render's part of the 指标档案 (planbook.chapters.dossier): each entry's list of the
figures, tables and numbers that use its indicator, from the audit register (which exists
only once every chapter has run). Figures and tables become cross-references (@fig-x: a
link in HTML, a numbered reference in the PDF); numbers are named by label for `trace`."""

from __future__ import annotations

import re

from planbook.book.pages import PageContent
from planbook.chapters.catalogue import DOSSIER_PAGE, USES_CLASS

_USES = re.compile(r'::: \{\.' + USES_CLASS + r' data-indicator="(?P<id>[^"]+)"\}\n.*?\n:::',
                   re.S)
KIND_ZH = {"figure": "图", "table": "表", "number": "数字"}


def uses_markdown(indicator_id: str, register: list[dict], period: str) -> str:
    """The filled block: every label using the indicator outside its own entry, by kind."""
    found: dict[str, list[str]] = {"figure": [], "table": [], "number": []}
    for e in register:
        if e["chapter"] == DOSSIER_PAGE or e["kind"] not in found:
            continue
        if any(r.get("indicator_id") == indicator_id for r in e["inputs"]):
            if e["label"] not in found[e["kind"]]:
                found[e["kind"]].append(e["label"])
    parts = []
    for kind in ("figure", "table"):
        if found[kind]:
            parts.append(f"{KIND_ZH[kind]}：" + "、".join(f"@{x}" for x in found[kind]))
    if found["number"]:
        parts.append("数字：" + "、".join(f"`{x}`" for x in found["number"]))
    body = "；".join(parts) + "。" if parts else "本期报告的其他图、表和数字未使用本指标。"
    return (f"::: {{.{USES_CLASS} data-indicator=\"{indicator_id}\"}}\n"
            f"**使用本指标的图、表和数字**：{body}"
            f"（`planbook trace {indicator_id} --period {period}`）\n:::")


def add_indicator_uses(contents: list[PageContent], register: list[dict], period: str) -> None:
    """Fill every entry's uses block on the 指标档案 page (when the book has it)."""
    page = next((c for c in contents if c.page.key == DOSSIER_PAGE), None)
    if page is None:
        return
    for block in page.blocks:
        if block.kind == "md" and USES_CLASS in block.text:
            block.text = _USES.sub(lambda m: uses_markdown(m["id"], register, period),
                                   block.text)
