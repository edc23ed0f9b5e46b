"""Running pandoc (from PyPI pypandoc-binary) on the markdown the engine writes."""

from __future__ import annotations

import subprocess

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
