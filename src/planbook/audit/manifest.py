"""reports/<P>/manifest.json: what a build was made from and what it published."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from planbook import __version__, clock, paths
from planbook.chapters import history
from planbook.chapters.catalogue import DOSSIER_PAGE
from planbook.errors import VerifyError
from planbook.files import atomic_write_text
from planbook.hashing import sha256_file
from planbook.plan.registry import load_registry
from planbook.run.period import ReportPeriod
from planbook.store import observations, statements
from planbook.store.evaluation import evaluation_file


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

        from planbook.book.pandoc import pandoc_path

        first = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True,
                               timeout=30).stdout.splitlines()
        out["pandoc"] = first[0].split()[-1] if first else "unknown"
    except Exception:  # noqa: BLE001 - a version probe must never fail a build
        out["pandoc"] = "unknown"
    return out


def input_files(rp: ReportPeriod) -> dict[str, str]:
    """sha256 of every input: registry, params, source notebooks, every source that shapes
    the book (book/ pages, _quarto.yml) and the earlier periods' published status records
    (html/statuses.json) whole — `verify` names a change to any of them —; for
    the store files and the village records, of the rows the report can use (received by its
    cut-off, periods ending by its end: observations.input_hashes), so later data leaves them
    as is."""
    registry = load_registry(rp.data)
    files = list(registry.files.values()) + [rp.params_file]
    # the period's own evaluator file (another period's cannot change this report);
    # statements and project stages as rows below
    files += [evaluation_file(rp.data, rp.code)]
    files += [rp.source_notebook(c) for c in rp.chapters]
    book = paths.book_dir(rp.root)
    files += sorted(p for p in book.rglob("*") if p.is_file()) if book.is_dir() else []
    files += [rp.root / "_quarto.yml"]
    # the earlier periods' published statuses the 指标档案 reads (chapters.history); one
    # published later appears here as a new input
    if any(c.key == DOSSIER_PAGE for c in rp.chapters):
        files += history.record_inputs(rp.params, rp.root)
    hashes = {f: sha256_file(f) for f in files if f.is_file()}
    hashes.update(observations.input_hashes(rp.data, as_of=rp.params.as_of, period=rp.period))
    hashes.update(statements.input_hashes(rp.data, cut_off=rp.params.as_of, period=rp.period))
    out = {}
    for f, h in hashes.items():
        rel = f.relative_to(rp.root).as_posix() if f.is_relative_to(rp.root) else str(f)
        out[rel] = h
    return dict(sorted(out.items()))


def published_files(rp: ReportPeriod) -> dict[str, str]:
    """sha256 of what a build publishes: html/ (pages, figures, code pages), the executed
    notebooks, report.pdf, its Word edition report.docx and the 技术附件 annex.pdf; paths
    relative to reports/<P>/."""
    out_dir = rp.report_dir
    files = [p for p in sorted((out_dir / "html").rglob("*")) if p.is_file()]
    files += sorted((out_dir / "notebooks").glob("*.ipynb"))
    files += [out_dir / "report.pdf", out_dir / "report.docx", out_dir / "annex.pdf"]
    return {f.relative_to(out_dir).as_posix(): sha256_file(f) for f in files if f.is_file()}


def write_manifest(rp: ReportPeriod, register: list[dict], *, engine: str, started,
                   finished) -> Path:
    """reports/<P>/manifest.json: parameters, input hashes, versions, commit, engine, times,
    the register and the hashes of the published files. Only the times vary between two
    builds of the same inputs."""
    # git and the version probes are child processes: they run while the files are hashed.
    with ThreadPoolExecutor(3) as pool:
        commit_job = pool.submit(_git, rp.root, "rev-parse", "HEAD")
        dirty_job = pool.submit(_git, rp.root, "status", "--porcelain", "--untracked-files=no")
        versions_job = pool.submit(versions)
        inputs, outputs = input_files(rp), published_files(rp)
        commit, dirty = commit_job.result(), bool(dirty_job.result())
        tools = versions_job.result()
    manifest = {
        "period": rp.code, "parameters": rp.params.as_dict(),
        # the edition (修订版 from 2 on) and the day it was issued; parameters.as_of is its
        # data cut-off (rows received later are not in it)
        "edition": rp.edition, "edition_date": rp.edition_date,
        "planbook_version": __version__,
        "git": {"commit": commit, "dirty": dirty if commit else None},
        "versions": tools, "engine": engine,
        "started_at": clock.stamp(started),
        "finished_at": clock.stamp(finished),
        "inputs": inputs,
        "outputs": outputs,
        "register": register,
    }
    atomic_write_text(rp.manifest, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return rp.manifest


def load_manifest(rp: ReportPeriod) -> dict:
    path = rp.manifest
    shown = rp.published_dir / "manifest.json"  # verify reads a copy: name the published one
    if not path.is_file():
        raise VerifyError(f"期间 {rp.code} 没有发布清单 {shown}",
                          hint=f"先生成报告：planbook build --period {rp.code}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise VerifyError(f"{shown} 无法作为 JSON 读取（{exc}）",
                          hint=f"从备份恢复 {rp.rel(rp.published_dir)}/manifest.json；"
                               f"重建不能修复已发布的版次") from None
