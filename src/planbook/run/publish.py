"""Publishing a period's edition whole, or not at all.

Layout (everything of period P; `reports/` and `build/` are git-ignored):

    reports/P/                 the published edition: notebooks/, html/, report.pdf,
                               manifest.json, always one complete, consistent set
    reports/.P.new/            a staged edition on its way in (exists only during a swap)
    reports/.P.old/            the edition being replaced (exists only during a swap)
    build/edition/P/           the edition being assembled by the running command
    build/locks/P.lock         the period's lock: an fcntl.flock held by the command

A command that changes what is published (`build`, `run`, `render`) works like this:

1. `edition(rp)` takes the period lock (flock, non-blocking: a second command on the same
   period is refused; the kernel drops the lock when its holder dies, so there is no stale
   lock and no PID to trust), then `recover`s a swap a crash interrupted and removes staging
   left by killed commands (build/edition/P, build/render/P, build/staging/P).
2. It copies the published edition (if any) into build/edition/P/ and hands the command a
   ReportPeriod whose `report_dir` is that folder (`rp.staged`): the command writes the new
   notebooks, book and manifest there, and reads them back from there.
3. When the command returns normally, `swap` moves the staged edition in with renames only:
   build/edition/P → reports/.P.new → (reports/P → reports/.P.old) → reports/.P.new → reports/P
   → remove reports/.P.old. On an exception the staged edition is discarded and reports/P is
   untouched.

`recover` (run under the lock at the start of every publishing command, and by trace and verify
when no command holds the period: `recover_if_idle`) finishes or undoes an
interrupted swap so that reports/P is whole: with .P.old present and P missing, the crash hit
between the two renames and .P.old goes back; with both P and .P.old present, the new edition
was already in place and .P.old is removed; a lone .P.new was never published and is removed.
Readers of reports/P (a web server) may find it missing for the instant between the renames,
never half-written.

Issue 12's kept editions can live inside the edition, e.g. reports/P/editions/<n>/: copy the
previous edition's files there while staging (step 2) and they are swapped in with the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from planbook import paths
from planbook.errors import PlanbookError
from planbook.files import exclusive_lock, shared_lock
from planbook.run.period import ReportPeriod

# The parts of an edition that describe the book made from its notebooks.
BOOK_PARTS = ("html", "report.pdf", "report.docx", "annex.pdf", "manifest.json")


class PeriodBusy(PlanbookError):
    """Another command is building, running or rendering the same period."""


def lock_path(period: str, root: Path) -> Path:
    return paths.build_dir(root) / "locks" / f"{period}.lock"


def staging_dir(period: str, root: Path) -> Path:
    return paths.build_dir(root) / "edition" / period


def _side(period: str, root: Path, which: str) -> Path:
    return paths.reports_dir(root) / f".{period}.{which}"


def _step(name: str) -> None:
    """A point of the swap where a crash is survivable; tests inject crashes here."""


def recover(period: str, root: Path) -> str | None:
    """Make reports/P whole after a crash inside `swap`; returns what was done (or None)."""
    target = paths.reports_dir(root) / period
    new, old = _side(period, root, "new"), _side(period, root, "old")
    done = None
    if old.exists():
        if target.exists():  # the new edition was already in place
            shutil.rmtree(old)
            done = "删除了中断的发布留下的被替换版次"
        else:  # crashed between the two renames: the previous edition goes back
            os.rename(old, target)
            done = "发布中断后已恢复之前的版次"
    if new.exists():  # never published
        shutil.rmtree(new)
        done = done or "删除了发布中断的版次"
    return done


def swap(staged: Path, period: str, root: Path) -> Path:
    """Publish the complete edition `staged` as reports/P with renames only (see above)."""
    target = paths.reports_dir(root) / period
    new, old = _side(period, root, "new"), _side(period, root, "old")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(staged, new)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # build/ on another file system: copy beside reports/P first, then rename there
        tmp = _side(period, root, "copy")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(staged, tmp)
        os.rename(tmp, new)
        shutil.rmtree(staged)
    _step("staged")
    if target.exists():
        os.rename(target, old)
    _step("moved-aside")
    os.rename(new, target)
    _step("swapped")
    if old.exists():
        shutil.rmtree(old)
    _step("cleaned")
    return target


def clean_staging(period: str, root: Path) -> None:
    """Remove what killed commands left under build/ for this period (under the lock)."""
    build = paths.build_dir(root)
    for folder in (staging_dir(period, root), build / "render" / period,
                   build / "staging" / period):
        shutil.rmtree(folder, ignore_errors=True)


def drop_book(rp: ReportPeriod) -> None:
    """Remove html/, report.pdf, report.docx, annex.pdf and manifest.json from a staged edition: they described other
    notebooks (`planbook run` alone publishes the new notebooks; `render` adds the book)."""
    for part in BOOK_PARTS:
        path = rp.report_dir / part
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


@contextlib.contextmanager
def period_lock(period: str, root: Path) -> Iterator[Path]:
    """The period's lock, for the whole command; refused at once if another command holds it."""
    path = lock_path(period, root)

    def busy() -> PeriodBusy:
        return PeriodBusy(f"另一个 planbook 命令正在生成期间 {period}，不再同时启动第二个",
                          hint=f"等它完成后再运行（它持有 {path}）")

    with exclusive_lock(path, wait=False, busy=busy):
        yield path


