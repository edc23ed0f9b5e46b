"""`planbook verify`: compare a published period with its manifest, re-executing its notebooks,
and what a reader sees (the pages' and the PDF's text) with a re-render of that re-execution.

It reads one state of each thing it compares: the published edition is copied while no
command is publishing the period (run.publish.reading), and the data package is copied and
its inputs hashed under the store's shared lock (observations.read_lock), so a build or an
ingest running meanwhile is never reported as tampering.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from planbook import paths
from planbook.errors import PlanbookError, Problem, VerifyError
from planbook.run.period import ReportPeriod

# The audit and run modules (pandas, nbformat, matplotlib's world) are imported in the
# functions: `verify` first starts the kernels' fork server, whose own imports then overlap
# these (about 1 s each way).


# The word a changed input's line carries; repair_hint tells inputs from outputs by it.
INPUT_KIND = "输入文件"


def _compare(kind: str, recorded: dict[str, str], current: dict[str, str], where: str
             ) -> list[str]:
    out = []
    for name in sorted(set(recorded) | set(current)):
        if name not in current:
            out.append(f"{where}{name}：{kind}缺失（清单记录的 sha256 为 {recorded[name][:12]}…）")
        elif name not in recorded:
            out.append(f"{where}{name}：{kind}不在清单中")
        elif recorded[name] != current[name]:
            out.append(f"{where}{name}：{kind}在生成后已改动"
                       f"（清单 {recorded[name][:12]}…，现为 {current[name][:12]}…）")
    return out


def published_records(rp: ReportPeriod) -> list[Path]:
    """The earlier periods' status records the period's 指标档案 reads that exist now."""
    from planbook.chapters import history
    from planbook.chapters.catalogue import DOSSIER_PAGE

    if not any(c.key == DOSSIER_PAGE for c in rp.chapters):
        return []
    return [p for p in history.record_inputs(rp.params, rp.root) if p.is_file()]


def _records_read(rp: ReportPeriod) -> dict[str, Path]:
    """The earlier periods' records to re-execute with: those the published edition read,
    as pinned by its manifest (a re-issued period's old record from its kept edition; one
    published later is left out), else, before publication, those that exist now."""
    from planbook.audit.manifest import load_manifest
    from planbook.chapters import history

    try:
        recorded = load_manifest(rp).get("inputs", {})
    except PlanbookError:
        return {p.relative_to(rp.root).as_posix(): p for p in published_records(rp)}
    return history.pinned(recorded, rp.root)


@contextlib.contextmanager
def project_copy(rp: ReportPeriod) -> Iterator[ReportPeriod]:
    """The period in a temporary copy of what its notebooks read: params, notebooks, the data
    (unless given by an absolute path, read in place) and the earlier periods' published
    status records its 指标档案 reads (chapters.history), each at its own place; removed after.
    A record changed since the build is named by the inputs' check (_check_files)."""
    root = rp.root
    with tempfile.TemporaryDirectory(prefix=f"planbook-verify-{rp.code}-") as tmp:
        copy = rp.moved(Path(tmp))
        from planbook.store.observations import read_lock

        shutil.copytree(paths.params_dir(root), paths.params_dir(copy.root))
        shutil.copytree(paths.notebooks_dir(root), paths.notebooks_dir(copy.root))
        # the re-render reads the book's pages and config as the build did
        if paths.book_dir(root).is_dir():
            shutil.copytree(paths.book_dir(root), paths.book_dir(copy.root))
        if (root / "_quarto.yml").is_file():
            shutil.copyfile(root / "_quarto.yml", copy.root / "_quarto.yml")
        if copy.data != rp.data:
            with read_lock(rp.data):  # one state of the store, not an ingest's half
                shutil.copytree(rp.data, copy.data)
        for rel, record in _records_read(rp).items():
            target = copy.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(record, target)
        yield copy


