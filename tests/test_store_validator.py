"""One validator for every reader of the store: a damaged store file is refused by status,
build, templates and ingest alike, naming file, row and column in Chinese, exit 2 (a
StoreDamaged, issue 24), never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from planbook import cli
from planbook.errors import StoreDamaged
from planbook.store.observations import load_observations

STORE = "observations/fagai.csv"


def damage(data: Path, change) -> None:
    path = data / STORE
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_bytes(change(lines))


def set_field(n: int, field: int, value: str):
    def change(lines):
        cells = lines[n - 1].split(",")
        cells[field] = value
        lines[n - 1] = ",".join(cells)
        return "\n".join(lines).encode("utf-8")
    return change


def text(lines) -> bytes:
    return "\n".join(lines).encode("utf-8")


# case id, change, row, column, message fragment
CASES = [
    ("inf", set_field(5, 2, "inf"), 5, "value", "数值不是有限的数"),
    ("nan", set_field(5, 2, "nan"), 5, "value", "数值不是有限的数"),
    ("text", set_field(5, 2, "约546"), 5, "value", "数值不是有限的数"),
    ("empty value", set_field(5, 2, ""), 5, "value", "数值不是有限的数"),
    ("period", set_field(3, 1, "2025-13"), 3, "period", "不是期间"),
    ("status", set_field(3, 4, "final"), 3, "status", "未知的数据状态"),
    ("revision", set_field(3, 8, "x"), 3, "revision", "不是 ≥ 1 的整数"),
    ("duplicate", lambda lines: text([*lines[:-1], lines[4], ""]), None, "revision",
     "重复"),
    ("truncated row", lambda lines: text([lines[0], lines[1][:40], *lines[2:]]), 2, None,
     "字段数少于"),
    ("extra field", lambda lines: text([lines[0], lines[1] + ",x", *lines[2:]]), 2, None,
     "字段数多于"),
    ("dropped column", lambda lines: text([",".join(r.split(",")[:-1]) for r in lines]), 1,
     "file_sha256", "缺少此列"),
    ("gbk", lambda lines: "\n".join(lines).encode("gb18030"), 2, None, "不是 UTF-8"),
    ("空文件", lambda lines: b"", 1, None, "空文件"),
    ("未知指标", set_field(3, 0, "ind_nothing"), 3, "indicator_id",
     "未知指标"),
]


@pytest.fixture
def copy(project, tmp_path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(project / "data", data)
    return data


@pytest.mark.parametrize("case,change,row,column,message", CASES, ids=[c[0] for c in CASES])
def test_status_refuses_a_damaged_store_naming_where(copy, capsys, case, change, row, column,
                                                     message):
    damage(copy, change)
    assert cli.main(["--data", str(copy), "status", "--period", "2025"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "数据存储（observations）已损坏" in err
    found = [x for x in err.splitlines() if message in x]
    assert len(found) == (2 if case == "duplicate" else 1), err  # both rows of a duplicate
    line = found[0]
    assert "data/observations/fagai.csv" in line
    if row is not None:
        assert f"第 {row} 行" in line
    if column is not None:
        assert f"“{column}”列" in line


@pytest.mark.parametrize("argv", [
    ["build", "--period", "2025"], ["templates", "--period", "2025", "--out", "{tmp}/t"],
    ["ingest", "{tmp}/x.csv"], ["status", "--period", "2025"], ["run", "--period", "2025"],
], ids=lambda a: a[0])
def test_every_command_reading_the_store_runs_the_validator(copy, tmp_path, capsys, argv):
    damage(copy, set_field(5, 2, "inf"))
    (tmp_path / "x.csv").write_text("指标编号,期间,数值\nind_gdp,2024,500\n", encoding="utf-8")
    before = (copy / STORE).read_bytes()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code = cli.main(["--data", str(copy), *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "数值不是有限的数" in err and "第 5 行" in err and "Traceback" not in err
    assert (copy / STORE).read_bytes() == before


def test_library_readers_refuse_too(copy):
    damage(copy, set_field(5, 2, "inf"))
    with pytest.raises(StoreDamaged, match="1 处问题"):
        load_observations(copy)


@pytest.mark.parametrize("change", [
    lambda t: t.encode("gb18030"),
    lambda t: t.replace("village_id", "vid", 1).encode("utf-8"),
    lambda t: (t + "x,y\n" + "a," * 40 + "\n").encode("utf-8"),
], ids=["gbk", "dropped column", "extra fields"])
def test_a_damaged_village_ledger_is_refused_without_a_traceback(copy, capsys, change):
    path = copy / "villages" / "villages.csv"
    path.write_bytes(change(path.read_text(encoding="utf-8")))
    assert cli.main(["--data", str(copy), "status", "--period", "2025"]) == 2
    err = capsys.readouterr().err
    assert "villages.csv" in err and "Traceback" not in err
