"""Small helpers shared by the tests: render a resolved period with its register; write a
small registry from Python data."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from planbook.audit.register import register
from planbook.book.render import render
from planbook.run.period import ReportPeriod, resolve

__all__ = ["render_period", "resolve", "write_plan"]


def render_period(rp: ReportPeriod, **kwargs):
    """What `planbook render` does: the register of the executed notebooks, then the book."""
    return render(rp, register(rp), **kwargs)


def write_plan(folder: Path, entries: dict, plan_text: str, mutate=None) -> Path:
    """A data folder with plan/plan.txt and one <name>.yaml per key of `entries` (a deep copy
    of it, first given to `mutate` when there is one, to break it on purpose); returns it."""
    data = json.loads(json.dumps(entries, ensure_ascii=False))
    if mutate:
        mutate(data)
    plan = folder / "plan"
    plan.mkdir(parents=True)
    (plan / "plan.txt").write_text(plan_text, encoding="utf-8")
    for name, rows in data.items():
        (plan / f"{name}.yaml").write_text(yaml.safe_dump(rows, allow_unicode=True),
                                           encoding="utf-8")
    return folder


def as_excel(rows: list[list[str]]) -> list[list]:
    """A download's CSV rows as its workbook holds them: below the header, a plain number or
    percentage is the number Excel reads (planbook.book.downloads.excel_number)."""
    from planbook.book.downloads import excel_number

    return rows[:1] + [[n[0] if (n := excel_number(c)) else c for c in r] for r in rows[1:]]