def reexecute(rp: ReportPeriod, published: Path | None = None, engine: str = "builtin"
              ) -> tuple[list[dict], list[str]]:
    """Run the period's notebooks again, from the project's current inputs, in a temporary
    project copy (never touching reports/ or the cache), and return that run's register.
    The notebooks stay in memory (execute.execute_fresh): nothing is cached, staged, published
    or read back; the register is built from them as `register` builds it from files.
    With `published` (a copy of the published edition), the book is rendered again from them
    in the copy and every page's text compared (audit.readers_view); those mismatches are
    returned with the register."""
    import nbformat

    from planbook.audit.readers_view import compare_pages
    from planbook.audit.register import check_unique, notebook_entries
    from planbook.run import execute

    with project_copy(rp) as copy:
        # Ordered by the project's last run times (the copy has none).
        notebooks = execute.execute_fresh(copy, timings=rp.root)
        entries: list[dict] = []
        for key, nb in notebooks.items():
            # Notebook paths name the published folder, as in the manifest.
            published_nb = copy.published_dir / "notebooks" / f"{key}.ipynb"
            entries += notebook_entries(nb, key, published_nb.relative_to(copy.root).as_posix())
        check_unique(entries)
        if published is None:
            return entries, []
        from planbook.book.render import render

        again = dataclasses.replace(copy, edition_dir=copy.root / "reports" / ".verify")
        again.notebooks_dir.mkdir(parents=True)
        for key, nb in notebooks.items():
            nbformat.write(nb, again.notebooks_dir / f"{key}.ipynb")
        render(again, entries, engine=engine)
        where = rp.rel(rp.published_dir) + "/"
        return entries, compare_pages(published, again.report_dir, entries, where)


def _published_copy(rp: ReportPeriod, into: Path) -> ReportPeriod:
    """The published edition copied to `into` while no command publishes the period (a build
    running now is waited for), as a ReportPeriod reading that copy."""
    from planbook.run import publish

    with publish.reading(rp.code, rp.root):
        if rp.published_dir.is_dir():
            shutil.copytree(rp.published_dir, into, symlinks=True)
        else:
            into.mkdir()
    return dataclasses.replace(rp, edition_dir=into)


def check(rp: ReportPeriod, *, rerun: bool = True) -> tuple[list[str], dict[str, int]]:
    """Compare a published period with its manifest; (mismatches, counts).

    Published files and inputs are compared by sha256; with `rerun`, the notebooks are
    executed again and every register hash compared with the published one, and the book
    rendered again and every page's text compared with the published page's. Archived
    submissions are checked against their names.
    """
    if rerun:
        from planbook.run import KERNEL, kernels

        kernels.prestart(KERNEL, rp.root)
    from planbook.audit.manifest import load_manifest

    with tempfile.TemporaryDirectory(prefix=f"planbook-published-{rp.code}-") as tmp:
        seen = _published_copy(rp, Path(tmp) / rp.code)
        manifest = load_manifest(seen)
        if not rerun:
            problems, counts = _check_files(seen, manifest)
            return problems + _archive_problems(rp), counts
        # Re-executing takes longest: start it, and hash the published files and inputs while
        # its fork server imports and the period is prepared (one core is free then).
        with ThreadPoolExecutor(1) as pool:
            again = pool.submit(reexecute, rp, seen.report_dir,
                                str(manifest.get("engine") or "builtin"))
            problems, counts = _check_files(seen, manifest)
            problems += _archive_problems(rp)
            try:
                entries, pages = again.result()
            except PlanbookError as err:
                return problems + [f"re-execution failed: {err}"], counts
        return problems + _compare_register(manifest, entries) + pages, counts


def _archive_problems(rp: ReportPeriod) -> list[str]:
    from planbook.audit.readers_view import tampered_submissions

    return [f"{rp.rel(f)}：归档的报送文件已被改动（内容的 sha256 与文件名不符），"
            "不再是部门报送的原件" for f in tampered_submissions(rp.data)]


