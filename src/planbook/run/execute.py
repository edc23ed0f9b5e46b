"""Executing a period's chapter notebooks with papermill: staging, parallel workers, cache, publish.

The recipe of `run`: take the resolved period (params, chapter list, data folder) -> check every source
notebook -> reuse the chapters whose inputs are unchanged -> execute the others in parallel into
build/staging/<P>/notebooks/ -> when every chapter succeeded, move that folder into the period's
staged edition (run.publish), which is swapped in as reports/<P>/ whole -> record the cache.
A failed chapter is kept in build/failed/<P>/ and the published edition is left exactly as it
was.

Files under build/ (all git-ignored):
    build/staging/<P>/notebooks/   this run's notebooks, before they are published
    build/cache/<P>/<chapter>.json the inputs' sha256 of the chapter's last successful run
    build/cache/<P>/<chapter>.ipynb that run's executed notebook, reused while inputs are unchanged
    build/failed/<P>/<chapter>.ipynb the executed notebook of a failed chapter, for inspection
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import nbformat

import planbook
from planbook import clock, paths
from planbook.chapters import catalogue as chapter_list
from planbook.chapters import history, prepared, provenance
from planbook.chapters.catalogue import Chapter
from planbook.errors import EnvironmentFault, ExecutionError, ParamsError, Problem
from planbook.hashing import sha256_bytes, sha256_file
from planbook.plan.params import REQUIRED, Params, params_file
from planbook.plan.registry import Registry, load_registry
from planbook.run import KERNEL, publish
from planbook.run.period import ReportPeriod, published
from planbook.store import observations

# A hung cell fails its chapter instead of blocking the whole run forever.
CELL_TIMEOUT = 1800
# Packages whose upgrade can change a chapter's tables or figure bytes.
ENVIRONMENT_PACKAGES = ("pandas", "numpy", "matplotlib", "seaborn", "papermill", "ipykernel")
KERNEL_START_ATTEMPTS = 3
HIDDEN_TAG = "remove-cell"  # Quarto and the built-in engine both drop cells tagged so


@dataclass
class RunResult:
    period: str
    executed: list[str]  # chapter keys executed by papermill in this run
    cached: list[str]  # chapter keys reused from the cache
    seconds: dict[str, float]  # chapter key -> seconds spent on it in this run
    output: Path  # reports/<P>/notebooks
    total_seconds: float = 0.0
    published: bool = True  # False when the published folder already held these exact bytes


@dataclass
class Failure:
    """One chapter that did not execute; str() is the line the CLI prints."""

    chapter: Chapter
    source: str  # notebooks/<key>.ipynb
    cell: int | None  # 1-based position in the source notebook
    label: str | None  # the failing cell's `#| label:`
    ename: str
    evalue: str
    kept: Path | None  # the failed executed notebook
    kept_label: str = ""  # the same, root-relative, as printed

    def __str__(self) -> str:
        where = f"章节 {self.chapter.key}《{self.chapter.title}》（{self.source}）"
        if self.cell is not None:
            where += f"，第 {self.cell} 个单元格" + (f" {self.label}" if self.label else "")
        text = f"{where}：{self.ename}: {self.evalue}" if self.evalue else f"{where}：{self.ename}"
        if self.kept:
            text += f"\n    失败的笔记本保留在 {self.kept_label or self.kept}"
        return text


# ------------------------------------------------------------------------- input hashes


def _rel(path: Path, root: Path) -> str:
    """Root-relative posix path, so hashes and manifests read the same on every machine."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def library_files(root: Path) -> dict[str, Path]:
    # planbook's own source is an input of every chapter: the notebooks are thin and all the
    # computing lives in the library, so a change there must invalidate the cache even when
    # __version__ was not bumped.
    package = Path(planbook.__file__).resolve().parent
    out = {}
    for p in sorted(package.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        try:
            key = p.relative_to(root.resolve()).as_posix()
        except ValueError:  # installed outside the project (site-packages)
            key = "planbook/" + p.relative_to(package).as_posix()
        out[key] = p
    return out


class _Hasher:
    """sha256 of files, each read once per run although several chapters share them."""

    MISSING = "missing"  # a listed input that vanished: differs from any digest

    def __init__(self) -> None:
        self._memo: dict[Path, str] = {}
        self.facts: dict[tuple, str] = {}

    def __call__(self, path: Path) -> str:
        if path not in self._memo:
            self._memo[path] = sha256_file(path) if path.is_file() else self.MISSING
        return self._memo[path]


def _input_hashes(chapter: Chapter, params: Params, root: Path, registry: Registry,
                  hasher: _Hasher) -> dict[str, str]:
    files = {_rel(chapter_list.source_notebook(chapter, root), root):
             chapter_list.source_notebook(chapter, root),
             _rel(params_file(params.period, root), root): params_file(params.period, root)}
    data = params.data_path(root).resolve()
    files.update({_rel(p, root): p for p in chapter_list.data_inputs(chapter, data, registry)})
    if chapter.key == chapter_list.DOSSIER_PAGE:
        # The 指标档案 reads earlier periods' published statuses (chapters.history): a record
        # published, re-issued or damaged since re-runs it (a missing one hashes as such).
        files.update({_rel(p, root): p for p in history.record_inputs(params, root)})
    files.update(library_files(root))
    out = {key: hasher(p) for key, p in files.items()}
    # What the notebook is given beyond files: the injected parameters (a re-issued edition
    # moves as_of, its data cut-off) and the report-wide real/sample fact (run.edition).
    out["(parameters)"] = sha256_bytes(json.dumps(params.as_dict(), sort_keys=True,
                                                  ensure_ascii=False).encode("utf-8"))
    key = ("fact", str(data), params.as_of, params.period)
    if key not in hasher.facts:
        hasher.facts[key] = observations.report_fact(
            data, registry, as_of=params.as_of, period=params.parsed_period)
    out["(real and sample)"] = sha256_bytes(hasher.facts[key].encode())
    return out


def input_hashes(chapter: Chapter, params: Params, root: Path | None,
                 registry: Registry) -> dict[str, str]:
    """Every file a chapter's executed notebook depends on: root-relative path -> sha256
    (`missing` for a listed file that is not there). The cache compares these; the manifest
    records them."""
    return _input_hashes(chapter, params, root or paths.project_root(), registry, _Hasher())


def environment() -> dict[str, str]:
    """planbook's version, Python's and the versions of the packages that shape outputs."""
    env = {"planbook": planbook.__version__, "python": sys.version.split()[0]}
    for name in ENVIRONMENT_PACKAGES:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = "absent"
    return env


# ------------------------------------------------------------------------- cache


def cache_dir(period: str, root: Path | None = None) -> Path:
    return paths.build_dir(root) / "cache" / period


def staging_dir(period: str, root: Path | None = None) -> Path:
    return paths.build_dir(root) / "staging" / period / "notebooks"


def failed_dir(period: str, root: Path | None = None) -> Path:
    return paths.build_dir(root) / "failed" / period


def published_dir(period: str, root: Path | None = None) -> Path:
    return paths.reports_dir(root) / period / "notebooks"


def _cached_notebook(chapter: Chapter, period: str, root: Path, inputs: dict[str, str],
                     env: dict[str, str]) -> tuple[Path | None, str]:
    """The cached executed notebook if the chapter's last successful run had these inputs,
    else None and why not (shown on the progress line, so a re-run is never a mystery)."""
    folder = cache_dir(period, root)
    entry_file, nb_file = folder / f"{chapter.key}.json", folder / chapter.notebook
    try:
        entry = json.loads(entry_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, "首次执行"
    old = entry.get("inputs") or {}
    changed = sorted(k for k in {*old, *inputs} if old.get(k) != inputs.get(k))
    if changed:
        more = f"（另 {len(changed) - 1} 项）" if len(changed) > 1 else ""
        return None, f"已变：{changed[0]}{more}"
    if entry.get("environment") != env:
        diff = sorted(k for k in env if (entry.get("environment") or {}).get(k) != env[k])
        return None, f"已变：{', '.join(diff) or '运行环境'}"
    # The executed notebook itself must be the one recorded, not a hand-edited or torn copy.
    if not nb_file.is_file() or sha256_file(nb_file) != entry.get("output_sha256"):
        return None, "缓存的笔记本缺失或已改动"
    return nb_file, ""


def _last_seconds(chapter: Chapter, period: str, root: Path) -> float | None:
    try:
        entry = json.loads((cache_dir(period, root) / f"{chapter.key}.json").read_text("utf-8"))
        return float(entry["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# A chapter never timed (a cold build, or verify's fresh copy) is estimated from its source
# notebook: a kernel's fixed cost plus a share per code cell. Measured on the annual book
# (2025, 2 cores): 7-30 cells take 0.7-2.4 s, a4_dossiers' 296 cells about 9 s.
ESTIMATE_BASE, ESTIMATE_PER_CELL = 0.6, 0.03


def estimate_seconds(source: Path) -> float:
    """A rough run time of a chapter notebook never timed before, from its code cells."""
    try:
        cells = json.loads(source.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return ESTIMATE_BASE
    return ESTIMATE_BASE + ESTIMATE_PER_CELL * sum(
        1 for c in cells if isinstance(c, dict) and c.get("cell_type") == "code")


def _longest_first(todo: list[Chapter], period: str, root: Path,
                   timings: Path | None = None) -> list[Chapter]:
    """Start the chapters that take longest first, so no worker is left running one long
    notebook alone at the end: by their last run's seconds (from the cache of `timings`,
    default `root`), else by an estimate from their source notebook (estimate_seconds)."""
    def seconds(c: Chapter) -> float:
        last = _last_seconds(c, period, timings or root)
        return last if last is not None else estimate_seconds(
            chapter_list.source_notebook(c, root))

    cost = {c.key: seconds(c) for c in todo}
    return sorted(todo, key=lambda c: -cost[c.key])


def _write_cache(chapter: Chapter, period: str, root: Path, inputs: dict[str, str],
                 env: dict[str, str], executed: Path, seconds: float) -> None:
    folder = cache_dir(period, root)
    folder.mkdir(parents=True, exist_ok=True)
    nb_file = folder / chapter.notebook
    tmp = nb_file.with_suffix(".ipynb.tmp")
    shutil.copyfile(executed, tmp)
    os.replace(tmp, nb_file)
    entry = {"chapter": chapter.key, "title": chapter.title, "period": period,
             "environment": env, "inputs": inputs, "output_sha256": sha256_file(nb_file),
             "seconds": round(seconds, 2),
             "finished_at": clock.stamp()}
    # The json is written last and atomically: it is what marks the cached notebook valid.
    tmp = folder / f"{chapter.key}.json.tmp"
    tmp.write_text(json.dumps(entry, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, folder / f"{chapter.key}.json")


# ------------------------------------------------------------------------- checks


def _assigned_names(source: str) -> list[str] | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def check_notebook(path: Path, root: Path | None = None) -> None:
    """Refuse a chapter notebook papermill would run wrongly: unreadable, no `parameters` cell
    (papermill only warns and runs it unparameterized), or a parameters cell that does not
    define exactly the params keys."""
    where = _rel(path, root) if root else str(path)
    if not path.is_file():
        raise ExecutionError(f"缺少章节笔记本 {where}",
                             hint="新建它，或从 planbook.chapters.catalogue 中去掉该章")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a corrupt file
        raise ExecutionError(f"{where} 不是可读取的笔记本（{exc}）",
                             hint="从 git 恢复该笔记本") from None
    cells = [c for c in nb.cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    hint = (f"给笔记本一个标记为 parameters 的代码单元格，设置 {'、'.join(REQUIRED)}"
            "（papermill 在其后注入该期间的值）")
    if not cells:
        raise ParamsError(f"{where}：没有标记为 parameters 的单元格", hint=hint)
    if len(cells) > 1:
        raise ParamsError(f"{where}：有 {len(cells)} 个单元格标记为 parameters", hint=hint)
    names = _assigned_names(cells[0].source)
    if names is None:
        raise ParamsError(f"{where}：parameters 单元格不是有效的 Python 代码", hint=hint)
    missing = [k for k in REQUIRED if k not in names]
    unknown = [k for k in names if k not in REQUIRED]
    if missing or unknown:
        parts = ([f"未设置 {'、'.join(missing)}"] if missing else []) + (
            [f"设置了未知的参数 {'、'.join(unknown)}"] if unknown else [])
        raise ParamsError(f"{where}：parameters 单元格{'；'.join(parts)}", hint=hint)


# ------------------------------------------------------------------------- execution


def _finish_notebook(nb: nbformat.NotebookNode, chapter: Chapter, period: str, source: str,
                     published: str) -> None:
    """Hide the parameter cells from every engine, drop machine-specific paths, and move the
    provenance records out of the outputs (provenance.store_records: Quarto would show each
    as "Unable to display output" and caption it instead of the figure). In place, on the
    executed notebook as papermill returned it (not written and read back first)."""
    ids = {c.get("id") for c in nb.cells}
    for cell in nb.cells:
        if cell.get("outputs"):
            cell["outputs"] = _joined_streams(cell["outputs"])
        tags = list(cell.metadata.get("tags", []))
        if "parameters" in tags or "injected-parameters" in tags:
            if HIDDEN_TAG not in tags:
                tags.append(HIDDEN_TAG)
            cell.metadata["tags"] = tags
        # papermill gives the injected cell a random id; a fixed one keeps re-runs comparable.
        if "injected-parameters" in tags and "injected-parameters" not in ids:
            cell["id"] = "injected-parameters"
    meta = nb.metadata.get("papermill", {})
    meta["input_path"] = source
    meta["output_path"] = published
    nb.metadata["planbook"] = {"chapter": chapter.key, "title": chapter.title, "period": period,
                               "version": planbook.__version__}
    provenance.store_records(nb)


def _joined_streams(outputs: list) -> list:
    """Consecutive pieces of one stream as one output. The kernel sends what a cell prints in
    pieces cut by the timing of its output thread (one `print` came out as its text and its
    newline now and then): joined, the same cell gives the same outputs run after run."""
    out: list = []
    for o in outputs:
        last = out[-1] if out else None
        if (o.get("output_type") == "stream" and last is not None
                and last.get("output_type") == "stream" and last.get("name") == o.get("name")):
            last["text"] += o["text"]
        else:
            out.append(o)
    return out


def _label(source: str) -> str | None:
    for line in source.splitlines():
        line = line.strip()
        if not line.startswith("#|"):
            break
        key, _, value = line[2:].partition(":")
        if key.strip() == "label":
            return value.strip().strip("'\"") or None
    return None


def _failure(chapter: Chapter, src: Path, root: Path, exc: BaseException,
             kept: Path | None) -> Failure:
    from papermill.exceptions import PapermillExecutionError

    source = _rel(src, root)
    label = _rel(kept, root) if kept else ""
    if not isinstance(exc, PapermillExecutionError):
        # The kernel died, timed out or could not start: no cell output names the fault.
        evalue = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Failure(chapter, source, None, None, type(exc).__name__, evalue, kept, label)
    cell = None
    # papermill's cell_index counts its injected cell; find the cell in the source instead.
    with contextlib.suppress(Exception):
        code = nbformat.read(src, as_version=4).cells
        cell = next(i + 1 for i, c in enumerate(code) if c.source == exc.source)
    if cell is None:
        cell = exc.cell_index + 1
    evalue = (exc.evalue or "").strip()
    if len(evalue) > 300:
        evalue = evalue[:300] + "…"
    return Failure(chapter, source, cell, _label(exc.source or ""), exc.ename, evalue, kept, label)


def _prepare(rp: ReportPeriod, chapters: list[Chapter], inputs: dict[str, dict[str, str]],
             env: dict[str, str]) -> dict[str, str]:
    """Open the period once for all its chapters (chapters.prepared), keyed by the inputs the
    run cache compares (the notebooks' own sources aside) and the environment. Returns what
    the kernels' environment gets: the prepared file, or nothing when preparing failed (each
    chapter then computes for itself and reports any error where it occurs)."""
    root = rp.root
    sources = {_rel(chapter_list.source_notebook(c, root), root) for c in chapters}
    shared = {k: v for c in chapters for k, v in inputs[c.key].items() if k not in sources}
    digest = sha256_bytes(json.dumps([shared, env], sort_keys=True).encode())[:16]
    return _prepare_at(rp, cache_dir(rp.code, root) / f"prepared-{digest}.pickle")


def _prepare_at(rp: ReportPeriod, path: Path) -> dict[str, str]:
    """_prepare, into `path` (kept while it exists: its name says what it was made from)."""
    root = rp.root
    if not path.is_file():
        # In a process forked from the warm kernel server, which has the chapters' imports
        # (matplotlib among them) done; here only where there is no server.
        from planbook.run import kernels

        if not kernels.call(KERNEL, root, "planbook.run.execute:prepare_file",
                            rp.params.as_dict(), str(path)):
            with contextlib.suppress(Exception):
                prepare_file(rp.params.as_dict(), str(path))
        if not path.is_file():  # the chapters meet the same error, located
            return {}
        for old in path.parent.glob("prepared-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    return {prepared.ENV: str(path)}


def prepare_file(parameters: dict, path: str) -> None:
    """Open the period as its chapters do (`Report.load(**parameters)`) and save its state
    for them (chapters.prepared)."""
    from planbook.chapters.report import Briefing, Report

    opened = Briefing if parameters.get("kind") == "briefing" else Report
    prepared.save(opened.load(**parameters), Path(path))


@dataclass
class _Outcome:
    chapter: Chapter
    seconds: float
    executed: Path | None = None  # where the finished notebook was written
    failure: Failure | None = None
    notebook: nbformat.NotebookNode | None = None  # the finished notebook


def _no_cell_started(nb: nbformat.NotebookNode | None) -> bool:
    """True when the executed notebook shows no cell began: the kernel itself failed to start."""
    if nb is None:  # papermill failed before executing
        return True
    return all(c.metadata.get("papermill", {}).get("status", "pending") == "pending"
               for c in nb.cells if c.cell_type == "code")


def _execute(chapter: Chapter, src: Path, out: Path | None, params: Params, root: Path,
             failed: Path, progress: _Progress, kernel_env: dict[str, str]) -> _Outcome:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from planbook.run import engine, kernels

    start = time.perf_counter()
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        executed: list = []  # the engine leaves the executed notebook here, also on failure
        try:
            papermill.execute_notebook(
                str(src), None, parameters=params.as_dict(), kernel_name=KERNEL,
                language="python", progress_bar=False, log_output=False,
                execution_timeout=CELL_TIMEOUT,
                # The kernel's working directory, given per notebook: papermill's own `cwd=`
                # does os.chdir in the parent process, which parallel threads would race on.
                resources={"metadata": {"path": str(root)}},
                # ipykernel's TCP warning would interleave with the progress lines.
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
                # Outputs are complete once the last cell replied; a graceful shutdown now and
                # then waits 2.5 s for a kernel that does not exit (measured): pure overhead.
                shutdown_kernel="immediate",
                # No output path: papermill writes nothing (neither at every cell nor at the
                # end); the notebook is finished in memory and written once below, or kept
                # as it stands when the chapter failed. The kernel is forked from a server
                # that already imported the stack (run.kernels).
                engine_name=engine.ENGINE, **{engine.KEEP: executed},
                kernel_manager_class=kernels.manager_class(kernel_env),
            )
            break
        except Exception as exc:  # any failure of one chapter must not stop the others
            nb = executed[0] if executed else None
            # jupyter_client picks free ports by binding and releasing them, so a kernel
            # started at the same moment elsewhere can take one ("Address already in use",
            # seen with parallel runs). Such a kernel never ran a cell: start it again.
            if (attempt < KERNEL_START_ATTEMPTS and not isinstance(exc, PapermillExecutionError)
                    and _no_cell_started(nb)):
                progress.say(f"  {chapter.key}：内核未能启动（{type(exc).__name__}），"
                             f"重新启动（第 {attempt + 1} 次）")
                continue
            kept = None
            if nb is not None:
                failed.mkdir(parents=True, exist_ok=True)
                kept = failed / chapter.notebook
                nbformat.write(nb, kept)
            return _Outcome(chapter, time.perf_counter() - start,
                            failure=_failure(chapter, src, root, exc, kept))
    [nb] = executed
    _finish_notebook(nb, chapter, params.period, _rel(src, root),
                     _rel(published_dir(params.period, root) / chapter.notebook, root))
    if out is not None:
        nbformat.write(nb, out)
    return _Outcome(chapter, time.perf_counter() - start, executed=out, notebook=nb)


_env_lock = threading.Lock()
_env_users = 0
_env_old: str | None = None


@contextlib.contextmanager
def _kernel_env(root: Path) -> Iterator[None]:
    # Kernels inherit this process's environment when they start. Periods of a range run side
    # by side with the same root: the first to enter sets it, the last to leave restores it.
    global _env_users, _env_old
    with _env_lock:
        if not _env_users:
            _env_old = os.environ.get("PLANBOOK_ROOT")
        _env_users += 1
        os.environ["PLANBOOK_ROOT"] = str(root)
    try:
        yield
    finally:
        with _env_lock:
            _env_users -= 1
            if not _env_users:
                if _env_old is None:
                    os.environ.pop("PLANBOOK_ROOT", None)
                else:
                    os.environ["PLANBOOK_ROOT"] = _env_old



class _Progress:
    """One line per chapter on stderr as it finishes: position, chapter, cached/ran, seconds."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stderr, flush=True)

    def chapter(self, chapter: Chapter, how: str, seconds: float, why: str = "") -> None:
        with self._lock:
            self.done += 1
            width = len(str(self.total))
            self.say(f"  [{self.done:>{width}}/{self.total}] {chapter.key:<16} {how:<6} "
                     f"{seconds:6.1f} s  {chapter.title}" + (f"  [{why}]" if why else ""))


# ------------------------------------------------------------------------- publishing


def _same_files(a: Path, b: Path) -> bool:
    if not b.is_dir():
        return False
    names = sorted(p.name for p in a.iterdir())
    if names != sorted(p.name for p in b.iterdir()):
        return False
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def _publish(staging: Path, target: Path) -> bool:
    """Swap the staged folder in as `target`; the old folder is kept until the swap succeeded.
    Returns False (and touches nothing) when `target` already holds the same bytes."""
    if _same_files(staging, target):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    new = target.with_name(f".{target.name}.new")
    old = target.with_name(f".{target.name}.old")
    for leftover in (new, old):  # from a run killed mid-publish
        if leftover.exists():
            shutil.rmtree(leftover)
    shutil.copytree(staging, new)
    if target.exists():
        os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        if old.exists():
            os.rename(old, target)
        raise
    if old.exists():
        shutil.rmtree(old)
    return True


# ------------------------------------------------------------------------- run


def warm_up(rp: ReportPeriod, *, force: bool = False,
            chapters: Sequence[Chapter] | None = None) -> bool:
    """Start the kernels' fork server now (its imports take about a second, on the other core)
    when some chapter is sure to execute: forced, or never run for this period. A caller with
    work of its own before `run` (a build's data checks) calls this first. True if started."""
    folder = cache_dir(rp.code, rp.root)
    chapters = list(chapters if chapters is not None else rp.chapters)
    if not force and all((folder / f"{c.key}.json").is_file() for c in chapters):
        return False  # perhaps all cached: the server starts only once a chapter must run
    from planbook.run import kernels

    kernels.prestart(KERNEL, rp.root)
    return True


def _execute_chapters(rp: ReportPeriod, todo: list[Chapter], out: Path | None, failed: Path,
                      report: _Progress, prepare, *, jobs: int,
                      timings: Path | None = None) -> Iterator[_Outcome]:
    """Execute `todo` in `jobs` parallel kernels, longest first, into `out` (None: in memory
    only); yields each outcome as its chapter ends. `prepare()` opens the period for them
    (_prepare) once the fork server is starting."""
    from planbook.run import kernels

    root, params = rp.root, rp.params
    with _kernel_env(root), ThreadPoolExecutor(jobs) as pool:
        kernels.prestart(KERNEL, root)  # its imports overlap the preparing below
        kernel_env = prepare()
        futures = [pool.submit(_execute, c, chapter_list.source_notebook(c, root),
                               out / c.notebook if out else None, params, root, failed,
                               report, kernel_env)
                   for c in _longest_first(todo, rp.code, root, timings)]
        for future in as_completed(futures):
            yield future.result()


def _raise_failures(rp: ReportPeriod, chapters: list[Chapter], failures: list[Failure]) -> None:
    if not failures:
        return
    period, root = rp.code, rp.root
    for f in failures:  # a chapter that met a full disk or a read-only folder: exit 2
        fault = EnvironmentFault.from_tool(f"{f.ename}: {f.evalue}", paths.build_dir(root))
        if fault is not None and f.ename in ("OSError", "PermissionError", "IOError"):
            raise fault
    order = {c.key: i for i, c in enumerate(chapters)}
    failures.sort(key=lambda f: order[f.chapter.key])
    err = ExecutionError(
        f"期间 {period} 的 {len(chapters)} 个章节笔记本中有 {len(failures)} 个执行失败；"
        f"{_rel(published_dir(period, root), root)} 保持原样",
        problems=[Problem(str(f)) for f in failures],
        hint="打开失败的笔记本，改正笔记本或其所指的数据，再运行 "
             f"planbook run --period {period}")
    err.failures = failures  # structured, for callers and tests
    raise err


def execute_fresh(rp: ReportPeriod, *, jobs: int | None = None, timings: Path | None = None,
                  chapters: Sequence[Chapter] | None = None
                  ) -> dict[str, nbformat.NotebookNode]:
    """Execute every chapter of the period again and return the finished notebooks, by chapter
    key, in book order — what `run` would publish — without reading or writing the cache and
    without staging or publishing anything (`verify` compares them with the published ones).
    A failed chapter raises ExecutionError as in `run`; its notebook is kept in build/failed/.
    timings, chapters: as for run."""
    root = rp.root
    chapters = list(chapters if chapters is not None else rp.chapters)
    warm_up(rp, force=True)
    for chapter in chapters:
        check_notebook(chapter_list.source_notebook(chapter, root), root)
    failed = failed_dir(rp.code, root)
    if failed.exists():
        shutil.rmtree(failed)

    def prepare() -> dict[str, str]:
        # Prepared afresh, in a place of its own: nothing of an earlier run is taken.
        path = paths.build_dir(root) / "fresh" / rp.code / "prepared.pickle"
        path.unlink(missing_ok=True)
        return _prepare_at(rp, path)

    done: dict[str, nbformat.NotebookNode] = {}
    failures: list[Failure] = []
    workers = max(1, min(jobs or os.cpu_count() or 1, len(chapters)))
    for outcome in _execute_chapters(rp, chapters, None, failed, _Progress(0, False), prepare,
                                     jobs=workers, timings=timings):
        if outcome.failure:
            failures.append(outcome.failure)
        else:
            done[outcome.chapter.key] = outcome.notebook
    _raise_failures(rp, chapters, failures)
    return {c.key: done[c.key] for c in chapters}


def run(rp: ReportPeriod, *, jobs: int | None = None, progress: bool = True,
        force: bool = False, chapters: Sequence[Chapter] | None = None,
        timings: Path | None = None) -> RunResult:
    """Execute every chapter notebook of the period and publish them to reports/<P>/notebooks/.

    jobs: parallel kernels (default: one per core). force: ignore the cache.
    chapters: the chapter list (default: the period's, for its report kind).
    timings: the project root whose cache's last run times order the chapters, longest first
    (default: rp's own; verify runs in a fresh copy and orders by the project's).
    Raises ParamsError for bad params or a notebook without a proper parameters cell, and
    ExecutionError naming chapter, cell and error when a notebook fails.

    The notebooks go into the period's edition (run.publish): a staged `rp` (a build) gets
    them in its staging and publishes them with its book; run alone publishes an edition of
    its own, without the previous html/, report.pdf and manifest.json when the notebooks
    changed (those described the old notebooks; `planbook render` makes the new book).
    """
    with publish.edition(rp) as edition:
        result = _run(edition, jobs=jobs, progress=progress, force=force, chapters=chapters,
                      timings=timings)
        if result.published and not rp.staged:
            if published(rp) is not None:
                # A published edition is frozen: only `build --reissue` replaces it, keeping it.
                raise ExecutionError(
                    f"{rp.code} 已发布（第{rp.edition}版），这些笔记本与已发布的不同；"
                    "未替换任何文件",
                    hint=f"以修订版发布这些改动：planbook build --period {rp.code} --reissue"
                         f"（已发布的一版保留在 reports/editions/{rp.code}/）")
            publish.drop_book(edition)
    return result


def _run(rp: ReportPeriod, *, jobs: int | None, progress: bool, force: bool,
         chapters: Sequence[Chapter] | None, timings: Path | None = None) -> RunResult:
    t0 = time.perf_counter()
    root, params, period = rp.root, rp.params, rp.code
    chapters = list(chapters if chapters is not None else rp.chapters)
    warm_up(rp, force=force, chapters=chapters)  # its imports overlap the hashing below
    registry = load_registry(rp.data)
    for chapter in chapters:
        check_notebook(chapter_list.source_notebook(chapter, root), root)

    env = environment()
    hasher = _Hasher()
    inputs = {c.key: _input_hashes(c, params, root, registry, hasher) for c in chapters}
    report = _Progress(len(chapters), progress)

    # The period lock is held by publish.edition: this staging folder is ours alone.
    staging = staging_dir(period, root)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    failed = failed_dir(period, root)
    if failed.exists():  # failures of an earlier run would mislead once fixed
        shutil.rmtree(failed)

    seconds: dict[str, float] = {}
    cached, todo = [], []
    why: dict[str, str] = {}
    for chapter in chapters:
        hit, why[chapter.key] = (None, "--force") if force else _cached_notebook(
            chapter, period, root, inputs[chapter.key], env)
        if hit is None:
            todo.append(chapter)
            continue
        t = time.perf_counter()
        shutil.copyfile(hit, staging / chapter.notebook)
        cached.append(chapter.key)
        seconds[chapter.key] = time.perf_counter() - t

    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    report.say(f"planbook run {period}：{len(chapters)} 个章节笔记本，"
               f"{len(cached)} 个未变（沿用缓存）"
               + (f"，{workers} 个进程执行 {len(todo)} 个" if todo else ""))
    for chapter in chapters:
        if chapter.key in cached:
            report.chapter(chapter, "缓存", seconds[chapter.key])

    failures: list[Failure] = []
    executed: list[str] = []
    if todo:
        def prepare() -> dict[str, str]:
            return _prepare(rp, chapters, inputs, env)

        for outcome in _execute_chapters(rp, todo, staging, failed, report, prepare,
                                         jobs=workers, timings=timings):
            key = outcome.chapter.key
            seconds[key] = outcome.seconds
            if outcome.failure:
                failures.append(outcome.failure)
                report.chapter(outcome.chapter, "失败", outcome.seconds, why[key])
                continue
            executed.append(key)
            # A chapter that succeeded is cached even if another failed: the next run
            # re-executes only what failed (the cache keeps its own copy, since the
            # published folder is not updated by a failed run).
            _write_cache(outcome.chapter, period, root, inputs[key], env,
                         outcome.executed, outcome.seconds)
            report.chapter(outcome.chapter, "执行", outcome.seconds, why[key])

    order = {c.key: i for i, c in enumerate(chapters)}
    executed.sort(key=order.__getitem__)
    target = rp.notebooks_dir  # in the staged edition
    _raise_failures(rp, chapters, failures)
    published = _publish(staging, target)

    total = time.perf_counter() - t0
    output = published_dir(period, root)
    report.say(f"planbook run {period}：执行 {len(executed)} 个，沿用缓存 {len(cached)} 个，"
               f"{total:.1f} 秒 → {_rel(output, root)}")
    return RunResult(period=period, executed=executed, cached=cached, seconds=seconds,
                     output=output, total_seconds=total, published=published)
