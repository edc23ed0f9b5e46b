"""Every surface an analyst or auditor reads is Chinese: each command's help, its normal output
and its usage and input errors are scanned for English words outside ids, paths, option names,
units and a short list of names (planbook's own commands, file formats)."""

from __future__ import annotations

import re

import pytest
from conftest import clone_build, copy_project

from planbook import cli

COMMANDS = ("plan", "period", "templates", "ingest", "status", "run", "render", "build",
            "trace", "verify", "sample")
ALLOWED = {
    "planbook", "new", *COMMANDS,
    "auto", "quarto", "builtin", "lead", "item", "default",  # choices, typed as shown
    "HTML", "PDF", "CSV", "JSON", "YAML", "SHA", "sha", "xlsx", "csv", "YYYY",
    "IPv",  # in the plan's own words (IPv6部署)
    "annual", "midterm", "final", "briefing",  # kind ids, as params files and --kind take them
    "jiande",  # the plan id
}
_NOT_WORDS = re.compile(
    r"--[\w-]+"  # option names
    r"|\S*[/\\]\S*"  # paths
    r"|\S+\.(?:yml|yaml|csv|xlsx|html|pdf|json|ipynb|svg|png|py)\b"  # file names
    r"|\b(?:ind|prj|fig|tbl|num|tab|task)[-_][\w-]*"  # ids and labels
    r"|\b(?:\d\d|a\d)_\w+"  # chapter keys (03_villages, a4_dossiers)
    r"|\b[0-9a-f]{12,}\b")  # hashes
_WORD = re.compile(r"[A-Za-z]{3,}")


def english(text: str, given: list[str] = ()) -> set[str]:
    """English words of `text`, less those the command was given (echoed back)."""
    return set(_WORD.findall(_NOT_WORDS.sub(" ", text))) - ALLOWED - {
        w for g in given for w in _WORD.findall(g)}


@pytest.fixture(scope="module")
def built(site_build, tmp_path_factory):
    """A copy of the session's builds (2026-10 among them): tests here ingest and re-render."""
    return clone_build(site_build, tmp_path_factory.mktemp("zh") / "project")


@pytest.fixture
def at(built, monkeypatch):
    monkeypatch.setenv("PLANBOOK_ROOT", str(built))
    monkeypatch.chdir(built)
    return built


