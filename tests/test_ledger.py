"""Village ledger intake (村级台账): template, validation, all or nothing, revisions,
archive, idempotent resends; on a copy of the sample data."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from planbook import cli
from planbook.plan.registry import load_registry
from planbook.store import villages
from planbook.store.ledger import HEADERS

COLS = list(HEADERS)


@pytest.fixture
def template(project, capsys) -> Path:
    assert cli.main(["templates", "--period", "2025", "--out", str(project / "out")]) == 0
    capsys.readouterr()
    return project / "out" / "villages-2025.xlsx"


def fill(template: Path, dest: Path, *, edit=None, drop: int | None = None) -> Path:
    """The template filled from the stored 2025 records (as a town would), status official."""
    recs = villages.load_villages(template.parents[1] / "data", year=2025)
    recs = recs[recs["year"] == 2025].set_index("village_id")
    wb = openpyxl.load_workbook(template)
    ws = wb.worksheets[0]
    for r in range(2, ws.max_row + 1):
        vid = ws.cell(row=r, column=1).value
        for fld in ("total_income", "operating_income", *villages.FLAGS):
            ws.cell(row=r, column=COLS.index(fld) + 1, value=float(recs.at[vid, fld]))
        ws.cell(row=r, column=COLS.index("status") + 1, value="official")
        ws.cell(row=r, column=COLS.index("source") + 1, value="乡镇台账")
    if edit:
        edit(ws)
    if drop:
        ws.delete_rows(drop)
    wb.save(dest)
    return dest


def test_template_lists_every_village_in_its_town(template):
    ws = openpyxl.load_workbook(template).worksheets[0]
    assert [c.value for c in ws[1]] == list(HEADERS.values())
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == villages.VILLAGE_COUNT
    assert {r[2] for r in rows} == set(villages.TOWNS)
    notes = "\n".join(str(c.value) for c in openpyxl.load_workbook(template)["说明"]["A"])
    assert "自 2026-01-01 起可报送" in notes and "集体经济经营性收入50万元以上" in notes


def test_untouched_ledger_is_skipped(project, template, capsys):
    before = (project / "data/villages/villages.csv").read_bytes()
    assert cli.main(["ingest", str(template), "--received", "2026-01-15"]) == 0
    assert "[跳过]" in capsys.readouterr().out
    assert (project / "data/villages/villages.csv").read_bytes() == before


def test_ledger_is_stored_as_revisions_and_used_by_reports(project, template, capsys):
    data = project / "data"
    f = fill(template, project / "ledger.xlsx")
    assert cli.main(["ingest", str(f), "--received", "2026-02-15"]) == 0
    out = capsys.readouterr().out
    assert "[接受] ledger.xlsx" in out and "修订 229 行" in out
    recs = villages.load_villages(data, year=2025)
    assert set(recs[recs.year == 2025].status) == {"official"}
    derived = villages.derived_observations(load_registry(data), data)
    assert set(derived[derived.period == "2025"].status) == {"official"}
    assert set(derived[derived.period == "2024"].status) == {"sample"}
    # the cut-off: a report whose data end before the ledger arrived does not see it
    early = villages.load_villages(data, as_of="2026-02-01", year=2025)
    assert set(early[early.year == 2025].status) == {"sample"}
    # the same file again adds nothing
    before = (data / "villages/villages.csv").read_bytes()
    assert cli.main(["ingest", str(f)]) == 0
    assert "[已接收过]" in capsys.readouterr().out
    assert (data / "villages/villages.csv").read_bytes() == before

    # one corrected village: one revision, listed old → new; the others add nothing
    def edit(ws):
        ws.cell(row=2, column=COLS.index("gongfu_station") + 1,
                value=1 - int(ws.cell(row=2, column=COLS.index("gongfu_station") + 1).value))
    g = fill(template, project / "ledger2.xlsx", edit=edit)
    assert cli.main(["ingest", str(g), "--received", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert "修订 1 行、与已存相同 228 行未新增版次" in out and "共富驿站" in out
    raw = villages.read_records(data)
    first = raw[(raw.year == 2025) & (raw.status == "official")]
    assert sorted(first.revision.astype(int).unique()) == [2, 3]
    record = json.loads(next((data / "submissions").glob("*.json")).read_text("utf-8"))
    assert record["receptions"][0]["outcome"] in ("accepted", "duplicate")


def test_bad_ledgers_are_refused_whole_with_every_problem(project, template):
    from planbook.store.ledger import ingest

    data = project / "data"
    before = (data / "villages/villages.csv").read_bytes()

    def edit(ws):
        ws.cell(row=3, column=COLS.index("sewage") + 1, value=2)
        ws.cell(row=4, column=COLS.index("operating_income") + 1, value=999999)
        ws.cell(row=5, column=COLS.index("total_income") + 1, value="约80")
    f = fill(template, project / "bad.xlsx", edit=edit, drop=6)
    report = ingest([f], data, received=None, today=None, check=False)
    assert not report.ok
    text = "\n".join(str(p) for p in report.problems)
    assert "单元格 H3（污水处理设施覆盖），条目 V002：只能填 1 或 0" in text
    assert "单元格 F4（集体经济经营性收入（万元）），条目 V003：经营性收入大于年收入" in text
    assert "单元格 E5（集体经济年收入（万元）），条目 V004：数值不是数字" in text
    assert "台账不完整" in text and "缺 1 个行政村" in text
    assert (data / "villages/villages.csv").read_bytes() == before
    assert (data / "submissions").is_dir()  # archived with its outcome


def test_a_year_not_ended_is_reported_once(project, capsys):
    assert cli.main(["templates", "--period", "2026", "--out", str(project / "o")]) == 0
    capsys.readouterr()
    t = project / "o" / "villages-2026.xlsx"
    wb = openpyxl.load_workbook(t)
    ws = wb.worksheets[0]
    for r in range(2, ws.max_row + 1):
        for fld in ("total_income", "operating_income", *villages.FLAGS):
            ws.cell(row=r, column=COLS.index(fld) + 1, value=1)
    wb.save(t)
    assert cli.main(["ingest", str(t), "--received", "2026-11-20"]) == 1
    out = capsys.readouterr().out
    assert out.count("年份尚未结束") == 1 and "2026 年自 2027-01-01 起可报送" in out
