"""The 数据质量 revision table: most revised first, the first N listed, the rest counted."""

from __future__ import annotations

import pandas as pd

from planbook.chapters import display
from planbook.chapters.report import Report
from planbook.plan.params import load_params


def shown_tables(monkeypatch) -> list[dict]:
    out: list[dict] = []
    monkeypatch.setattr(display, "_display", out.append)
    return out


def test_revision_table_lists_the_most_revised_and_counts_the_rest(project, monkeypatch):
    rep = Report.load(**load_params("2025", project).as_dict())
    base = rep.observations[rep.observations["period"] == "2024"].head(12)
    extra = []
    for n, row in enumerate(base.itertuples(index=False)):
        for rev in range(2, 3 + n):  # entry n gets n + 1 corrections
            extra.append({**row._asdict(), "revision": rev, "value": row.value + rev})
    rep.observations = pd.concat([rep.observations, pd.DataFrame(extra)], ignore_index=True)
    tables = shown_tables(monkeypatch)
    rep.revision_table(top=5)
    [bundle] = tables
    md = bundle["text/markdown"].splitlines()
    rows = md[2:]
    assert len(rows) == 6  # five listed, one counting the other seven
    counts = [int(r.split("|")[3]) for r in rows[:5]]
    assert counts == [12, 11, 10, 9, 8]  # most revised first
    first = base.iloc[11]
    assert rep.registry.indicators[first["indicator_id"]].name_zh in rows[0]
    assert rows[0].count("→") == 12
    assert "其余7条经修订的数据" in rows[5] and int(rows[5].split("|")[3]) == sum(range(1, 8))
    assert "其余7条经修订的数据" in bundle["text/html"]


def test_revision_table_without_revisions_is_the_empty_table(project, monkeypatch):
    rep = Report.load(**load_params("2025", project).as_dict())
    tables = shown_tables(monkeypatch)
    rep.revision_table()
    # an empty table is a sentence, not a bare header (issue 26)
    assert tables[0]["text/markdown"].startswith("本期没有经过修订的观测值")
    assert "|" not in tables[0]["text/markdown"]