def run(capsys, argv: list[str]) -> tuple[int, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse: --help and usage errors
        code = exit_.code
    got = capsys.readouterr()
    return code, got.out + got.err


@pytest.mark.parametrize("argv", [[], *([c] for c in COMMANDS), ["period", "new"]],
                         ids=lambda a: " ".join(a) or "planbook")
def test_help_is_chinese(capsys, argv):
    code, text = run(capsys, [*argv, "--help"])
    assert code == 0 and "用法：" in text and "选项" in text
    assert not english(text), text


@pytest.mark.parametrize("argv", [
    [], ["bild"], ["build"], ["plan", "--by", "x"], ["status", "--period", "2025", "--foo"],
    ["build", "--period", "2026-13"], ["build", "--period", "2026-12"],
    ["build", "--period", "2026-05..2026-01"], ["ingest", "x.csv", "--received", "soon"],
    ["status", "--period", "2025", "--data", "nowhere"], ["period"],
    ["period", "new", "2026-10"], ["period", "new", "2027-12"], ["period", "new", "2026-Q1"],
    ["run", "--period", "2026-10", "--force"],  # published: refused
    ["trace", "fig-nothing", "--period", "2026-10"], ["trace", "ind_nothing", "--period",
                                                      "2026-10"],
], ids=lambda a: " ".join(a) or "nothing")
def test_usage_and_input_errors_are_chinese(at, capsys, argv):
    code, text = run(capsys, argv)
    assert code in (1, 2) and "Traceback" not in text
    assert not english(text, argv), text


@pytest.mark.parametrize("argv", [
    ["plan"], ["plan", "--leads"], ["plan", "--leads", "--by", "status"],
    ["status", "--period", "2026-10"], ["status", "--period", "2025", "--latest"],
    ["trace", "ind_gdp", "--period", "2026-10"], ["verify", "--period", "2026-10"],
    ["build", "--period", "2026-10"], ["render", "--period", "2026-10", "--engine", "builtin"],
], ids=" ".join)
def test_normal_output_is_chinese(at, capsys, argv):
    code, text = run(capsys, argv)
    assert code == 0
    assert not english(text), text


def test_templates_and_their_ingest_are_chinese(at, capsys, tmp_path):
    code, text = run(capsys, ["templates", "--period", "2026-10", "--out", str(tmp_path)])
    assert code == 0 and not english(text), text
    template = tmp_path / "fagai-2026-10.csv"
    assert "部门报送" in template.read_text(encoding="utf-8-sig")  # the drop-down's word
    code, text = run(capsys, ["ingest", str(template), "--dry-run"])
    assert code == 0 and not english(text), text


def test_a_rebuild_says_what_its_cut_off_left_out(at, capsys):
    """Rows received after 2026-10's cut-off (2026-11-10) are named by the rebuild, with the
    command that takes them in, and counted as `status` counts them."""
    late = at / "late.csv"
    late.write_text("指标编号,期间,数值,单位,数据状态,数据来源,备注\n"
                    "ind_gdp,2026-Q3,420,亿元,暂定,统计快报,\n", encoding="utf-8")
    code, text = run(capsys, ["ingest", str(late), "--received", "2026-11-20"])
    assert code == 0, text
    code, text = run(capsys, ["build", "--period", "2026-10"])
    assert code == 0 and "输入未变" in text
    assert ("1 行晚于截止日期，未计入；如需纳入：planbook build --period 2026-10 --reissue"
            in text), text
    code, text = run(capsys, ["status", "--period", "2026-10"])
    assert "其后接收的 1 行未计入" in text


# A broken registry or params file: the fields and values the message quotes are typed as
# written (YAML keys, kinds, true/false), so they are allowed; every other word must be Chinese.
AS_WRITTEN = {"kind", "stock", "level", "cumulative", "share", "ceiling", "milestone",
              "quote", "lead", "basis", "stated", "true", "false", "date", "value", "year",
              "targets", "indicators", "plan_id", "period", "as_of", "data_dir",
              "frequency", "weekly", "quarterly", "monthly", "maybe", "data", "dir"}
BROKEN = {
    "registry": ("data/plan/indicators.yaml", [
        ("kind: level\n  direction: increase\n  frequency: quarterly",
         "kind: stock\n  direction: increase\n  frequency: weekly"),
        ("lead_stated: false", "lead_stated: maybe")], ["plan"]),
    "confirmation": ("data/plan/leads_confirmed.yaml", [  # the file holds none yet: `[]`
        ("\n[]\n", "\n- id: ind_gdp\n  lead: 住建局\n  confirmed_by: 工作专班\n  date: 2022-12-31\n"
             "- id: ind_nowhere\n  lead: 发改局\n  confirmed_by: 工作专班\n  date: 2026年5月\n")],
        ["plan", "--leads"]),
    "params missing key": ("params/2025.yml", [("kind: midterm\n", "")],
                           ["build", "--period", "2025"]),
    "params bad kind": ("params/2025.yml", [("kind: midterm", "kind: briefing")],
                        ["build", "--period", "2025"]),
    "params bad date": ("params/2025.yml", [('as_of: "2026-03-31"', 'as_of: "2026年3月底"')],
                        ["status", "--period", "2025"]),
    "params twice": ("params/2025.yml", [("plan_id:", "kind: annual\nplan_id:")],
                     ["build", "--period", "2025"]),
}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """An unbuilt copy, each case breaking one file and putting it back."""
    return copy_project(tmp_path_factory.mktemp("zh-broken") / "project")


@pytest.mark.parametrize("case", BROKEN)
def test_broken_registry_and_params_are_refused_in_chinese(fresh, capsys, monkeypatch, case):
    rel, edits, argv = BROKEN[case]
    monkeypatch.setenv("PLANBOOK_ROOT", str(fresh))
    monkeypatch.chdir(fresh)
    path = fresh / rel
    original = path.read_text(encoding="utf-8")
    text = original
    for old, new in edits:
        assert old in text, (rel, old)
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    try:
        code, out = run(capsys, argv)
    finally:
        path.write_text(original, encoding="utf-8")
    assert code in (1, 2) and "Traceback" not in out and "改正方法" in out, out
    assert not english(out, argv) - AS_WRITTEN, (english(out, argv) - AS_WRITTEN, out)
