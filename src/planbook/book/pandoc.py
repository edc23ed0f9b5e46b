"""Running pandoc (from PyPI pypandoc-binary) on the markdown the engine writes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from planbook.book.assets import ASSETS
from planbook.errors import RenderError

# citations off: `@fig-x` is resolved by planbook, not citeproc; CJK line breaks add no space.
READER = "markdown-citations+east_asian_line_breaks"


def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def pandoc(markdown: str, to: str, *, prefix: str = "", number: str = "",
           filters: tuple[str, ...] = ()) -> str:
    """Convert one page's markdown to an HTML or typst fragment, numbering its headings and
    colouring light dots; `filters` names further Lua filters in assets/."""
    cmd = [pandoc_path(), "-f", READER, "-t", to, "--wrap=none",
           "--lua-filter", str(ASSETS / "number_headings.lua"),
           "--lua-filter", str(ASSETS / "light_dots.lua"),
           "--lua-filter", str(ASSETS / "task_blocks.lua"),
           *(arg for name in filters for arg in ("--lua-filter", str(ASSETS / name))),
           "-M", f"pb-prefix={prefix}", "-M", f"pb-number={number}"]
    proc = subprocess.run(cmd, input=markdown.encode("utf-8"), capture_output=True, check=False)
    if proc.returncode:
        raise RenderError(f"pandoc -t {to} failed: {proc.stderr.decode('utf-8', 'replace')[:500]}")
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
