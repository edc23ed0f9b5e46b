"""Running pandoc (from PyPI pypandoc-binary) on the markdown the engine writes."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from planbook.book.assets import ASSETS
from planbook.errors import RenderError

# citations off: `@fig-x` is resolved by planbook, not citeproc; smart off: quotes, -- and ...
# stay the characters written (a department's quoted words are exact; planbook.escape);
# CJK line breaks add no space.
READER = "markdown-citations-smart+east_asian_line_breaks"


def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


# The order pandoc runs get the CPU in: the render's longest branch is the PDF (pandoc per
# page, then typst), so its runs go before the HTML pages', and those before the code pages'.
PDF, PAGES, CODE = 0, 1, 2


class _Slots:
    """At most one pandoc run per core at once, the most urgent waiting run next (then the
    first come): more at once would only share the cores and stretch the PDF's runs."""

    def __init__(self, size: int):
        self.free = size
        self.waiting: list[tuple[int, int]] = []  # heap of (urgency, arrival)
        self.arrivals = itertools.count()
        self.cond = threading.Condition()

    @contextlib.contextmanager
    def __call__(self, urgency: int):
        with self.cond:
            me = (urgency, next(self.arrivals))
            heapq.heappush(self.waiting, me)
            try:
                while not (self.free and self.waiting[0] == me):
                    self.cond.wait()
            except BaseException:  # e.g. interrupted: leave the queue to the others
                self.waiting.remove(me)
                heapq.heapify(self.waiting)
                self.cond.notify_all()
                raise
            heapq.heappop(self.waiting)
            self.free -= 1
            self.cond.notify_all()  # the next waiter may take another free slot
        try:
            yield
        finally:
            with self.cond:
                self.free += 1
                self.cond.notify_all()


_slots = _Slots(max(2, os.cpu_count() or 2))


# pandoc's Haskell runtime starts with a 64 MiB heap (its build's -H64m): a run on a book page
# spends about as much system time faulting that memory in as it saves in collections. A
# 16 MiB start cost the 22 page runs of an annual book 0.35 s less CPU (measured), the same
# output (runtime options change memory management only). The user's own GHCRTS wins; a
# pandoc built without runtime options refuses it, and is then run without it.
RUNTIME = {"GHCRTS": "-H16m"}
_runtime_ok = True


def run_pandoc(cmd: list[str], data: bytes, *, urgency: int = PDF,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """subprocess.run(cmd, input=data, capture_output=True) once a slot is free (_Slots);
    `env`: variables added to the environment of this run."""
    global _runtime_ok
    base = {**os.environ, **(env or {})}
    with _slots(urgency):
        if _runtime_ok and "GHCRTS" not in os.environ:
            proc = subprocess.run(cmd, input=data, capture_output=True, check=False,
                                  env={**base, **RUNTIME})
            if not (proc.returncode and b"RTS option" in proc.stderr):
                return proc
            _runtime_ok = False
        return subprocess.run(cmd, input=data, capture_output=True, check=False, env=base)


def pandoc(markdown: str, to: str, *, prefix: str = "", number: str = "",
           filters: tuple[str, ...] = (), urgency: int = PDF) -> str:
    """Convert one page's markdown to an HTML or typst fragment, numbering its headings and
    colouring light dots; `filters` names further Lua filters in assets/; `urgency`: see
    _Slots."""
    cmd = [pandoc_path(), "-f", READER, "-t", to, "--wrap=none",
           "--lua-filter", str(ASSETS / "number_headings.lua"),
           "--lua-filter", str(ASSETS / "light_dots.lua"),
           "--lua-filter", str(ASSETS / "task_blocks.lua"),
           "--lua-filter", str(ASSETS / "exact_text.lua"),
           "--lua-filter", str(ASSETS / "formats.lua"),
           *(arg for name in filters for arg in ("--lua-filter", str(ASSETS / name))),
           "-M", f"pb-prefix={prefix}", "-M", f"pb-number={number}"]
    proc = run_pandoc(cmd, markdown.encode("utf-8"), urgency=urgency)
    if proc.returncode:
        raise RenderError(f"pandoc -t {to} 运行失败：{proc.stderr.decode('utf-8', 'replace')[:500]}")
    return proc.stdout.decode("utf-8")


T = TypeVar("T")
R = TypeVar("R")


def largest_first(fn: Callable[[T], R], items: Sequence[T], size: Callable[[T], int], *,
                  workers: int = 4) -> list[R]:
    """fn(item) for every item on `workers` threads (each mostly waits on its pandoc
    process), the largest started first: the longest run, started last, would end alone
    while the other core idles. Results in the items' order; the first error is raised."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        order = sorted(range(len(items)), key=lambda i: -size(items[i]))
        futures = {i: pool.submit(fn, items[i]) for i in order}
        return [futures[i].result() for i in range(len(items))]
