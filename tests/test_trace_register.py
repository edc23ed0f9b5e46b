"""Every printed count and share registered with exactly the rows it rests on; number hashes
that tell labels apart; `trace` naming the file of every row. On the session's 2025 build."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from support import resolve

from planbook import cli
from planbook.audit.register import number_sha256
from planbook.chapters import provenance
from planbook.hashing import sha256_file
from planbook.plan.registry import load_registry

PERIOD = "2025"
CHAPTER_OF = {"02_county": "三", "03_villages": "四", "04_integration": "五"}
SECTION = "一二三四五六七八九十"


@pytest.fixture(scope="module")
def entries(sample_build) -> dict[str, dict]:
    manifest = sample_build / "reports" / PERIOD / "manifest.json"
    return {e["label"]: e for e in json.loads(manifest.read_text("utf-8"))["register"]}


@pytest.fixture(scope="module")
def registry(sample_build):
    return load_registry(sample_build / "data")


@pytest.fixture
def at_root(sample_build, monkeypatch) -> Path:
    monkeypatch.setenv("PLANBOOK_ROOT", str(sample_build))
    monkeypatch.chdir(sample_build)
    return sample_build


def _printed(root: Path, notebook: str) -> str:
    nb = nbformat.read(root / "reports" / PERIOD / "notebooks" / f"{notebook}.ipynb",
                       as_version=4)
    # narrative is each asis cell's text/markdown display output (display.show_markdown)
    return "".join(o.get("data", {}).get("text/markdown", "") for c in nb.cells
                   if c.cell_type == "code" and "#| output: asis" in c.source
                   for o in c.get("outputs", []))


def _indicators(entry: dict) -> set[str]:
    """The indicators an entry's rows stand for: data rows, or registry entries."""
    return {r["indicator_id"].removeprefix(provenance.REGISTRY_INPUT) for r in entry["inputs"]}


def test_trace_finds_the_headline_green_share(at_root, entries, registry, capsys):
    label = f"num-all-green-share-{PERIOD}"
    entry = entries[label]
    # The share the summary page prints is the registered one.
    share = re.search(r"全部监测的.*?绿灯指标占([\d.]+%)", _printed(at_root, "00_summary"))[1]
    assert entry["text"] == share and entry["chapter"] == "00_summary"
    # It rests on every indicator counted (those without data by their registry entry).
    assert _indicators(entry) == set(registry.indicators)
    assert cli.main(["trace", label, "--period", PERIOD]) == 0
    out = capsys.readouterr().out
    assert f"数值:   {share}" in out and entry["sha256"] in out and "00_summary.ipynb" in out
    assert f"输入数据行（{len(entry['inputs'])}）" in out


def test_every_chapter_and_section_green_share_is_registered(at_root, entries, registry):
    for notebook, chapter in {"01_overall": "二", **CHAPTER_OF, "05_safeguards": "六"}.items():
        n = SECTION.index(chapter) + 1
        entry = entries[f"num-ch{n}-green-share-{PERIOD}"]
        assert entry["chapter"] == notebook
        assert f"绿灯指标占{entry['text']}" in _printed(at_root, notebook)
        home = {i.id for i in registry.home(chapter)}
        assert _indicators(entry) == home
    sections = [e for label, e in entries.items()
                if re.fullmatch(rf"num-s\d-\d-green-share-{PERIOD}", label)]
    assert len(sections) >= 10  # 三(一)… 五(三): every section with indicators


def test_named_counts_list_the_rows_they_are_computed_from(entries, registry):
    total = entries[f"num-all-total-{PERIOD}"]
    assert total["inputs"] and _indicators(total) == set(registry.indicators)
    better = entries[f"num-change-better-{PERIOD}"]
    assert better["value"] > 0 and better["inputs"]
    # This period's and the previous period's rows of the indicators that improved.
    periods = {r["period"] for r in better["inputs"]}
    assert PERIOD in periods and str(int(PERIOD) - 1) in periods
    # Every count and share of a status sentence, and every task's lights, rests on rows.
    family = re.compile(rf"num-(headline|all|ch\d|s\d-\d|task-[\d-]+)-.*{PERIOD}$|"
                        rf"num-(headline|all|ch\d|s\d-\d)-[a-z_]+-{PERIOD}$")
    counted = [e for label, e in entries.items() if family.fullmatch(label)]
    assert len(counted) > 100
    assert [e["label"] for e in counted if not e["inputs"]] == []
    # A status with no data is counted by the indicators' registry entries.
    no_data = entries[f"num-all-no_data-{PERIOD}"]
    assert len(_indicators(no_data)) == no_data["value"]
    assert {r["file"] for r in no_data["inputs"]} == {"plan/indicators.yaml"}


