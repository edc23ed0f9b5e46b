"""Provenance: what each output of a chapter notebook was made from, and checking it.

Inside a notebook, `record()` attaches a small display output of its own MIME type to the
cell being executed: the number id or output kind, and the data rows used. Neither engine
renders that MIME type; the register is built afterwards by reading the executed notebooks
(`register()`), so each entry knows its cell id and index without any bookkeeping in the
notebook. An entry: label, kind (figure/table/number), chapter, notebook, cell id and index,
sha256 of the output bytes (SVG text, table markdown, number text) and the input rows.

`write_manifest()` records the register with the inputs' and the published files' hashes;
`trace()` answers "where does this come from"; `verify()` re-executes into a temporary
copy and compares everything with the manifest.
"""

from __future__ import annotations

from collections.abc import Iterable

from planbook.hashing import sha256_bytes

MIME = "application/vnd.planbook.provenance+json"


def input_row(r) -> dict:
    """One data row an output used: indicator, period, revision and the submission file."""
    if isinstance(r, dict):
        get = r.get
    else:
        get = lambda k: getattr(r, k, None)  # noqa: E731 - a namedtuple or an Assessment row
    out = {"indicator_id": get("indicator_id"), "period": str(get("period")),
           "revision": int(get("revision") or 0), "file_sha256": get("file_sha256") or "",
           "file": get("file") or ""}
    return out


def record(kind: str, ident: str | None = None, *, text: str | None = None,
           inputs: Iterable = ()) -> None:
    """Attach provenance to the current cell's outputs (a no-op outside a kernel)."""
    payload = {"kind": kind, "id": ident, "text": text,
               "inputs": [input_row(r) for r in inputs]}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    if get_ipython() is None:
        return
    display({MIME: payload}, raw=True)


# ---------------------------------------------------------------- the register

IMAGE_TYPES = ("image/svg+xml", "image/png", "image/jpeg")
TABLE_TYPES = ("text/markdown", "text/html")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_bytes(data: dict) -> bytes | None:
    """The bytes a figure or table output publishes: SVG text as written to the HTML book's
    figure file, PNG/JPEG decoded; a table's pipe-table markdown (else its HTML)."""
    import base64

    for mime in IMAGE_TYPES:
        if mime in data:
            raw = _text(data[mime])
            return raw.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(raw)
    for mime in TABLE_TYPES:
        if mime in data:
            return _text(data[mime]).encode("utf-8")
    return None


