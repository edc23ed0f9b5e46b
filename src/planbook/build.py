"""`planbook build`: the recipe chaining the stages for each period of a spec.

resolve the period (run.period) → validate the data (store) → execute the chapter notebooks
(run) → build the register (audit) → render the book (book) → write the manifest (audit).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from planbook import clock, paths
from planbook.assess.grades import period_bases
from planbook.audit.manifest import input_files, write_manifest
from planbook.audit.register import register
from planbook.book.assets import ASSETS
from planbook.book.pages import reading
from planbook.book.portal import write_portal
from planbook.book.render import pick_engine, render
from planbook.chapters import history
from planbook.errors import EnvironmentFault, PlanbookError, Problem, UsageError
from planbook.plan.params import resolve_period
from planbook.plan.periods import months_between, parse_period
from planbook.plan.registry import load_registry
from planbook.run import edition as editions
from planbook.run import execute, publish
from planbook.run.period import ReportPeriod, resolve
from planbook.store import observations
from planbook.store.check import check_package
from planbook.store.evaluation import check_grades, load_evaluation


def expand(spec: str, root: Path | None = None) -> list[str]:
    """`default`, one period, or a range of months `2026-01..2026-10`."""
    if ".." in spec:
        first, _, last = spec.partition("..")
        return [p.code for p in months_between(parse_period(first), parse_period(last))]
    if not spec:
        raise UsageError("没有给出期间", hint="加 --period 2025（或 default）")
    return [resolve_period(spec, root)]


def _render_key(rp: ReportPeriod, engine: str) -> str:
    """Hash of everything a render reads: executed notebooks, book pages, config, library."""
    root = rp.root
    # the edition is printed on the pages: a re-issue renders even from the same notebooks
    h = hashlib.sha256(f"{engine}|{rp.edition}|{rp.edition_date}".encode())
    files = sorted(rp.notebooks_dir.glob("*.ipynb"))
    files += sorted(paths.book_dir(root).glob("*")) + [root / "_quarto.yml"]
    files += list(execute.library_files(root).values())
    files += sorted(ASSETS.glob("*"))
    for f in files:
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _stamp_key(stamp: Path) -> str | None:
    try:
        return json.loads(stamp.read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        return None


def _published(rp: ReportPeriod) -> bool:
    return (rp.report_dir / "html" / "index.html").is_file() and \
        (rp.report_dir / "report.pdf").is_file()


class PublishedError(PlanbookError):
    """A published period's inputs changed: rebuilding would rewrite what was published."""


def build(spec: str, *, engine: str = "auto", force: bool = False,
          root: Path | None = None, data: Path | None = None,
          jobs: int | None = None, reissue: bool = False,
          issued: date | None = None) -> Iterator[str]:
    """Build each period of `spec`; yields progress lines, raises PlanbookError on failure.
    `data`: the command line's --data, replacing each period's data_dir. A range builds
    `jobs` periods at a time (default: one per core). A published period is never
    rewritten: unchanged, the build says so; changed, it is refused unless `reissue` (the
    next edition, dated `issued`, default today; see run.edition)."""
    root = (root or paths.project_root()).resolve()
    periods = expand(spec, root)
    if len(periods) == 1:
        yield from build_period(resolve(periods[0], root, data=data), engine=engine,
                                force=force, tag=periods[0], reissue=reissue, issued=issued)
        return
    yield from _build_range(periods, root, data, engine=engine, force=force, jobs=jobs,
                            reissue=reissue, issued=issued)


def _build_range(periods: list[str], root: Path, data: Path | None, *, engine: str,
                 force: bool, jobs: int | None, reissue: bool = False,
                 issued: date | None = None) -> Iterator[str]:
    """Several periods side by side: a month is one notebook, so one month at a time left a
    core idle. Lines come as they are made, each tagged with its period. After a failure no
    further period starts; the running ones finish, then the earliest period's error is raised."""
    lines: queue.Queue = queue.Queue()
    done = object()
    stop = threading.Event()
    failed: list[tuple[int, BaseException]] = []

    def one(n: int, period: str) -> None:
        try:
            if stop.is_set():
                return
            rp = resolve(period, root, data=data)
            for line in build_period(rp, engine=engine, force=force, reissue=reissue,
                                     issued=issued, tag=f"[{n}/{len(periods)}] {period}"):
                lines.put(line)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            stop.set()
            failed.append((n, exc))
        finally:
            lines.put(done)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(periods)))
    with ThreadPoolExecutor(workers) as pool:
        for n, period in enumerate(periods, start=1):
            pool.submit(one, n, period)
        left = len(periods)
        while left:
            line = lines.get()
            if line is done:
                left -= 1
            else:
                yield line
    if failed:
        raise min(failed, key=lambda f: f[0])[1]