def test_trace_of_an_indicator_without_data_lists_the_counts_naming_it(at_root, entries):
    from planbook.audit.trace import lookup_indicator

    no_data = entries[f"num-all-no_data-{PERIOD}"]
    ind_id = sorted(_indicators(no_data))[0]
    found = lookup_indicator(ind_id, resolve(PERIOD, at_root))
    labels = {e["label"] for e in found["labels"]}
    assert {no_data["label"], f"num-all-total-{PERIOD}", "tbl-summary-chapters"} <= labels


def test_figures_and_tables_list_only_the_indicators_they_show(entries, registry):
    heatmap = entries["fig-county-heatmap"]
    chapter3 = {i.id for i in registry.indicators.values() if i.chapter == "三"}
    assert _indicators(heatmap) == chapter3
    # A section's figures and tables rest on that section's indicators only.
    checked = 0
    for label, e in entries.items():
        m = re.fullmatch(r"(fig|tbl)-[a-z]+-s(\d)(-[a-z]+)?", label)
        if not m or e["chapter"] not in CHAPTER_OF:
            continue
        section = f"{CHAPTER_OF[e['chapter']]}({SECTION[int(m[2]) - 1]})"
        own = {i.id for i in registry.indicators.values() if i.section == section}
        assert _indicators(e) <= own, label
        checked += 1
    assert checked > 20
    # Whole-report figures and tables: every indicator, each once counted.
    for label in ("fig-summary-heatmap", "tbl-summary-chapters", "fig-safeguards-scorecard"):
        assert _indicators(entries[label]) == set(registry.indicators), label


def test_distinct_labels_with_equal_text_get_distinct_hashes(entries):
    numbers = [e for e in entries.values() if e["kind"] == "number"]
    by_text: dict[str, list[dict]] = {}
    for e in numbers:
        by_text.setdefault(e["text"], []).append(e)
        # The hash an auditor recomputes from the entry: label, value, text.
        assert e["sha256"] == number_sha256(e["label"], e.get("value"), e["text"])
    shared = [group for group in by_text.values() if len(group) > 1]
    assert shared  # e.g. several counts print 1项
    for group in shared:
        assert len({e["sha256"] for e in group}) == len(group), group[0]["text"]
    # The value counts too: one label, same text, a value moved within the rounding.
    assert number_sha256("num-x", 58.88, "58.9%") != number_sha256("num-x", 58.91, "58.9%")


def test_trace_names_the_file_of_every_row(at_root, entries, capsys):
    rp = resolve(PERIOD, at_root)
    labels = [f"num-all-green-share-{PERIOD}", f"num-all-no_data-{PERIOD}",
              "tbl-county-projects", "num-villages-op50-2025", "eval-3-1-1-2025",
              next(label for label in entries if label.startswith("stmt-"))]
    sample_source = rp.data / "sample" / "sample-observations.csv"
    for label in labels:
        assert cli.main(["trace", label, "--period", PERIOD, "--json"]) == 0
        found = json.loads(capsys.readouterr().out)
        assert found["inputs"], label
        for row in found["inputs"]:
            # The data file the row lives in, under data/: the store CSV, the village
            # records, the evaluation, the registry.
            assert row["data_file"].startswith("data/"), row
            assert (at_root / row["data_file"]).is_file(), row
            # Its sha256 is of a file trace names (the submission or the data file itself),
            # or of the village records used.
            assert row["sha256_of"] in ("submission", "data_file", "records"), row
            if row["sha256_of"] == "submission":
                assert sha256_file(at_root / row["submission"]) == row["file_sha256"], row
            if row["indicator_id"].startswith("ind_") and row["sha256_of"] == "submission":
                assert row["data_file"].startswith("data/observations/")
                assert row["submission"] == rp.rel(sample_source)  # the sample's own file
        # The text output names a data file on every row line.
        assert cli.main(["trace", label, "--period", PERIOD]) == 0
        rows = capsys.readouterr().out.split("输入数据行")[1].splitlines()[1:]
        assert len(rows) == len(found["inputs"])
        assert all("数据文件 data/" in line for line in rows)


def test_input_rows_from_frame_records_carry_no_missing_cells(entries):
    row = provenance.input_row({"indicator_id": "ind_gdp", "period": "2025", "revision": 2,
                                "file": "observations/fagai.csv", "file_sha256": float("nan"),
                                "rows": float("nan")})
    assert row == {"indicator_id": "ind_gdp", "period": "2025", "revision": 2,
                   "file_sha256": "", "file": "observations/fagai.csv"}
    assert not [e["label"] for e in entries.values()
                if any(r.get("rows") == "nan" for r in e["inputs"])]
