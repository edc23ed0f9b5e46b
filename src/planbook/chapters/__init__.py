"""What a chapter notebook imports: the `Report` facade (and `Briefing`), the house-style
figures, the display helpers and the chapter catalogue.

    from planbook.chapters import Report, show_markdown

`Report` is loaded on first use, so the command line can read the catalogue without
importing pandas and matplotlib.
"""

from __future__ import annotations

from planbook.chapters.catalogue import ANNUAL, BRIEFING, REGISTER_PAGE, Chapter, chapters_for

__all__ = ["ANNUAL", "BRIEFING", "REGISTER_PAGE", "Briefing", "Chapter", "Report",
           "chapters_for", "show_markdown"]


def __getattr__(name: str):
    if name in ("Report", "Briefing"):
        from planbook.chapters import report

        return getattr(report, name)
    if name == "show_markdown":  # what a narrative cell calls (display.show_markdown)
        from planbook.chapters.display import show_markdown

        return show_markdown
    raise AttributeError(f"module 'planbook.chapters' has no attribute {name!r}")
