"""Provenance: what each output of a chapter notebook was made from.

Inside a notebook, `record()` attaches a small display output of its own MIME type to the
cell being executed: the number id or output kind, and the data rows used. Neither engine
renders that MIME type; the register is built afterwards by reading the executed notebooks,
so each entry knows its cell id and index without any bookkeeping in the notebook.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    """Versions of the tools that shape the outputs."""
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


def write_manifest(period: str, *, root, engine: str, started, finished):
    """reports/<P>/manifest.json: parameters, input hashes, versions, commit, engine, times."""
    import json

    from planbook import __version__, paths
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
    }
    path = paths.reports_dir(root) / period / "manifest.json"
    _atomic_write_text(path, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return path
