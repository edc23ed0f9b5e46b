"""A damaged store file of any kind — observations, statements, project stages, village
records, an evaluation, the plan registry — stops `status`, `build` (and `ingest`, where it
reads that file) with exit 2, a Chinese message naming file, row and column, no traceback,
and nothing changed (issue 24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planbook import cli


def cells(rel: str, row: int, col: int, value: str):
    def change(data: Path) -> None:
        path = data / rel
        lines = path.read_text(encoding="utf-8").split("\n")
        parts = lines[row - 1].split(",")
        parts[col] = value
        lines[row - 1] = ",".join(parts)
        path.write_text("\n".join(lines), encoding="utf-8")
    return change


def lines(rel: str, edit):
    def change(data: Path) -> None:
        path = data / rel
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return change


def gbk(rel: str):
    def change(data: Path) -> None:
        path = data / rel
        path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    return change


def short_row(text: str) -> str:
    rows = text.split("\n")
    rows[1] = ",".join(rows[1].split(",")[:3])
    return "\n".join(rows)


def drop_column(text: str) -> str:
    return "\n".join(",".join(r.split(",")[:-1]) for r in text.split("\n"))


from planbook.store.statements import PROJECT_COLUMNS  # noqa: E402

OBS, STM, PRJ = "observations/fagai.csv", "statements/fagai.csv", "projects/jiaotong.csv"
VIL, EVA, REG = "villages/villages.csv", "evaluation/2025.yaml", "plan/tasks.yaml"
# id, damage, what the message must name (file, row, column), reads it: ingest too
CASES = [
    ("obs-short-row", lines(OBS, short_row), [OBS, "第 2 行"], True),
    ("obs-text-revision", cells(OBS, 3, 8, "二"), [OBS, "第 3 行", "“revision”列"], True),
    ("obs-text-value", cells(OBS, 5, 2, "约546"), [OBS, "第 5 行", "“value”列"], True),
    ("obs-gbk", gbk(OBS), [OBS, "第 2 行", "UTF-8"], True),
    ("obs-missing-column", lines(OBS, drop_column), [OBS, "第 1 行", "“file_sha256”列"], True),
    # an id the registry does not know: build checks the whole store read once (kept for
    # the build), status a chunk at a time; both name the row
    ("obs-unknown-indicator", cells(OBS, 2, 0, "ind_not_in_plan"),
     [OBS, "第 2 行", "ind_not_in_plan"], False),
    ("statements-short-row", lines(STM, short_row), [STM, "第 2 行"], False),
    ("statements-text-revision", cells(STM, 2, 9, "一"), [STM, "第 2 行", "“revision”列"], False),
    ("statements-gbk", gbk(STM), [STM, "第 2 行", "UTF-8"], False),
    ("projects-text-revision", cells(PRJ, 2, PROJECT_COLUMNS.index("revision"), "x"), [PRJ, "第 2 行", "“revision”列"], False),
    ("villages-gbk", gbk(VIL), [VIL, "第 2 行", "UTF-8"], False),
    ("villages-missing-column", lines(VIL, lambda t: t.replace("sewage", "sew", 1)),
     [VIL, "第 1 行", "sewage"], False),
    ("villages-text-year", cells(VIL, 4, 3, "二〇二三"), [VIL, "第 4 行", "“year”列"], False),
    ("villages-extra-field", cells(VIL, 3, 1, "a,b"), [VIL, "第 3 行"], False),
    ("evaluation-invalid-yaml", lines(EVA, lambda t: t.replace("\nstatus: sample", "\nstatus: a: b")),
     [EVA, "行", "YAML"], False),
    ("evaluation-wrong-type", lines(EVA, lambda t: t.split("tasks:")[0] + "tasks: 很好\n"),
     [EVA, "tasks"], False),
    ("evaluation-not-mapping", lines(EVA, lambda t: "- 1\n- 2\n"), [EVA, "映射"], False),
    ("registry-invalid-yaml", lines(REG, lambda t: t.replace("\n- id:", "\n- id: [", 1)),
     [REG, "行", "YAML"], True),
    ("registry-gbk", gbk(REG), [REG, "UTF-8"], True),
]


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {p.as_posix(): p.read_bytes() for f in folders if f.is_dir()
            for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case,damage,names,ingests", CASES, ids=[c[0] for c in CASES])
def test_a_damaged_store_file_is_named_and_changes_nothing(project, tmp_path, capsys, case,
                                                           damage, names, ingests):
    data = project / "data"
    damage(data)
    sub = tmp_path / "fagai.csv"
    sub.write_text("指标编号,期间,数值\nind_gdp,2024,500\n", encoding="utf-8")
    period = "2025" if case.startswith("evaluation") else "2026-10"
    commands = [["status", "--period", period],
                ["build", "--period", period, "--engine", "builtin"]]
    if ingests:
        commands.append(["ingest", "--received", "2026-01-15", str(sub)])
    before = snapshot(data, project / "reports")
    for argv in commands:
        code = cli.main(["--data", str(data), *argv])
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert "Traceback" not in err, err
        for name in names:
            assert name in err, (argv, name, err)
        assert snapshot(data, project / "reports") == before, argv


def _denied(monkeypatch, name: str) -> None:
    """EACCES reading one file, injected: as root a chmod does not deny anything, and running
    the command as another user would need the whole project readable by it."""
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == name:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)


@pytest.mark.parametrize("name", ["fagai.csv", "villages.csv", "2025.yaml"])
def test_a_store_file_without_read_permission_is_a_message(project, capsys, monkeypatch, name):
    data = project / "data"
    _denied(monkeypatch, name)
    assert cli.main(["--data", str(data), "status", "--period", "2025"]) == 2
    err = capsys.readouterr().err
    assert "没有写入或读取权限" in err and name in err and "Traceback" not in err, err


def test_a_submitted_file_without_read_permission_is_a_message(project, tmp_path, capsys,
                                                               monkeypatch):
    from planbook.store import submission

    data = project / "data"
    sub = tmp_path / "fagai.csv"
    sub.write_text("指标编号,期间,数值\nind_gdp,2024,500\n", encoding="utf-8")

    def denied(path, *args, **kw):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(submission, "open", denied, raising=False)
    before = snapshot(data)
    assert cli.main(["--data", str(data), "ingest", "--received", "2026-01-15", str(sub)]) == 2
    err = capsys.readouterr().err
    assert "没有写入或读取权限" in err and str(sub) in err and "Traceback" not in err, err
    assert snapshot(data) == before
