"""One check of every store file of the data package, before a command reads any of it.

`status` and `build` run it first, so a damaged file of any kind (observations, statements,
project stages, village records) stops them with a StoreDamaged naming file, row and column
(exit 2), before a notebook runs or anything is written, instead of a chapter failing on it.
"""

from __future__ import annotations

from pathlib import Path

from planbook.store import observations, statements, villages


def check_package(data: Path, registry, period: str | None = None, *,
                  whole: bool = False) -> None:
    """Read every store file (and `period`'s evaluation): StoreDamaged on the first damaged.
    `whole`: the caller reads the whole store next (observations.check_store)."""
    observations.check_store(data, registry, whole=whole)
    if period is not None:
        from planbook.store.evaluation import load_evaluation

        load_evaluation(data, period, registry)
    statements.load_statements(data)
    statements.load_project_stages(data)
    villages.read_records(data)
