"""指标档案 (chapters.dossier) without a kernel: each entry's rows, from a store split once."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from planbook.chapters.dossier import Dossier
from planbook.plan.periods import parse_period
from planbook.store import observations


def store() -> pd.DataFrame:
    rows = []
    for i, (ind, period, rev, source) in enumerate([
        ("ind_a", "2025", 2, "统计局"), ("ind_b", "2024", 1, "住建局"), ("ind_a", "2024", 1, "统计局"),
        ("ind_a", "2025", 1, "统计局"), ("ind_a", "2025", 2, "补报"),  # a tie: stored order
        ("ind_b", "2026-03", 1, "住建局"),  # after the period
        ("ind_a", "2023", 3, "统计局"), ("ind_b", "2025-Q2", 1, "住建局"),
        ("ind_a", "2025", 2, "又一份"),
    ]):
        rows.append({"indicator_id": ind, "period": period, "value": float(i), "revision": rev,
                     "status": "sample", "source": source, "file": f"f{i}.csv",
                     "file_sha256": f"sha{i}"})
    return pd.DataFrame(rows).sample(frac=1, random_state=3)


def test_an_entrys_rows_are_its_own_sorted_as_the_store_lists_them():
    obs = store()
    period = parse_period("2025")
    dossier = Dossier(SimpleNamespace(observations=obs, period=period))
    for ind in ("ind_a", "ind_b", "ind_none"):
        expected = observations.upto(observations.rows_for(obs, [ind]), period).sort_values(
            ["period", "revision"], kind="stable")
        pd.testing.assert_frame_equal(dossier.rows(ind), expected)
    assert dossier.rows("ind_none").empty
    assert list(dossier.rows("ind_b")["period"]) == ["2024", "2025-Q2"]