def _unique_rows(rows: Iterable[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        key = tuple(sorted(r.items()))
        if key not in seen:
            seen.add(key)
            out.append(dict(r))
    return out


def notebook_entries(nb, chapter: str, notebook: str) -> list[dict]:
    """Register entries of one executed notebook, in cell order.

    A cell labelled fig-/tbl- gives one entry per image (fig) or its first table (tbl),
    labelled like the book numbers them (a second image of `fig-x` is `fig-x-2`); each
    provenance output of kind number gives one entry keyed by its id.
    """
    from planbook.pages import cell_options

    entries: list[dict] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        label = str(cell_options(_text(cell.get("source", ""))).get("label") or "")
        where = {"chapter": chapter, "notebook": notebook, "cell_id": cell.get("id"),
                 "cell_index": index}
        shown: list[bytes] = []
        recorded: list[dict] = []
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = output.get("data", {})
            if MIME in data:
                payload = data[MIME]
                if payload.get("kind") == "number":
                    text = str(payload.get("text") or "")
                    entries.append({"label": payload.get("id"), "kind": "number", **where,
                                    "text": text, "sha256": sha256_bytes(text.encode("utf-8")),
                                    "inputs": _unique_rows(payload.get("inputs", []))})
                else:
                    recorded.append(payload)
                continue
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


def notebook_files(period: str, root) -> list:
    """The executed notebooks of `period`, in book order."""
    from planbook import chapters, paths
    from planbook.params import load_params

    folder = paths.reports_dir(root) / period / "notebooks"
    kind = load_params(period, root).kind
    return [folder / c.notebook for c in chapters.chapters_for(kind)
            if (folder / c.notebook).is_file()]


def register(period: str, root=None) -> list[dict]:
    """Every labelled figure and table and every quoted number of the executed notebooks."""
    import nbformat

    from planbook import paths

    root = root or paths.project_root()
    out: list[dict] = []
    for path in notebook_files(period, root):
        nb = nbformat.read(path, as_version=4)
        out += notebook_entries(nb, path.stem, path.relative_to(root).as_posix())
    return out


def register_key(entry: dict) -> tuple[str, str]:
    # Number ids may repeat across chapters (the summary quotes a chapter's figures).
    return entry["chapter"], entry["label"]


# ---------------------------------------------------------------- the manifest


def _git(root, *args: str) -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def versions() -> dict[str, str]:
    """Versions of the tools that shape the outputs: Python, papermill, pandas, matplotlib,
    pandoc and typst (the typst-py package embeds the compiler of the same version)."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("planbook", "papermill", "pandas", "matplotlib", "nbformat", "typst",
                 "pypandoc-binary"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    try:
        import subprocess

        from planbook.pandoc import pandoc_path

        first = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True,
                               timeout=30).stdout.splitlines()
        out["pandoc"] = first[0].split()[-1] if first else "unknown"
    except Exception:  # noqa: BLE001 - a version probe must never fail a build
        out["pandoc"] = "unknown"
    return out


def input_files(period: str, root) -> dict[str, str]:
    """sha256 of every input: registry, observations, villages, params, source notebooks."""
    from planbook import chapters, observations, villages
    from planbook.params import load_params, params_file
    from planbook.registry import load_registry

    params = load_params(period, root)
    data = params.data_path(root)
    registry = load_registry(data)
    files = list(registry.files.values()) + observations.store_files(data)
    files += [villages.village_file(data), params_file(period, root)]
    files += [chapters.source_notebook(c, root) for c in chapters.chapters_for(params.kind)]
    out = {}
    for f in files:
        if f.is_file():
            rel = f.relative_to(root).as_posix() if f.is_relative_to(root) else str(f)
            out[rel] = observations.sha256_file(f)
    return dict(sorted(out.items()))


def published_files(period: str, root) -> dict[str, str]:
    """sha256 of what a build publishes: html/ (pages, figures, code pages), the executed
    notebooks and report.pdf; paths relative to reports/<P>/."""
    from planbook import paths
    from planbook.observations import sha256_file

    out_dir = paths.reports_dir(root) / period
    files = [p for p in sorted((out_dir / "html").rglob("*")) if p.is_file()]
    files += sorted((out_dir / "notebooks").glob("*.ipynb"))
    files += [out_dir / "report.pdf"]
    return {f.relative_to(out_dir).as_posix(): sha256_file(f) for f in files if f.is_file()}


def manifest_path(period: str, root=None):
    from planbook import paths

    return paths.reports_dir(root) / period / "manifest.json"


def write_manifest(period: str, *, root, engine: str, started, finished):
    """reports/<P>/manifest.json: parameters, input hashes, versions, commit, engine, times,
    the register and the hashes of the published files. Only the times vary between two
    builds of the same inputs."""
    import json

    from planbook import __version__
    from planbook.observations import _atomic_write_text
    from planbook.params import load_params

    params = load_params(period, root)
    commit = _git(root, "rev-parse", "HEAD")
    dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    manifest = {
        "period": period, "parameters": params.as_dict(),
        "planbook_version": __version__,
        "git": {"commit": commit, "dirty": dirty if commit else None},
        "versions": versions(), "engine": engine,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "inputs": input_files(period, root),
        "outputs": published_files(period, root),
        "register": register(period, root),
    }
    path = manifest_path(period, root)
    _atomic_write_text(path, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return path


def load_manifest(period: str, root=None) -> dict:
    import json

    from planbook.errors import VerifyError

    path = manifest_path(period, root)
    if not path.is_file():
        raise VerifyError(f"{path}: no manifest for period {period}",
                          hint=f"build the report first: planbook build --period {period}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise VerifyError(f"{path}: not readable JSON ({exc})",
                          hint=f"rebuild: planbook build --period {period}") from None


# ---------------------------------------------------------------- trace


def _published_register(period: str, root) -> tuple[list[dict], dict]:
    """(register, parameters) from the manifest; from the executed notebooks when the
    period was run but not built (no manifest yet)."""
    from planbook.params import load_params

    if manifest_path(period, root).is_file():
        manifest = load_manifest(period, root)
        return manifest.get("register", []), manifest.get("parameters", {})
    return register(period, root), load_params(period, root).as_dict()


def lookup(label: str, period: str, root=None) -> list[dict]:
    """The register entries for `label` (a number quoted in two chapters has two), each with
    the cell's code and the run's parameters. Raises TraceError listing close labels."""
    import difflib

    import nbformat

    from planbook import paths
    from planbook.errors import TraceError

    root = root or paths.project_root()
    entries, parameters = _published_register(period, root)
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
                 f"{manifest_path(period, root).relative_to(root).as_posix()}")
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


def trace(label: str, period: str, *, as_json: bool = False, root=None) -> int:
    """Print where `label` came from: notebook cell, code, parameters, input rows, hash."""
    import json

    found = lookup(label, period, root)
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


# ---------------------------------------------------------------- verify


def _compare(kind: str, recorded: dict[str, str], current: dict[str, str], where: str
             ) -> list[str]:
    out = []
    for name in sorted(set(recorded) | set(current)):
        if name not in current:
            out.append(f"{where}{name}: {kind} missing (manifest sha256 {recorded[name][:12]}…)")
        elif name not in recorded:
            out.append(f"{where}{name}: {kind} not in the manifest")
        elif recorded[name] != current[name]:
            out.append(f"{where}{name}: {kind} changed since the build "
                       f"(manifest {recorded[name][:12]}…, now {current[name][:12]}…)")
    return out


def reexecute(period: str, root) -> list[dict]:
    """Run `period`'s notebooks again, from the project's current inputs, in a temporary
    project copy (never touching reports/ or the cache), and return that run's register."""
    import shutil
    import tempfile
    from pathlib import Path

    from planbook import paths, pipeline
    from planbook.params import load_params

    params = load_params(period, root)
    with tempfile.TemporaryDirectory(prefix=f"planbook-verify-{period}-") as tmp:
        copy = Path(tmp)
        shutil.copytree(paths.params_dir(root), paths.params_dir(copy))
        shutil.copytree(paths.notebooks_dir(root), paths.notebooks_dir(copy))
        if not Path(params.data_dir).is_absolute():  # an absolute data dir is read in place
            shutil.copytree(params.data_path(root), params.data_path(copy))
        pipeline.run(period, root=copy, force=True, progress=False)
        entries = register(period, copy)
    # Notebook paths name the published folder, as in the manifest.
    return entries


def check(period: str, root=None, *, rerun: bool = True) -> tuple[list[str], dict[str, int]]:
    """Compare a published period with its manifest; (mismatches, counts).

    Published files and inputs are compared by sha256; with `rerun`, the notebooks are
    executed again and every register hash compared with the published one.
    """
    from planbook import paths
    from planbook.errors import PlanbookError

    root = root or paths.project_root()
    manifest = load_manifest(period, root)
    out_rel = (paths.reports_dir(root) / period).relative_to(root).as_posix() + "/"
    problems = _compare("published file", manifest.get("outputs", {}),
                        published_files(period, root), out_rel)
    problems += _compare("input file", manifest.get("inputs", {}), input_files(period, root), "")
    recorded = {register_key(e): e for e in manifest.get("register", [])}
    counts = {"figures": 0, "tables": 0, "numbers": 0,
              "files": len(manifest.get("outputs", {})), "inputs": len(manifest.get("inputs", {}))}
    for e in recorded.values():
        counts[{"figure": "figures", "table": "tables", "number": "numbers"}[e["kind"]]] += 1
    if rerun:
        try:
            again = {register_key(e): e for e in reexecute(period, root)}
        except PlanbookError as err:
            return problems + [f"re-execution failed: {err}"], counts
        for key in sorted(set(recorded) | set(again)):
            chapter, label = key
            if key not in again:
                problems.append(f"{label} ({chapter}): not produced by the re-execution")
            elif key not in recorded:
                problems.append(f"{label} ({chapter}): produced by the re-execution but not "
                                "in the manifest's register")
            elif recorded[key]["sha256"] != again[key]["sha256"]:
                problems.append(
                    f"{label} ({chapter}, cell {recorded[key]['cell_id']}): re-executed output "
                    f"differs (published {recorded[key]['sha256'][:12]}…, "
                    f"re-run {again[key]['sha256'][:12]}…)")
    return problems, counts


def verify(period: str, root=None, *, rerun: bool = True) -> int:
    """`planbook verify`: one OK line, or a VerifyError naming every mismatch (exit 1)."""
    from planbook.errors import Problem, VerifyError

    problems, n = check(period, root, rerun=rerun)
    if problems:
        raise VerifyError(f"period {period}: {len(problems)} mismatch(es) with the manifest",
                          problems=[Problem(p) for p in problems],
                          hint=f"rebuild (planbook build --period {period}) if the changes "
                               "are intended, else restore the named files")
    how = "re-executed and reproduced" if rerun else "recorded (not re-executed)"
    print(f"OK {period}: {n['figures']} figures, {n['tables']} tables, {n['numbers']} numbers "
          f"{how}; {n['files']} published files and {n['inputs']} inputs match the manifest")
    return 0