def _check_files(rp: ReportPeriod, manifest: dict) -> tuple[list[str], dict[str, int]]:
    from planbook.audit.manifest import input_files, published_files
    from planbook.audit.register import register_key
    from planbook.chapters import history
    from planbook.store.observations import read_lock

    out_rel = rp.rel(rp.published_dir) + "/"
    problems = _compare("发布文件", manifest.get("outputs", {}),
                        published_files(rp), out_rel)
    recorded = manifest.get("inputs", {})
    with read_lock(rp.data):  # not half of an ingest that is writing now
        now = input_files(rp)
    problems += _compare(INPUT_KIND, recorded, history.as_published(recorded, now, rp.root),
                         "")
    recorded = {register_key(e): e for e in manifest.get("register", [])}
    counts = {"figures": 0, "tables": 0, "numbers": 0,
              "files": len(manifest.get("outputs", {})), "inputs": len(manifest.get("inputs", {}))}
    for e in recorded.values():
        counts[{"figure": "figures", "table": "tables", "number": "numbers"}[e["kind"]]] += 1
    return problems, counts


def _compare_register(manifest: dict, entries: list[dict]) -> list[str]:
    from planbook.audit.register import register_key

    recorded = {register_key(e): e for e in manifest.get("register", [])}
    again = {register_key(e): e for e in entries}
    problems = []
    for key in sorted(set(recorded) | set(again)):
        chapter, label = key
        if key not in again:
            problems.append(f"{label}（{chapter}）：重新执行没有生成它")
        elif key not in recorded:
            problems.append(f"{label}（{chapter}）：重新执行生成了它，但清单的登记中没有")
        elif recorded[key]["sha256"] != again[key]["sha256"]:
            problems.append(
                f"{label}（{chapter}，单元格 {recorded[key]['cell_id']}）：重新执行的输出不同"
                f"（发布的 {recorded[key]['sha256'][:12]}…，"
                f"重新执行的 {again[key]['sha256'][:12]}…）")
    return problems


def repair_hint(rp: ReportPeriod, problems: list[str]) -> str:
    """What repairs a failed verify. A plain build of a published period changes nothing
    (or is refused), so it is never the advice: restore, or issue a revised edition."""
    where = rp.rel(rp.published_dir)
    steps = []
    if any(not p.startswith("data/") and INPUT_KIND not in p
           and "归档的报送文件" not in p for p in problems):
        steps.append(f"已发布的报告被改动：从备份恢复 {where}/（含 manifest.json）")
    if any("归档的报送文件" in p for p in problems):
        steps.append("归档的报送文件被改动：从备份恢复 data/submissions/ 中所列文件")
    if any(INPUT_KIND in p for p in problems):
        steps.append(f"输入已变：恢复所列输入；有意更改则 planbook build --period {rp.code} "
                     f"--reissue 发布修订版（第{rp.edition}版保留在 "
                     f"reports/editions/{rp.code}/{rp.edition}/）")
    return "；".join(steps) + f"；然后再 planbook verify --period {rp.code}"


def verify(rp: ReportPeriod, *, rerun: bool = True) -> int:
    """`planbook verify`: one OK line, or a VerifyError naming every mismatch (exit 1)."""
    period = rp.code
    problems, n = check(rp, rerun=rerun)
    if problems:
        raise VerifyError(f"{period}：{len(problems)} 处与清单（manifest）不符",
                          problems=[Problem(p) for p in problems],
                          hint=repair_hint(rp, problems))
    how = "重新执行，结果一致" if rerun else "按记录核对（未重新执行）"
    print(f"核验通过 {period}：图 {n['figures']} 个、表 {n['tables']} 个、数字 {n['numbers']} 个"
          f"{how}；已发布文件 {n['files']} 个、输入 {n['inputs']} 个与清单一致")
    return 0
