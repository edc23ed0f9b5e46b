"""Issue 23: the sample mark everywhere a number leaves the book. A report that used sample
data says 示例数据，非官方统计 on every page; its portal entry, every table download (CSV and
XLSX) and its data package say it too, and a real-data report's say nothing of it."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from support import as_excel

from planbook.book import portal
from planbook.book.spec import SAMPLE_NOTICE

PERIOD = "2025"


def _html(root: Path) -> Path:
    return root / "reports" / PERIOD / "html"


# --- the portal ------------------------------------------------------------------------------

def test_portal_marks_the_sample_build_and_says_so_at_the_top(sample_build):
    summary = json.loads((_html(sample_build) / portal.PERIOD_FILE).read_text(encoding="utf-8"))
    assert summary["sample"] is True  # the edition's record the portal reads
    page = (sample_build / "reports" / "index.html").read_text(encoding="utf-8")
    # At the top, before the heading: the notice as a labelled region, in words.
    top = page[page.index("<body>"):page.index("<h1>")]
    assert 'role="region" aria-label="数据说明"' in top and SAMPLE_NOTICE in top
    row = page[page.index(f'<tr id="p-{PERIOD}"'):]
    row = row[:row.index("</tr>")]
    assert f'<div class="pb-sample">{SAMPLE_NOTICE}</div>' in row
    [entry] = [e for e in portal.published(sample_build) if e["period"] == PERIOD]
    assert entry["sample"] is True


def test_portal_entry_of_real_data_is_unmarked():
    entry = {"period": "2024", "kind": "annual", "title": "t", "label": "2024年",
             "as_of": "2025-03-31", "edition": 1, "edition_date": "2025-04-01", "lights": {},
             "html": "2024/html/index.html", "pdf": "", "data": "", "current": True}
    real = portal.portal_html([{**entry, "sample": False}])
    body = real[real.index("<body>"):]  # (the style sheet names the classes)
    assert "示例" not in body and "pb-sample" not in body
    mixed = portal.portal_html([{**entry, "sample": False},
                                {**entry, "period": "2025", "html": "2025/html/index.html",
                                 "sample": True}])
    assert mixed.count(f'<div class="pb-sample">{SAMPLE_NOTICE}</div>') == 1
    row = mixed[mixed.index('<tr id="p-2024"'):]
    assert SAMPLE_NOTICE not in row[:row.index("</tr>")]
    assert 'class="pb-sample-banner"' in mixed[mixed.index("<body>"):]


def test_an_edition_without_the_record_is_read_from_its_first_page(tmp_path):
    """An edition published before period.json recorded `sample`: its banner decides."""
    reports = tmp_path / "reports"
    for period, banner in (("2024", ""), ("2025", '<div class="pb-sample-banner">x</div>')):
        html = reports / period / "html"
        html.mkdir(parents=True)
        (html / "index.html").write_text(f"<body>{banner}</body>", encoding="utf-8")
        (html / portal.PERIOD_FILE).write_text(json.dumps({"period": period, "kind": "annual"}),
                                               encoding="utf-8")
    found = {e["period"]: e["sample"] for e in portal.published(tmp_path)}
    assert found == {"2024": False, "2025": True}


# --- the downloads ---------------------------------------------------------------------------

def test_every_table_download_of_the_sample_build_carries_the_notice(sample_build):
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    folder = _html(sample_build) / "downloads"
    labels = sorted(p.stem for p in folder.glob("tbl-*.csv"))
    assert labels
    for label in labels:
        raw = (folder / f"{label}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), label
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0][-1] == "数据说明" and all(r[-1] == SAMPLE_NOTICE for r in rows[1:]), label
        sheet = load_workbook(folder / f"{label}.xlsx").active
        cells = [["" if c.value is None else c.value for c in r] for r in sheet.iter_rows()]
        assert cells[0][0] == SAMPLE_NOTICE, label
        width = len(rows[0]) - 1
        if width > 1:
            assert [str(r) for r in sheet.merged_cells.ranges] == [
                f"A1:{get_column_letter(width)}1"], label
        # Below the notice row, the table the CSV holds (without its notice column).
        # (a plain number is a number there, the CSV's printed text read as Excel reads it)
        assert [r[:width] for r in cells[1:]] == as_excel([r[:-1] for r in rows]), label


def test_data_package_of_the_sample_build_says_so_and_still_validates(sample_build, tmp_path):
    from frictionless import validate

    archive = _html(sample_build) / "downloads" / f"data-{PERIOD}.zip"
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path)
    report = validate(tmp_path / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    descriptor = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert SAMPLE_NOTICE in descriptor["title"] and SAMPLE_NOTICE in descriptor["description"]
    for resource in descriptor["resources"]:
        assert resource["schema"]["fields"][-1]["name"] == "notice"
        with open(tmp_path / resource["path"], encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert rows and {r["notice"] for r in rows} == {SAMPLE_NOTICE}, resource["name"]


def test_downloads_of_a_real_data_report_are_unmarked(sample_build, tmp_path):
    """The same report's data package and tables written as for real data: no notice."""
    from datetime import datetime

    from frictionless import validate
    from openpyxl import load_workbook

    from planbook.book.downloads import csv_bytes, write_data_package, xlsx_bytes
    from planbook.run.period import resolve

    rp = resolve(PERIOD, sample_build)
    manifest = json.loads((sample_build / "reports" / PERIOD / "manifest.json")
                          .read_text(encoding="utf-8"))
    path = write_data_package(rp, manifest["register"], tmp_path, sample=False)
    with zipfile.ZipFile(path) as z:
        z.extractall(tmp_path / "pkg")
        text = "".join(z.read(n).decode("utf-8") for n in z.namelist())
    assert SAMPLE_NOTICE not in text and "notice" not in text
    assert validate(tmp_path / "pkg" / "datapackage.json").valid
    marked = write_data_package(rp, manifest["register"], tmp_path / "m", sample=True)
    assert (tmp_path / "m" / "downloads" / path.name).read_bytes() == (
        _html(sample_build) / "downloads" / path.name).read_bytes() == marked.read_bytes()
    rows = [["指标", "值"], ["a", "1"]]
    assert "数据说明" not in csv_bytes(rows).decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(xlsx_bytes(rows, "t", datetime(2026, 3, 31)))).active
    assert sheet["A1"].value == "指标" and not sheet.merged_cells.ranges
