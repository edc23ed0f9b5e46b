"""The 指标档案's 历次评估 reads what was published (chapters.history): each edition's record
html/statuses.json, read by later reports with that report's own cut-off and edition; a period
never published, or whose record is damaged, is recomputed on this report's rows and says so.

The unit tests use a fake report; the end-to-end ones publish 2024 and then 2025 once in a copy
of the session's 2025 build (its run cache makes 2025 re-execute only the 指标档案)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import ROOT

from planbook.chapters import history
from planbook.chapters.dossier import Dossier
from planbook.hashing import sha256_file
from planbook.plan.params import load_params


def assessment(ind: str, status_zh: str, light: str, value=1.5):
    return SimpleNamespace(indicator_id=ind, status="on_track", status_zh=status_zh,
                           light=light, latest_value=value, latest_period="2024", unit="%")


def write(root: Path, period: str, **fields) -> Path:
    html = root / "reports" / period / "html"
    html.mkdir(parents=True, exist_ok=True)
    base = {"period": period, "kind": "annual", "as_of": "2025-03-31", "edition": 2,
            "edition_date": "2025-05-06",
            "assessments": [assessment("ind_a", "进展缓慢", "red")]}
    return history.write_record(html, **{**base, **fields})


# ------------------------------------------------------------------ the record


def test_a_record_is_deterministic_and_read_back(tmp_path):
    path = write(tmp_path, "2024", assessments=[assessment("ind_b", "符合进度", "green"),
                                                assessment("ind_a", "进展缓慢", "red",
                                                           float("nan"))])
    first = path.read_bytes()
    again = write(tmp_path, "2024", assessments=[assessment("ind_a", "进展缓慢", "red",
                                                            float("nan")),
                                                 assessment("ind_b", "符合进度", "green")])
    assert again.read_bytes() == first  # sorted keys, no times: same record, same bytes
    data = json.loads(first)
    assert data["indicators"]["ind_a"]["latest_value"] is None  # NaN is no number in JSON
    assert data["indicators"]["ind_b"] == {
        "status": "on_track", "status_zh": "符合进度", "light": "green", "latest_value": 1.5,
        "latest_period": "2024", "unit": "%"}
    found = history.read_record("2024", tmp_path)
    assert isinstance(found, history.Published)
    assert (found.as_of, found.edition, found.edition_zh) == (
        "2025-03-31", 2, "第2版·修订版（2025年5月6日）")
    assert history.read_record("2023", tmp_path) is None  # never published


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"period": "2024", "as_of": "2025-03-', "不是有效的JSON"),
    (b"\xff\xfe\x00garbage", "文件无法读取"),
    (b"[1, 2]", "内容不是记录"),
    (b'{"period": "2025", "as_of": "2025-03-31", "edition": 1, "indicators": {}}', "与2024不符"),
    (b'{"period": "2024", "as_of": "soon", "edition": 1, "indicators": {}}', "数据截至"),
    (b'{"period": "2024", "as_of": "2025-03-31", "edition": 0, "indicators": {}}', "版次"),
    (b'{"period": "2024", "as_of": "2025-03-31", "edition": 1, "indicators": {"a": 3}}',
     "状态和灯号"),
])
def test_a_damaged_record_is_named_never_raised(tmp_path, content, reason):
    path = write(tmp_path, "2024")
    path.write_bytes(content)
    found = history.read_record("2024", tmp_path)
    assert isinstance(found, history.Unreadable) and reason in found.reason


# ------------------------------------------------------------------ the table, on a fake report


def fake_report(root: Path):
    params = load_params("2025", root)
    now = {"ind_a": assessment("ind_a", "符合进度", "green")}
    recomputed = [assessment("ind_a", "需加快推进", "yellow")]
    return SimpleNamespace(params=params, period=params.parsed_period, by_id=now,
                           assess=lambda period: recomputed)


@pytest.fixture
def params_only(tmp_path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "params", tmp_path / "params")
    monkeypatch.setenv("PLANBOOK_ROOT", str(tmp_path))
    return tmp_path


def rows(dossier: Dossier, ind: str = "ind_a") -> dict[str, str]:
    """Table row by report name (first cell)."""
    out = {}
    for line in dossier.history_table(ind)[4:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[cells[0]] = " | ".join(cells[1:])
    return out


def test_published_read_with_its_own_cut_off_others_recomputed_and_marked(params_only):
    write(params_only, "2024")
    table = rows(Dossier(fake_report(params_only)))
    # the briefings cut off by 2025's cut-off (31 March): not March's (10 April)
    assert list(table) == ["2023年年度评估", "2024年年度评估", "2025年中期评估",
                           "2026年1月月度通报", "2026年2月月度通报"]
    # as 2024's second edition published it, with 2024's own cut-off
    assert table["2024年年度评估"] == "已发布第2版·修订版（2025年5月6日） | 2025年3月31日 | 进展缓慢 | 红灯"
    assert table["2025年中期评估"] == "本期 | 2026年3月31日 | 符合进度 | 绿灯"
    # never published: recomputed on this report's rows, with this report's cut-off named
    assert table["2023年年度评估"] == ("未发布，按本期数据重算 | 2026年3月31日（本期截止日） | "
                                   "需加快推进 | 黄灯")
    assert table["2026年2月月度通报"].startswith("未发布，按本期数据重算 | 2026年3月31日（本期截止日）")
    # an indicator the published edition did not assess
    assert rows(Dossier(fake_report(params_only)), "ind_new")["2024年年度评估"] == (
        "已发布第2版·修订版（2025年5月6日） | 2025年3月31日 | 该期报告未评估本指标 | —")


def test_the_listed_briefings_are_those_cut_off_by_the_reports_cut_off(params_only):
    from planbook.plan.periods import parse_period

    def listed(as_of: str) -> list[str]:
        return [p.period for p in history.earlier_periods(parse_period("2025"), as_of)]

    assert listed("2026-03-31") == ["2023", "2024", "2025", "2026-01", "2026-02"]
    # a re-issue cut off later: the last three briefings cut off by then
    assert listed("2026-11-30") == ["2023", "2024", "2025", "2026-08", "2026-09", "2026-10"]
    assert [p.name for p in history.record_inputs(load_params("2025", params_only))] == [
        "statuses.json"] * 4  # its own record is not an input


def test_a_damaged_record_is_marked_and_recomputed(params_only):
    write(params_only, "2024").write_text('{"period": "2024", "as_of"', encoding="utf-8")
    table = rows(Dossier(fake_report(params_only)))
    assert table["2024年年度评估"] == ("发布记录无法读取（不是有效的JSON），按本期数据重算 | "
                                   "2026年3月31日（本期截止日） | 需加快推进 | 黄灯")


def test_a_published_records_words_cannot_break_the_table(params_only):
    write(params_only, "2024", assessments=[assessment("ind_a", "进展|缓慢\n另起", "red")])
    line = Dossier(fake_report(params_only)).history_table("ind_a")[5]
    # the record's "|" escaped as a table cell's text (escape.md_cell), the line break a space
    assert len(re.findall(r"(?<!\\)\|", line)) == 6 and "进展\\|缓慢 另起" in line


# ------------------------------------------------------------------ end to end: 2024, then 2025


@pytest.fixture(scope="module")
def two_years(sample_build, tmp_path_factory) -> Path:
    """2024 published, then 2025, in a copy of the session's build (2025 unpublished first, its
    run cache kept: only the 指标档案, whose inputs now include 2024's record, re-executes)."""
    from conftest import build_at

    root = tmp_path_factory.mktemp("two-years") / "project"
    shutil.copytree(sample_build, root, symlinks=True)
    shutil.rmtree(root / "reports" / "2025")
    assert any("完成" in line for line in build_at(root, "2024"))
    lines = build_at(root, "2025")
    assert any("沿用缓存 10 个" in line for line in lines), lines
    return root


