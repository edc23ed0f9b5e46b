"""`planbook trace`: where a figure, table or quoted number came from."""

from __future__ import annotations

import difflib
import json

import nbformat

from planbook.audit.manifest import load_manifest
from planbook.audit.register import register
from planbook.chapters.provenance import _text
from planbook.errors import TraceError
from planbook.run.period import ReportPeriod


def _published_register(rp: ReportPeriod) -> tuple[list[dict], dict]:
    """(register, parameters) from the manifest; from the executed notebooks when the
    period was run but not built (no manifest yet)."""
    if rp.manifest.is_file():
        manifest = load_manifest(rp)
        return manifest.get("register", []), manifest.get("parameters", {})
    return register(rp), rp.params.as_dict()


def lookup(label: str, rp: ReportPeriod) -> list[dict]:
    """The register entries for `label` (a number quoted in two chapters has two), each with
    the cell's code and the run's parameters. Raises TraceError listing close labels."""
    period, root = rp.code, rp.root
    entries, parameters = _published_register(rp)
    found = [e for e in entries if e["label"] == label]
    if not found:
        labels = sorted({e["label"] for e in entries})
        close = difflib.get_close_matches(label, labels, n=8, cutoff=0.6)
        if not close:  # a prefix still helps: fig-county → every fig-county-…
            close = [x for x in labels if x.startswith(label[:8])][:8]
        raise TraceError(
            f"period {period} has no figure, table or number labelled {label!r}"
            + (f"; close labels: {', '.join(close)}" if close else ""),
            hint=f"the labels are listed in the appendix 数据来源与追溯 and in "
                 f"{rp.rel(rp.manifest)}")
    out = []
    for e in found:
        path = root / e["notebook"]
        code = ""
        if path.is_file():
            cells = nbformat.read(path, as_version=4).cells
            if e["cell_index"] < len(cells):
                code = _text(cells[e["cell_index"]].get("source", ""))
        out.append({**e, "period": period, "parameters": parameters, "code": code})
    return out


def trace(label: str, rp: ReportPeriod, *, as_json: bool = False) -> int:
    """Print where `label` came from: notebook cell, code, parameters, input rows, hash."""
    found = lookup(label, rp)
    if as_json:
        print(json.dumps(found if len(found) > 1 else found[0], ensure_ascii=False, indent=2))
        return 0
    kind_zh = {"figure": "图", "table": "表", "number": "数字"}
    for e in found:
        print(f"{e['label']}（{kind_zh.get(e['kind'], e['kind'])}）")
        if e.get("text"):
            print(f"  数值:   {e['text']}")
        print(f"  笔记本: {e['notebook']}")
        print(f"  单元:   第 {e['cell_index']} 个（id {e['cell_id']}）")
        print(f"  输出 SHA256: {e['sha256']}")
        print("  参数:   " + ", ".join(f"{k}={v}" for k, v in e["parameters"].items()))
        print("  代码:")
        for line in e["code"].splitlines():
            print(f"    {line}")
        print(f"  输入数据行（{len(e['inputs'])}）:")
        for r in e["inputs"]:
            print(f"    {r['indicator_id']}  {r['period']}  修订{r['revision']}  "
                  f"{r['file']}  {r['file_sha256']}")
    return 0


