"""Intake under hostile input: concurrent writers, zip bombs, million-row sheets, huge cells,
devices and pipes. Memory-hungry cases run `planbook ingest` in a subprocess under an
address-space limit (resource.setrlimit), so a regression fails with a MemoryError instead of
swapping the machine. Same small registry fixture as test_intake.py.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

import planbook
from planbook.store import sheets, submission
from planbook.store.intake import ingest
from planbook.store.observations import read_store_file

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
TODAY = date(2026, 11, 15)
HEADER = "指标编号,期间,数值,单位,数据状态,数据来源,备注\n"
SRC = Path(planbook.__file__).resolve().parents[1]
# The address space a whole `planbook ingest` process may use: the interpreter with pandas,
# numpy and openpyxl loaded takes about 210 MiB of it; the README promises 500 MiB.
MEMORY_LIMIT = 500 * 2**20


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(FIXTURES / "plan", folder / "plan")
    return folder


def run(files, data: Path, **kw):
    return ingest([Path(f) for f in files], data, today=TODAY, check=False, **kw)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1"}


def cli_limited(data: Path, *files: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """`planbook --data D ingest FILES` in a subprocess limited to MEMORY_LIMIT."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run([sys.executable, "-m", "planbook.cli", "--data", str(data), "ingest",
                           *map(str, files)], capture_output=True, text=True, env=_env(),
                          preexec_fn=limit, timeout=timeout)