def history_text(nb: nbformat.NotebookNode, ind: str) -> str:
    """The 历次评估 table of one entry, from an executed 指标档案 notebook."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown", "")  # the entry's narrative
            if f"{{#{ind}}}" in text:
                return text[text.index("**历次评估**"):text.index("**数据来源与报送文件**")]
    raise AssertionError(f"no entry for {ind}")


def test_the_2025_dossier_shows_what_2024_published(two_years):
    record = two_years / "reports/2024/html/statuses.json"
    published = json.loads(record.read_text("utf-8"))
    assert published["period"] == "2024" and published["as_of"] == "2025-03-31"
    assert published["edition"] == 1 and len(published["indicators"]) == 107
    # 2024's manifest lists its record among what it published
    manifest_2024 = json.loads((two_years / "reports/2024/manifest.json").read_text("utf-8"))
    assert manifest_2024["outputs"]["html/statuses.json"] == sha256_file(record)

    nb = nbformat.read(two_years / "reports/2025/notebooks/a4_dossiers.ipynb", as_version=4)
    day = history.date_zh(published["edition_date"])
    for ind in ("ind_gdp", "ind_key_project_investment"):
        was = published["indicators"][ind]
        light = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "grey": "灰灯"}[was["light"]]
        text = history_text(nb, ind)
        assert (f"| 2024年年度评估 | 已发布第1版（{day}） | 2025年3月31日 | {was['status_zh']} | "
                f"{light} |") in text
        assert "| 2023年年度评估 | 未发布，按本期数据重算 | 2026年3月31日（本期截止日） |" in text
        assert "| 2025年中期评估 | 本期 | 2026年3月31日 |" in text
    html = (two_years / "reports/2025/html/a4_dossiers.html").read_text("utf-8")
    assert f"已发布第1版（{day}）" in html and "未发布，按本期数据重算" in html

    # the record is an input of 2025: in its manifest and in its 指标档案's run cache key
    manifest = json.loads((two_years / "reports/2025/manifest.json").read_text("utf-8"))
    assert manifest["inputs"]["reports/2024/html/statuses.json"] == sha256_file(record)
    cache = json.loads((two_years / "build/cache/2025/a4_dossiers.json").read_text("utf-8"))
    assert cache["inputs"]["reports/2024/html/statuses.json"] == sha256_file(record)
    assert cache["inputs"]["reports/2023/html/statuses.json"] == "missing"
    other = json.loads((two_years / "build/cache/2025/02_county.json").read_text("utf-8"))
    assert not any(k.startswith("reports/") for k in other["inputs"])


def test_verify_re_executes_with_the_records_it_was_built_from(two_years, monkeypatch):
    """verify's project copy carries 2024's record: the 指标档案 re-executed there (alone, to
    keep the test short) reads 2024 as published, like the published notebook."""
    from planbook.audit import verify
    from planbook.chapters.catalogue import DOSSIER_PAGE
    from planbook.run import execute
    from planbook.run.period import resolve

    monkeypatch.setenv("PLANBOOK_ROOT", str(two_years))
    rp = resolve("2025", two_years)
    assert verify.check(rp, rerun=False)[0] == []  # files and inputs as in the manifest
    [a4] = [c for c in rp.chapters if c.key == DOSSIER_PAGE]
    with verify.project_copy(rp) as copy:
        assert (copy.root / "reports/2024/html/statuses.json").read_bytes() == (
            two_years / "reports/2024/html/statuses.json").read_bytes()
        again = execute.execute_fresh(copy, chapters=[a4], timings=two_years)[a4.key]
    published = nbformat.read(two_years / "reports/2025/notebooks/a4_dossiers.ipynb",
                              as_version=4)
    for ind in ("ind_gdp", "ind_rural_power_reliability"):
        assert history_text(again, ind) == history_text(published, ind)


def test_a_changed_record_is_a_changed_input(two_years, monkeypatch):
    """Re-issuing (here: editing) 2024's record after 2025 was published: verify names it and a
    plain rebuild of 2025 is refused, naming it, instead of reusing a stale 指标档案; a damaged
    record does not stop the 指标档案 (Report and Dossier as the notebook runs them)."""
    from planbook.audit import verify
    from planbook.build import PublishedError, build
    from planbook.chapters.report import Report
    from planbook.run.period import resolve

    monkeypatch.setenv("PLANBOOK_ROOT", str(two_years))
    record = two_years / "reports/2024/html/statuses.json"
    kept = record.read_bytes()
    try:
        record.write_bytes(kept.replace(b'"edition": 1', b'"edition": 2'))
        rp = resolve("2025", two_years)
        problems, _ = verify.check(rp, rerun=False)
        assert problems == [p for p in problems if "reports/2024/html/statuses.json" in p] != []
        with pytest.raises(PublishedError) as refused:
            list(build("2025", engine="builtin", root=two_years))
        assert any(p.file == "reports/2024/html/statuses.json" for p in refused.value.problems)

        record.write_text('{"period": "2024", "as_of": "2025-03', encoding="utf-8")
        rep = Report.load(**rp.params.as_dict())
        head = Dossier(rep).head("ind_gdp")
        assert ("| 2024年年度评估 | 发布记录无法读取（不是有效的JSON），按本期数据重算 | "
                "2026年3月31日（本期截止日） |") in head
    finally:
        record.write_bytes(kept)


def test_a_later_edition_of_an_earlier_period_leaves_the_report_verifiable(two_years,
                                                                            monkeypatch):
    """2024 re-issued after 2025 was published (a real --reissue: edition 1 kept under
    reports/editions/2024/1/): 2025 read edition 1, which is still there unchanged, so its
    inputs still match, verify re-executes against edition 1's record, and a plain build of
    2025 leaves it as published. (Last in the module: it re-issues 2024.)"""
    from planbook.audit import verify
    from planbook.build import build
    from planbook.run.period import resolve

    monkeypatch.setenv("PLANBOOK_ROOT", str(two_years))
    first = (two_years / "reports/2024/html/statuses.json").read_bytes()
    lines = list(build("2024", engine="builtin", root=two_years, reissue=True))
    assert any("第2版" in line for line in lines), lines
    now = two_years / "reports/2024/html/statuses.json"
    assert json.loads(now.read_text("utf-8"))["edition"] == 2
    assert (two_years / "reports/editions/2024/1/html/statuses.json").read_bytes() == first

    rp = resolve("2025", two_years)
    assert verify.check(rp, rerun=False)[0] == []
    with verify.project_copy(rp) as copy:
        assert (copy.root / "reports/2024/html/statuses.json").read_bytes() == first
    lines = list(build("2025", engine="builtin", root=two_years))
    assert any("输入未变" in line for line in lines), lines
