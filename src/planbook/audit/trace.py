"""`planbook trace`: where a figure, table or quoted number came from, or, given an indicator
id (ind_gdp), the indicator's data rows and every label that uses it."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import nbformat

from planbook.audit.manifest import load_manifest
from planbook.audit.register import register
from planbook.chapters.provenance import REGISTRY_INPUT, _text
from planbook.errors import TraceError
from planbook.hashing import sha256_file
from planbook.paths import archived_submission
from planbook.run.period import ReportPeriod
from planbook.store.schema import STATUS_ZH


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
        # num-gdp-2025 names an indicator: its labels are what the reader is after.
        from planbook.plan.registry import load_registry

        ids = load_registry(rp.data).indicators
        named = [i for i in ids if label.startswith(f"num-{i.removeprefix('ind_')}-")
                 or label == i.removeprefix("ind_")]
        close = [x for x in close if not named or named[0].removeprefix("ind_") in x]
        raise TraceError(
            f"{period} 没有标签为 {label!r} 的图、表或数字"
            + (f"；相近的标签：{'、'.join(close)}" if close else ""),
            hint=(f"看使用该指标的全部标签：planbook trace "
                  f"{max(named, key=len)} --period {period}；" if named else "")
            + f"全部标签列在附录“数据来源与追溯”和 {rp.rel(rp.manifest)} 中")
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


def submission_path(rp: ReportPeriod, sha256: str) -> str:
    """The archived submission (root-relative), "" when there is none."""
    path = archived_submission(rp.data, sha256)
    return rp.rel(path) if path else ""


class _Files:
    """Names the files behind a trace's input rows; each file is hashed once.

    A row's `file` is data-relative: the store file the row lives in (an observation, a
    village record, an evaluation, a registry entry), or for a quoted statement or project
    stage the file it was read from, its store file being `store`. Its `file_sha256` is the
    file it was submitted in: archived under data/submissions/, or, for the illustrative
    sample, the sample's own source file under data/sample/ (never archived); for an
    evaluation or a registry entry the data file itself; for village records, the records
    used (not a file)."""

    def __init__(self, rp: ReportPeriod):
        self.rp = rp
        self._sha: dict[Path, str] = {}

    def sha(self, path: Path) -> str:
        if path not in self._sha:
            self._sha[path] = sha256_file(path) if path.is_file() else ""
        return self._sha[path]

    def describe(self, row: dict) -> dict:
        """`data_file`: the root-relative file the row lives in; `submission`: the file its
        sha256 names ("" when none is found); `sha256_of`: submission | data_file | records
        (village rows) | changed (the named source file no longer has that sha256) |
        tampered (the archived submission's bytes no longer hash to its name) | missing
        (no file here has it: not archived, or changed since)."""
        data, rel = self.rp.data, self.rp.rel
        stored = row.get("store") or row.get("file") or ""
        out = {"data_file": rel(data / stored) if stored else "", "submission": ""}
        sha = row.get("file_sha256") or ""
        if row.get("rows"):
            return {**out, "sha256_of": "records"}
        archived = archived_submission(data, sha)
        if archived:
            # an archive is named by its bytes' sha256 at intake: other bytes now = changed
            kind = "submission" if self.sha(archived) == sha else "tampered"
            return {**out, "submission": rel(archived), "sha256_of": kind}
        if stored and self.sha(data / stored) == sha:
            return {**out, "sha256_of": "data_file"}
        # The file the row says it was read from, then the sample's source files.
        named = [data / row["file"]] if row.get("store") and row.get("file") else []
        sample = data / "sample"
        found = [p for p in named + (sorted(sample.iterdir()) if sample.is_dir() else [])
                 if p.is_file() and self.sha(p) == sha]
        if sha and found:
            return {**out, "submission": rel(found[0]), "sha256_of": "submission"}
        if named and named[0].is_file():  # still named, but no longer the file submitted
            return {**out, "submission": rel(named[0]), "sha256_of": "changed"}
        return {**out, "sha256_of": "missing"}


def _with_paths(rp: ReportPeriod, rows: list[dict]) -> list[dict]:
    files = _Files(rp)
    return [{**r, **files.describe(r)} for r in rows]


def _file_part(r: dict) -> str:
    """Where a row lives and what its sha256 is of, as one trace line prints it."""
    sha = r.get("file_sha256") or "—"
    named = r.get("data_file") or r.get("file") or "（未记录）"
    # A quoted statement or project stage: its sheet and row in the submitted file.
    where = (f"  {r['sheet'] + ' ' if r.get('sheet') else ''}第 {r['row']} 行"
             if r.get("row") else "")
    head = f"数据文件 {named}"
    kind = r.get("sha256_of")
    if kind == "records":
        tail = f"  村级记录 [{r['rows']}]  记录 sha256 {sha}"
    elif kind == "submission":
        tail = f"  报送文件 {r['submission']}{where}  sha256 {sha}"
    elif kind == "data_file":
        tail = f"{where}  文件 sha256 {sha}"
    elif kind == "tampered":
        tail = (f"  报送文件 {r['submission']}{where}（归档后被改动，内容与 sha256 不符，"
                f"不是报送原件）  sha256 {sha}")
    elif kind == "changed":
        tail = f"  报送文件 {r['submission']}{where}（已更改，与 sha256 不符）  sha256 {sha}"
    else:
        tail = f"{where}  报送文件未找到（未存档或已更改）  sha256 {sha}"
    return head + tail


def _warn_tampered(rows) -> None:
    """One warning per archived submission cited whose bytes no longer match its name."""
    import sys

    for name in sorted({r["submission"] for r in rows if r.get("sha256_of") == "tampered"}):
        print(f"planbook trace: 警告：归档的报送文件 {name} 已被改动（内容的 sha256 与文件名不符），"
              "上面引用的不是部门报送的原件；请从备份恢复该文件", file=sys.stderr)


def _row_line(r: dict) -> str:
    return f"{r['indicator_id']}  {r['period']}  修订{r['revision']}  {_file_part(r)}"


def lookup_indicator(ind_id: str, rp: ReportPeriod) -> dict:
    """An indicator's registry entry, its stored rows up to the period (every revision, the
    one the report uses marked) and the register entries whose inputs include it."""
    from planbook.plan.registry import load_registry
    from planbook.store import observations

    registry = load_registry(rp.data)
    ind = registry.indicators.get(ind_id)
    if ind is None:
        close = difflib.get_close_matches(ind_id, sorted(registry.indicators), n=8, cutoff=0.6)
        raise TraceError(f"方案登记中没有指标 {ind_id!r}"
                         + (f"；相近的编号：{'、'.join(close)}" if close else ""),
                         hint="planbook plan --leads 列出全部指标编号")
    frame = observations.load_all(rp.data, registry)
    frame = observations.upto(observations.rows_for(frame, [ind_id]), rp.period)
    frame = frame.sort_values(["period", "revision"], kind="stable")
    used = {(r.period, r.revision) for r in observations.latest(frame).itertuples()}
    rows = []
    for rec in frame.to_dict("records"):
        extra = rec.get("rows")
        rows.append({"indicator_id": ind_id, "period": str(rec["period"]),
                     "revision": int(rec["revision"]),
                     "value": None if rec["value"] != rec["value"] else float(rec["value"]),
                     "status": rec["status"], "source": rec["source"],
                     "file": rec["file"], "file_sha256": rec["file_sha256"] or "",
                     **({"rows": extra} if isinstance(extra, str) and extra else {}),
                     "used": (str(rec["period"]), int(rec["revision"])) in used})
    entries, _ = _published_register(rp)
    # Counted by its data rows, or, without any, by its registry entry.
    ids = {ind_id, f"{REGISTRY_INPUT}{ind_id}"}
    labels = [{k: e.get(k) for k in ("label", "kind", "chapter", "cell_id", "text")}
              for e in entries if any(r.get("indicator_id") in ids for r in e["inputs"])]
    return {"indicator_id": ind_id, "name_zh": ind.name_zh, "name_en": ind.name_en,
            "path": ind.path, "lead": ind.lead, "unit": ind.unit, "period": rp.code,
            "rows": _with_paths(rp, rows), "labels": labels}


def trace_indicator(ind_id: str, rp: ReportPeriod, *, as_json: bool = False) -> int:
    found = lookup_indicator(ind_id, rp)
    _warn_tampered(found["rows"])
    if as_json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    kind_zh = {"figure": "图", "table": "表", "number": "数字"}
    print(f"{found['indicator_id']}  {found['name_zh']}")
    print(f"  方案条目: {found['path']}  牵头单位: {found['lead']}  期间: {found['period']}")
    print(f"  数据行（{len(found['rows'])}，* 为本期报告采用的最新修订）:")
    for r in found["rows"]:
        value = "—" if r["value"] is None else f"{r['value']:g}{found['unit']}"
        print(f"   {'*' if r['used'] else ' '} {r['period']}  {value}  修订{r['revision']}  "
              f"{STATUS_ZH.get(r['status'], r['status'])}  {_file_part(r)}")
    print(f"  使用本指标的图、表和数字（{len(found['labels'])}）:")
    for e in found["labels"]:
        text = f"  {e['text']}" if e.get("text") else ""
        print(f"    {e['label']}（{kind_zh.get(e['kind'], e['kind'])}，{e['chapter']}）{text}")
    return 0


def trace(label: str, rp: ReportPeriod, *, as_json: bool = False) -> int:
    """Print where `label` came from: notebook cell, code, parameters, input rows, hash.
    An indicator id (ind_…) prints the indicator's rows and the labels using it."""
    # A label copied from the PDF's register carries the zero-width spaces it wraps at.
    label = label.replace("\u200b", "").strip()
    if label.startswith("ind_"):
        return trace_indicator(label, rp, as_json=as_json)
    found = lookup(label, rp)
    found = [{**e, "inputs": _with_paths(rp, e["inputs"])} for e in found]
    _warn_tampered([r for e in found for r in e["inputs"]])
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
            print(f"    {_row_line(r)}")
    return 0