def template_xlsx(rows, *, hidden: list | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报"
    ws.append(HEADER.strip().split(","))
    for r in rows:
        ws.append(r)
    if hidden is not None:
        other = wb.create_sheet("备用")
        other.append(HEADER.strip().split(","))
        for r in hidden:
            other.append(r)
        other.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_sheet_xml(xlsx: bytes, change) -> bytes:
    """The workbook with its first sheet's XML replaced by change(xml)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode("utf-8")).encode("utf-8")
            z.writestr(info.filename, content)
    return out.getvalue()


# ---------------------------------------------------------------- 1. concurrent ingests

WORKER = textwrap.dedent("""
    import sys, time
    from datetime import date
    from pathlib import Path
    from planbook.store.intake import ingest
    data, me, rounds, go = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    while not go.exists():
        time.sleep(0.01)
    for n in range(rounds):
        f = data.parent / f"w{me}-{n}.csv"
        value = 980 + me + n / 100  # distinct, and close enough to pass the plausibility check
        f.write_text("指标编号,期间,数值\\n" f"gdp,2024,{value}\\n", encoding="utf-8")
        report = ingest([f], data, today=date(2026, 11, 15), check=False)
        assert report.ok, report.summary_lines()
""")


def test_concurrent_ingests_lose_no_accepted_revision(data, tmp_path):
    go = tmp_path / "go"
    workers, rounds = 4, 8
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(data), str(w), str(rounds),
                               str(go)], env=_env(), stderr=subprocess.PIPE, text=True)
             for w in range(workers)]
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    store = read_store_file(data / "observations" / "fagai.csv")
    values = sorted(round(v, 2) for v in store["value"].tolist())
    assert values == sorted(980 + w + n / 100 for w in range(workers) for n in range(rounds))
    assert sorted(store["revision"].tolist()) == list(range(1, workers * rounds + 1))
    package = json.loads((data / "observations" / "datapackage.json").read_text("utf-8"))
    assert [r["path"] for r in package["resources"]] == ["fagai.csv"]


# ---------------------------------------------------------------- 2. bounded input


def test_zip_bomb_is_refused_before_it_is_inflated(data, tmp_path):
    row = '<row><c t="inlineStr"><is><t>gdp</t></is></c></row>'
    bomb = with_sheet_xml(template_xlsx([]), lambda xml: xml.replace(
        "</sheetData>", row * (submission.MAX_UNZIPPED_BYTES // len(row) + 1000) + "</sheetData>"))
    f = tmp_path / "bomb.xlsx"
    f.write_bytes(bomb)
    assert f.stat().st_size < 2 * 2**20  # a small file …
    done = cli_limited(data, f)  # … that would unzip past the memory limit
    assert done.returncode == 1, done.stderr
    assert "解压后过大" in done.stdout and "Traceback" not in done.stderr


def test_a_million_blank_rows_stop_at_the_end_of_the_data(data, tmp_path):
    def blank_rows(xml: str) -> str:
        rows = "".join(f'<row r="{n}"/>' for n in range(4, 1_048_577))
        return xml.replace("</sheetData>", rows + "</sheetData>").replace(
            'ref="A1:G3"', 'ref="A1:G1048576"')

    f = tmp_path / "blank.xlsx"
    f.write_bytes(with_sheet_xml(template_xlsx([["gdp", "2024", 980, "亿元", "", "", ""],
                                                ["farmland", "2024", 0.6, "万亩", "", "", ""]]),
                                 blank_rows))
    done = cli_limited(data, f)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "读取 2 行 = 接受 2 行" in done.stdout


def test_the_sheets_recorded_size_is_not_trusted(data, tmp_path):
    f = tmp_path / "dimension.xlsx"
    f.write_bytes(with_sheet_xml(template_xlsx([["gdp", "2024", 980, "亿元", "", "", ""]]),
                                 lambda xml: xml.replace('ref="A1:G2"', 'ref="A1:XFD1048576"')))
    report = run([f], data, dry_run=True)
    assert report.ok and report.rows_read == 1


def test_data_after_blank_rows_is_still_read(data, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(["gdp", "2024", 980])
    ws.cell(row=5000, column=1, value="farmland")
    ws.cell(row=5000, column=2, value="2024")
    ws.cell(row=5000, column=3, value=0.6)
    f = tmp_path / "gap.xlsx"
    wb.save(f)
    report = run([f], data, dry_run=True)
    assert report.ok and report.rows_read == 2


def test_duplicate_rows_cost_linear_memory_and_a_bounded_record(data, tmp_path):
    f = tmp_path / "dups.csv"
    f.write_text(HEADER + "gdp,2024,980,亿元,,,\n" * 20_000, encoding="utf-8")  # 580 KB
    done = cli_limited(data, f)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "共 20000 个问题" in done.stdout
    assert "等，共 20000 行" in done.stdout  # ten rows listed, the rest counted
    [record] = (data / "submissions").glob("*.json")
    assert record.stat().st_size < 1_000_000
    saved = json.loads(record.read_text("utf-8"))["receptions"][0]
    assert saved["problem_count"] == 20_000
    assert len(saved["problems"]) == submission.MAX_PROBLEMS


def test_blank_lines_in_a_csv_cost_nothing(data, tmp_path):
    f = tmp_path / "blank.csv"
    f.write_text(HEADER + "gdp,2024,980,亿元,,,\n" + ",,,,,,\n" * 300_000 + "\n" * 300_000
                 + "farmland,2024,0.6,万亩,,,\n", encoding="utf-8")
    report = run([f], data, dry_run=True)
    assert report.ok and report.rows_read == 2
    assert report.files[0].problems == []


def test_more_filled_rows_than_the_limit_are_refused(data, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_ROWS", 5)  # read where the rows stream past
    f = tmp_path / "rows.csv"
    f.write_text(HEADER + "".join(f"gdp,2024-{m:02d},1,亿元,,,\n" for m in range(1, 8)),
                 encoding="utf-8")
    x = tmp_path / "rows.xlsx"
    x.write_bytes(template_xlsx([["gdp", f"2024-{m:02d}", 1] for m in range(1, 8)]))
    report = run([f, x], data)
    assert [p.message for p in report.problems] == [
        "行数过多：超过 5 行数据"] * 2
    assert not (data / "observations").exists()


def test_a_file_larger_than_the_limit_is_refused_unread(data, tmp_path):
    f = tmp_path / "huge.csv"
    with open(f, "wb") as fh:
        fh.truncate(submission.MAX_FILE_BYTES + 1)  # sparse: no disk used
    report = run([f], data)
    [p] = report.problems
    assert "文件过大" in p.message and "20.0 MiB" in p.message
    assert report.files[0].archived is None and not (data / "submissions").exists()


def test_devices_pipes_and_folders_are_refused_before_reading(data, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it would block until a writer came
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")  # reading it would never end
    done = subprocess.run([sys.executable, "-m", "planbook.cli", "--data", str(data), "ingest",
                           str(fifo), str(folder), str(zero)], capture_output=True, text=True,
                          env=_env(), timeout=60)
    assert done.returncode == 1
    assert done.stdout.count("不是普通文件") == 3
    assert not (data / "submissions").exists()


def test_long_free_text_is_refused_where_it_is(data, tmp_path):
    f = tmp_path / "long.csv"
    f.write_text(HEADER + "gdp,2024,980,亿元,,统计局,\n"
                 + f"farmland,2024,0.6,万亩,,{'源' * 201},{'注' * 5_000_000}\n",
                 encoding="utf-8")
    report = run([f], data)
    found = {(p.row, p.column): p for p in report.problems}
    assert set(found) == {(3, "数据来源"), (3, "备注")}
    assert "超过 200 个字符" in found[(3, "数据来源")].message
    assert "超过 1000 个字符" in found[(3, "备注")].message
    assert found[(3, "备注")].value.endswith("…（共 5,000,000 字符）")
    assert report.files[0].record.stat().st_size < 10_000


def test_hidden_sheets_with_data_are_refused(data, tmp_path):
    f = tmp_path / "hidden.xlsx"
    f.write_bytes(template_xlsx([["gdp", "2024", 980]], hidden=[["farmland", "2024", 0.6]]))
    report = run([f], data)
    [p] = report.problems
    assert "隐藏的工作表" in p.message and p.sheet == "备用"
    assert not (data / "observations").exists()


# ---------------------------------------------------------------- archive and file modes


def test_archive_and_record_are_never_wider_than_the_source(data, tmp_path):
    f = tmp_path / "private.csv"
    f.write_text(HEADER + "gdp,2024,980,亿元,,,\n", encoding="utf-8")
    f.chmod(0o600)
    report = run([f], data)
    assert stat.S_IMODE(report.files[0].archived.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.files[0].record.stat().st_mode) == 0o600


def test_store_files_keep_their_modes(data, tmp_path):
    old = os.umask(0o022)
    try:
        f = tmp_path / "a.csv"
        f.write_text(HEADER + "gdp,2024,980,亿元,,,\n", encoding="utf-8")
        run([f], data)
        store = data / "observations" / "fagai.csv"
        package = data / "observations" / "datapackage.json"
        assert stat.S_IMODE(store.stat().st_mode) == 0o644  # the umask's, not mkstemp's 0600
        assert stat.S_IMODE(package.stat().st_mode) == 0o644
        store.chmod(0o664)
        f.write_text(HEADER + "gdp,2024,981,亿元,,,\n", encoding="utf-8")
        run([f], data)
        assert stat.S_IMODE(store.stat().st_mode) == 0o664
    finally:
        os.umask(old)
