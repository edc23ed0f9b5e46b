"""Small helpers shared by the tests: render a resolved period with its register."""

from __future__ import annotations

from planbook.audit.register import register
from planbook.book.render import render
from planbook.run.period import ReportPeriod, resolve

__all__ = ["render_period", "resolve"]


def render_period(rp: ReportPeriod, **kwargs):
    """What `planbook render` does: the register of the executed notebooks, then the book."""
    return render(rp, register(rp), **kwargs)
