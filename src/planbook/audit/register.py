"""The audit register: every labelled figure and table and every quoted number of a period's
executed notebooks, read back from the provenance each cell recorded (where it is stored:
planbook.chapters.provenance)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from planbook.book.pages import cell_options, read_notebook
from planbook.chapters.provenance import (
    DISPLAY_OUTPUTS,
    IMAGE_TYPES,
    TABLE_TYPES,
    _text,
    cell_records,
    output_bytes,
    unstored,
)
from planbook.errors import RenderError
from planbook.hashing import sha256_bytes
from planbook.run.period import ReportPeriod


def _unique_rows(rows: Iterable[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        key = tuple(sorted(r.items()))
        if key not in seen:
            seen.add(key)
            out.append(dict(r))
    return out


def number_sha256(label: str, value: float | None, text: str) -> str:
    """A quoted number's output hash: over its label, value and printed text, so that two
    numbers printing the same text (8项) under different labels, or one label whose value
    moved within the same rounding, never share a hash. The bytes hashed are the JSON object
    {"label", "text", "value"} with sorted keys, no spaces, UTF-8 (value null for a quoted
    sentence); an auditor recomputes it from the register entry."""
    payload = json.dumps({"label": label, "text": text, "value": value}, ensure_ascii=False,
                         sort_keys=True, separators=(",", ":"))
    return sha256_bytes(payload.encode("utf-8"))


def notebook_entries(nb, chapter: str, notebook: str) -> list[dict]:
    """Register entries of one executed notebook, in cell order.

    A cell labelled fig-/tbl- gives one entry per image (fig) or its first table (tbl),
    labelled like the book numbers them (a second image of `fig-x` is `fig-x-2`), hashed as
    the file the book publishes; each record of kind number gives one entry keyed by its id,
    hashed by `number_sha256`.
    """
    entries: list[dict] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        label = str(cell_options(_text(cell.get("source", ""))).get("label") or "")
        where = {"chapter": chapter, "notebook": notebook, "cell_id": cell.get("id"),
                 "cell_index": index}
        recorded: list[dict] = []
        for payload in cell_records(nb, index):
            if payload.get("kind") == "number":
                text, value = str(payload.get("text") or ""), payload.get("value")
                ident = str(payload.get("id"))
                entries.append({"label": ident, "kind": "number", **where, "text": text,
                                **({"value": value} if value is not None else {}),
                                "sha256": number_sha256(ident, value, text),
                                "inputs": _unique_rows(payload.get("inputs", []))})
            else:
                recorded.append(payload)
        shown: list[bytes] = []
        for output in cell.get("outputs", []):
            if output.get("output_type") not in DISPLAY_OUTPUTS:
                continue
            data = output.get("data", {})
            if label.startswith("fig-") and any(m in data for m in IMAGE_TYPES):
                shown.append(output_bytes(data))
            elif label.startswith("tbl-") and not shown and any(m in data for m in TABLE_TYPES):
                shown.append(output_bytes(data))
        for n, raw in enumerate(shown, start=1):
            # One recorded payload per image when they pair up, else every image used all.
            rows = (recorded[n - 1]["inputs"] if len(recorded) == len(shown)
                    else [r for p in recorded for r in p.get("inputs", [])])
            entries.append({"label": label if n == 1 else f"{label}-{n}",
                            "kind": "figure" if label.startswith("fig-") else "table",
                            **where, "sha256": sha256_bytes(raw), "inputs": _unique_rows(rows)})
    return entries


def notebook_files(rp: ReportPeriod) -> list[Path]:
    """The period's executed notebooks, in book order."""
    folder = rp.notebooks_dir
    return [folder / c.notebook for c in rp.chapters if (folder / c.notebook).is_file()]


def register(rp: ReportPeriod) -> list[dict]:
    """Every labelled figure and table and every quoted number of the executed notebooks."""
    out: list[dict] = []
    for path in notebook_files(rp):
        try:
            nb = read_notebook(path)
        except Exception as exc:  # nbformat raises several unrelated types for a torn file
            raise RenderError(f"{rp.rel(path)} 不是可读取的已执行笔记本（{exc}）",
                              hint=f"重新执行：planbook run --period {rp.code} --force"
                              ) from None
        if unstored(nb):
            raise RenderError(f"{rp.rel(path)} 的来源记录仍是单元格输出（由旧版 planbook 执行）",
                              hint=f"重新执行：planbook run --period {rp.code} --force")
        # Named where it is published, also while a build stages the edition elsewhere.
        published = rp.published_dir / "notebooks" / path.name
        out += notebook_entries(nb, path.stem, published.relative_to(rp.root).as_posix())
    check_unique(out)
    return out


def check_unique(entries: list[dict]) -> None:
    """A label names one output: `trace LABEL` and the book's links must not have to choose."""
    first: dict[str, dict] = {}
    dupes = []
    for e in entries:
        seen = first.setdefault(e["label"], e)
        if seen is not e:
            dupes.append(f"{e['label']}（{seen['chapter']} 第 {seen['cell_index']} 个单元格和 "
                         f"{e['chapter']} 第 {e['cell_index']} 个单元格）")
    if dupes:
        raise RenderError("标签登记了两次：" + "；".join(dupes),
                          hint="每个图、表和引用的数字各用一个编号（chapters.provenance.num/quote、"
                               "单元格的 #| label）")


def register_key(entry: dict) -> tuple[str, str]:
    # Labels are unique (check_unique); the chapter keeps old manifests comparable.
    return entry["chapter"], entry["label"]