_rendering = threading.Lock()


def _changed_inputs(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    return [name for name in sorted(set(recorded) | set(now))
            if recorded.get(name) != now.get(name)]


def build_period(rp: ReportPeriod, *, engine: str = "auto", force: bool = False,
                 tag: str = "", reissue: bool = False,
                 issued: date | None = None) -> Iterator[str]:
    """Build one resolved period; yields progress lines.

    The period lock is taken first, and what is published is read under it: an interrupted
    publish is finished or undone before the period's state is judged (a crash between a
    swap's renames must not make a frozen period look never published), and a second command
    on the period is refused before it has made or removed anything."""
    tag = tag or rp.code
    issued = issued or clock.today()  # the day in Jiande, as every stamp
    yield from _as_faults(_locked_build(rp, engine=engine, force=force, tag=tag,
                                        reissue=reissue, issued=issued), rp.root)


def _as_faults(lines: Iterator[str], root: Path) -> Iterator[str]:
    """The build's one edge for faults of the machine: an OSError anywhere below (disk full,
    a read-only reports/, no permission) becomes an EnvironmentFault naming the file, or the
    folders a build writes when the OS named none. The staged edition was discarded on the
    way out (run.publish), so what is published is as it was."""
    try:
        yield from lines
    except OSError as exc:
        where = exc.filename or f"{paths.build_dir(root)} 或 {paths.reports_dir(root)}"
        raise EnvironmentFault.from_os(exc, where, doing="写入报告") from None


def _locked_build(rp: ReportPeriod, *, engine: str, force: bool, tag: str, reissue: bool,
                  issued: date) -> Iterator[str]:
    with publish.period_lock(rp.code, rp.root):
        done = publish.recover(rp.code, rp.root)
        publish.clean_staging(rp.code, rp.root)
        if done:
            yield f"{tag} 上次发布曾中断，已处理：{done}"
        # an unreadable published edition stops here (UnreadableEdition, exit 2)
        yield from _decide(rp, engine=engine, force=force, tag=tag, reissue=reissue,
                           issued=issued)


def _decide(rp: ReportPeriod, *, engine: str, force: bool, tag: str, reissue: bool,
            issued: date) -> Iterator[str]:
    """First edition, unchanged, refused, or re-issue: decided under the period lock."""
    manifest = editions.published_state(rp)
    if manifest is None:
        rp = editions.first(rp, issued)
        yield from _build(rp, engine=engine, force=force, tag=tag)
        yield from _left_out_lines(rp, tag)
        return
    if not reissue:
        rp = editions.as_published(rp, manifest)
        shown = editions.label(rp.edition, rp.edition_date)
        recorded = manifest.get("inputs", {})
        with observations.read_lock(rp.data):
            changed = _changed_inputs(recorded, history.as_published(
                recorded, input_files(rp), rp.root))
        if not changed:
            left_out = _left_out(rp, tag)
            yield (f"{tag} 已发布{shown}，输入未变：报告保持原样，未重写" + (
                "" if left_out else
                f"（纳入新数据须 planbook build --period {rp.code} --reissue）"))
            if left_out:
                yield left_out
            return
        raise PublishedError(
            f"{rp.code} 已发布{shown}，其 {len(changed)} 项输入已变，重建会改写已发布的报告",
            problems=[Problem("发布后此输入已变", file=name) for name in changed],
            hint=f"发布含这些改动的修订版（第{rp.edition + 1}版·修订版）："
                 f"planbook build --period {rp.code} --reissue（第{rp.edition}版保留在 "
                 f"reports/editions/{rp.code}/{rp.edition}/）；否则恢复这些输入")
    previous = editions.as_published(rp, manifest)
    rp = editions.next_edition(rp, manifest, issued)
    # The replaced edition is copied beside its kept place now and renamed in only when the
    # new edition is complete (before the swap): a failed re-issue leaves only that copy,
    # which is removed; an edition already kept is never touched.
    copy = editions.stage_keep(previous, previous.edition)
    kept = copy.parent / str(previous.edition)
    yield (f"{tag} 发布修订版：第{rp.edition}版（{rp.edition_date}，数据截至"
           f"{rp.params.as_of}）；第{previous.edition}版保留在 {rp.rel(kept)}")
    try:
        yield from _build(rp, engine=engine, force=force, tag=tag,
                          before_swap=lambda: editions.place_kept(copy, previous.edition))
    finally:
        shutil.rmtree(copy, ignore_errors=True)  # gone once placed; a failure's leftover
    yield from _left_out_lines(rp, tag)


def _left_out_lines(rp: ReportPeriod, tag: str) -> Iterator[str]:
    left_out = _left_out(rp, tag)
    if left_out:
        yield left_out


def _left_out(rp: ReportPeriod, tag: str) -> str | None:
    """The rows the edition's cut-off leaves out, said with the command that takes them in
    (the same count `planbook status` gives)."""
    late = observations.received_after(rp.data, load_registry(rp.data),
                                       rp.params.parsed_period, rp.params.as_of)
    if not late:
        return None
    return (f"{tag} {late} 行晚于截止日期，未计入；如需纳入："
            f"planbook build --period {rp.code} --reissue")


def _build(rp: ReportPeriod, *, engine: str, force: bool, tag: str,
           before_swap=None) -> Iterator[str]:
    started = clock.now()
    t0 = time.perf_counter()
    execute.warm_up(rp, force=force)  # the kernels' imports overlap the data checks below
    # Everything the build reads from the data package, from these checks to the manifest's
    # input hashes, is read under one shared lock: an ingest or `sample --remove` meanwhile
    # waits, so the edition's figures and its recorded inputs are the same rows (issue 24).
    with observations.read_lock(rp.data):
        registry = load_registry(rp.data)
        check_package(rp.data, registry, whole=True)  # every store file, before anything runs
        # a malformed judgement file stops here, and so does a grade its lights do not support
        # without a reason (the lights are the period's, so this is where both are known)
        evaluation = load_evaluation(rp.data, rp.code, registry)
        if evaluation is not None:
            check_grades(evaluation, period_bases(rp.data, registry, rp.params.parsed_period,
                                                  rp.params.as_of))
        yield f"{tag} 1/3 数据校验通过：{len(registry.indicators)} 项指标，" \
              f"{len(observations.store_files(rp.data))} 个数据文件"
        used = pick_engine(engine)
        stamp = rp.build_path("cache") / "render.json"
        previous_key = _stamp_key(stamp)
        stamp.unlink(missing_ok=True)  # rewritten once the new edition is in place
        # One lock and one staged edition for the whole build: notebooks, book and manifest are
        # published together when all are made, or not at all (run.publish).
        with publish.edition(rp, locked=True, before_swap=before_swap) as edition:
            result = execute.run(edition, force=force)
            yield (f"{tag} 2/3 执行笔记本：执行 {len(result.executed)} 个，"
                   f"沿用缓存 {len(result.cached)} 个")
            # Each executed notebook parsed once (register, pages, code pages); one period of a
            # range renders at a time, so this process holds one period's pages at most.
            with _rendering, reading():
                entries = register(edition)
                key = _render_key(edition, used)
                reuse = not force and _published(edition) and key == previous_key
                rendered = None if reuse else render(edition, entries, engine=used)
            yield f"{tag} 3/3 渲染：输入未变，沿用已发布的报告" if reuse else f"{tag} 3/3 渲染完成（{used}）"
            for note in rendered.notes() if rendered else ():
                yield f"{tag} {note}"
            write_manifest(edition, entries, engine=used, started=started,
                           finished=clock.now())
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"key": key}), encoding="utf-8")
    skipped: list[str] = []
    portal = write_portal(rp.root, skipped)  # every build lists every published period
    for warning in skipped:
        yield f"{tag} 警告：{warning}"
    yield f"{tag} 完成，用时 {time.perf_counter() - t0:.1f} 秒"
    yield f"  HTML: {rp.report_dir / 'html' / 'index.html'}"
    yield f"  PDF:  {rp.report_dir / 'report.pdf'}"
    if (rp.report_dir / "report.docx").is_file():
        yield f"  Word: {rp.report_dir / 'report.docx'}"
    yield f"  清单: {rp.manifest}"
    yield f"  全部报告: {portal}"


def render_book(rp: ReportPeriod, *, engine: str = "auto"):
    """`planbook render`: the book and a new manifest, published with the edition's notebooks
    as one edition (run.publish)."""
    started = clock.now()
    used = pick_engine(engine)
    with observations.read_lock(rp.data), publish.edition(rp) as edition, reading():
        entries = register(edition)
        result = render(edition, entries, engine=used)
        write_manifest(edition, entries, engine=used, started=started,
                       finished=clock.now())
    write_portal(rp.root)
    return dataclasses.replace(result, html_dir=rp.report_dir / "html",
                               pdf=rp.report_dir / "report.pdf")