@contextlib.contextmanager
def reading(period: str, root: Path) -> Iterator[None]:
    """A shared hold on the period's lock, for a reader that copies the published edition
    (verify): it waits for a command publishing the period, and a publishing command is
    refused while the copy is made (seconds), so the copy is one edition, never a swap's mix."""
    def waiting() -> None:
        import sys

        print(f"planbook: 另一个命令正在发布 {period}，等它完成 …", file=sys.stderr)

    with shared_lock(lock_path(period, root), on_wait=waiting):
        yield


def recover_if_idle(period: str, root: Path) -> str | None:
    """For commands that only read reports/P (trace, verify): recover an interrupted swap and
    clean staging when no command holds the period; leave everything to a running one."""
    try:
        with period_lock(period, root):
            done = recover(period, root)
            clean_staging(period, root)
            return done
    except PeriodBusy:
        return None


@contextlib.contextmanager
def edition(rp: ReportPeriod, *, locked: bool = False,
            before_swap: Callable[[], None] | None = None) -> Iterator[ReportPeriod]:
    """Lock the period, stage a copy of its edition, yield the staged period, swap it in.

    Nested use (a build calling run and render) yields the caller's staged period as it is:
    the outermost command holds the lock and publishes once. `locked`: the caller already
    holds the period lock and has recovered (a build decides what to publish under it).
    `before_swap` runs once the staged edition is complete, just before it goes in (a
    re-issue puts its kept copy of the replaced edition in place there).
    """
    if rp.staged:
        yield rp
        return
    root, period = rp.root, rp.code
    with contextlib.nullcontext() if locked else period_lock(period, root):
        if not locked:
            recover(period, root)
            clean_staging(period, root)
        staged = staging_dir(period, root)
        staged.parent.mkdir(parents=True, exist_ok=True)
        if rp.report_dir.is_dir():
            shutil.copytree(rp.report_dir, staged, symlinks=True)
        else:
            staged.mkdir()
        try:
            yield dataclasses.replace(rp, edition_dir=staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        try:
            if before_swap is not None:
                before_swap()
            swap(staged, period, root)
        except BaseException:
            # a swap refused by the machine (read-only reports/, disk full on a copy): the
            # staged edition goes, and what reached reports/ is put back now if the machine
            # lets us (else by the next command's `recover`)
            shutil.rmtree(staged, ignore_errors=True)
            with contextlib.suppress(OSError):
                recover(period, root)
            raise
