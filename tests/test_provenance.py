"""The audit trail: register, manifest, trace and verify, on real builds of the sample data.

2024, 2025 and the 2026-10 briefing are the run's builds (conftest `site_build`, shared with
other modules), in this module's own copy (`working_copy`); tests that alter a published or
input file restore it. Re-executions are the slow part, so only the clean 2025 verify re-runs
the annual notebooks; the briefing (one notebook) covers the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from nbclient import NotebookClient
from support import resolve

from planbook import cli
from planbook.audit.trace import lookup, trace
from planbook.audit.verify import verify
from planbook.build import build
from planbook.errors import TraceError, VerifyError

ANNUAL, BRIEFING = "2025", "2026-10"


def _build(root: Path, period: str, **kw) -> None:
    for _ in build(period, engine="builtin", root=root, **kw):
        pass


@pytest.fixture(scope="module")
def built(working_copy) -> Path:
    """The run's 2024, 2025 and 2026-10 builds, in this module's own copy (conftest
    `working_copy`), as the working root: its tests write there."""
    return working_copy


def _manifest(root: Path, period: str) -> dict:
    return json.loads((root / "reports" / period / "manifest.json").read_text(encoding="utf-8"))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_manifest_records_inputs_versions_outputs_and_register(built):
    m = _manifest(built, ANNUAL)
    assert m["parameters"]["period"] == ANNUAL and m["engine"] == "builtin"
    assert {"python", "papermill", "pandas", "matplotlib", "pandoc", "typst"} <= set(m["versions"])
    assert "dirty" in m["git"] and m["started_at"] <= m["finished_at"]
    assert any(k.startswith("data/observations/") for k in m["inputs"])
    assert "notebooks/02_county.ipynb" in m["inputs"] and "params/2025.yml" in m["inputs"]
    assert {"report.pdf", "html/index.html", "notebooks/02_county.ipynb",
            "html/code/02_county.html"} <= set(m["outputs"])
    kinds = {e["kind"] for e in m["register"]}
    assert kinds == {"figure", "table", "number"}
    keys = [(e["chapter"], e["label"]) for e in m["register"]]
    assert len(keys) == len(set(keys))
    fig = next(e for e in m["register"] if e["label"] == "fig-county-s1-trend")
    assert fig["inputs"] and set(fig["inputs"][0]) == {"indicator_id", "period", "revision",
                                                       "file", "file_sha256"}
    # The register hash of a figure is the hash of the figure file the HTML book publishes.
    svg = built / "reports" / ANNUAL / "html" / "02_county_files" / "fig-county-s1-trend.svg"
    assert _sha(svg.read_bytes()) == fig["sha256"]


def test_trace_figure_returns_its_cell_and_that_code_makes_the_figure(built, capsys):
    assert cli.main(["trace", "fig-county-s1-trend", "--period", ANNUAL, "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["notebook"] == f"reports/{ANNUAL}/notebooks/02_county.ipynb"
    assert entry["cell_id"] == "02-county-05" and "rep.trend_figure" in entry["code"]
    assert entry["parameters"]["period"] == ANNUAL and entry["inputs"]

    # Run the notebook's setup cells (parameters, then `#| include: false`) and the traced
    # cell's code in a fresh kernel: the figure it draws has the registered hash.
    executed = nbformat.read(built / entry["notebook"], as_version=4)
    setup = [c for c in executed.cells[:entry["cell_index"]] if c.cell_type == "code"
             and (c.id == "injected-parameters" or c.source.startswith("#| include: false"))]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.source) for c in setup]
                                  + [nbformat.v4.new_code_cell(entry["code"])])
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(built)}}).execute()
    svg = next(o["data"]["image/svg+xml"] for o in nb.cells[-1].outputs
               if "image/svg+xml" in o.get("data", {}))
    assert _sha(svg.encode("utf-8")) == entry["sha256"]


def test_trace_number_prints_its_input_rows(built, capsys):
    m = _manifest(built, ANNUAL)
    number = next(e for e in m["register"] if e["kind"] == "number" and len(e["inputs"]) > 2)
    assert trace(number["label"], resolve(ANNUAL, built)) == 0
    out = capsys.readouterr().out
    assert number["label"] in out and number["text"] in out and number["sha256"] in out
    for row in number["inputs"]:
        assert f"{row['indicator_id']}  {row['period']}  修订{row['revision']}" in out
    assert f"period={ANNUAL}" in out and number["notebook"] in out


def test_trace_takes_a_label_copied_from_the_pdf_register(built, capsys):
    # The PDF's register lets a label wrap after its underscores (zero-width spaces); pasted
    # into `planbook trace`, it still names the label.
    from planbook.chapters.display import breakable_id

    m = _manifest(built, ANNUAL)
    entry = next(e for e in m["register"] if "_" in e["label"])
    pasted = f" {breakable_id(entry['label'])}\n"
    assert pasted.strip() != entry["label"]
    assert cli.main(["trace", pasted, "--period", ANNUAL]) == 0
    assert entry["sha256"] in capsys.readouterr().out


def test_unknown_label_exits_1_and_lists_close_labels(built, capsys):
    assert cli.main(["trace", "fig-county-s1-trnd", "--period", ANNUAL]) == 1
    err = capsys.readouterr().err
    assert "fig-county-s1-trend" in err and "Traceback" not in err
    with pytest.raises(TraceError):
        lookup("nothing-like-this", resolve(ANNUAL, built))


def test_html_captions_link_to_existing_code_page_anchors(built):
    html_dir = built / "reports" / ANNUAL / "html"
    links = 0
    for page in html_dir.glob("*.html"):
        for href in re.findall(r'class="pb-trace" href="([^"]+)"', page.read_text("utf-8")):
            path, _, anchor = unquote(href).partition("#")
            target = html_dir / path
            assert target.is_file(), href
            assert f'id="{anchor}"' in target.read_text("utf-8"), href
            links += 1
    m = _manifest(built, ANNUAL)
    assert links == sum(e["kind"] in ("figure", "table") for e in m["register"])
    code = (html_dir / "code" / "02_county.html").read_text("utf-8")
    assert 'id="num-ch3-achieved-2025"' in code and "trend_figure" in code
    assert "../02_county.html" in code and "../../notebooks/02_county.ipynb" in code
    appendix = (html_dir / "a2_sources.html").read_text("utf-8")
    assert "图表与数字登记" in appendix and 'href="code/02_county.html#02-county-05"' in appendix


def test_pdf_captions_carry_the_label(built):
    from pypdf import PdfReader

    # the chapters' captions in the report; the register in the 技术附件
    for name, wanted in (("report.pdf", {"〔fig-county-s1-trend〕", "〔tbl-county-s1〕"}),
                         ("annex.pdf", {"图表与数字登记"})):
        for page in PdfReader(built / "reports" / ANNUAL / name).pages:
            text = page.extract_text()
            wanted = {w for w in wanted if w not in text}
            if not wanted:  # CJK text extraction is slow: stop at the first page that settles it
                break
        assert not wanted, name


def test_verify_passes_on_a_fresh_build(built, capsys):
    # Re-executes all notebooks into a temporary copy: every register hash reproduced.
    assert cli.main(["verify", "--period", ANNUAL]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"核验通过 {ANNUAL}：") and len(out.splitlines()) == 1
    assert "重新执行，结果一致" in out


def test_verify_names_a_published_figure_altered_by_one_byte(built):
    svg = built / "reports" / ANNUAL / "html" / "02_county_files" / "fig-county-s1-trend.svg"
    original = svg.read_bytes()
    svg.write_bytes(original[:-2] + bytes([original[-2] ^ 1]) + original[-1:])
    try:
        # Files only: re-execution is what the clean verify above exercises.
        with pytest.raises(VerifyError) as err:
            verify(resolve(ANNUAL, built), rerun=False)
    finally:
        svg.write_bytes(original)
    text = str(err.value)
    assert f"reports/{ANNUAL}/html/02_county_files/fig-county-s1-trend.svg" in text
    assert "在生成后已改动" in text


def test_verify_names_an_observation_file_changed_after_the_build(built, capsys):
    store = built / "data" / "observations" / "fagai.csv"
    original = store.read_bytes()
    lines = original.decode("utf-8").splitlines(keepends=True)
    # Change one value of a monthly-relevant indicator: the briefing's outputs move too.
    row = next(i for i, line in enumerate(lines) if line.startswith("ind_gdp,"))
    fields = lines[row].split(",")
    fields[2] = str(float(fields[2]) * 0.5)
    lines[row] = ",".join(fields)
    store.write_text("".join(lines), encoding="utf-8")
    try:
        assert cli.main(["verify", "--period", BRIEFING]) == 1
    finally:
        store.write_bytes(original)
    err = capsys.readouterr().err
    assert "data/observations/fagai.csv：输入文件在生成后已改动" in err


@pytest.mark.parametrize("source", ["book/methodology.qmd", "_quarto.yml"])
def test_verify_names_a_changed_book_source(built, source):
    path = built / source
    original = path.read_bytes()
    path.write_bytes(original + b"\n")
    try:
        with pytest.raises(VerifyError) as err:
            verify(resolve(ANNUAL, built), rerun=False)
    finally:
        path.write_bytes(original)
    assert f"{source}：输入文件在生成后已改动" in str(err.value)


def test_two_builds_give_identical_register_hashes(built, tmp_path):
    first = {(e["chapter"], e["label"]): e["sha256"] for e in _manifest(built, BRIEFING)["register"]}
    # A copy of the built project's inputs (not of the live repository, which may move on).
    again = tmp_path / "again"
    shutil.copytree(built, again, ignore=shutil.ignore_patterns("reports", "build"))
    _build(again, BRIEFING, force=True)
    second = {(e["chapter"], e["label"]): e["sha256"]
              for e in _manifest(again, BRIEFING)["register"]}
    assert first == second and len(first) > 10
    pdf = "reports/2026-10/report.pdf"
    assert _sha((built / pdf).read_bytes()) == _sha((again / pdf).read_bytes())


def test_briefing_has_a_manifest_and_trace_works(built, capsys):
    m = _manifest(built, BRIEFING)
    assert m["parameters"]["kind"] == "briefing" and m["register"]
    assert all(e["chapter"] == "briefing" for e in m["register"])
    assert cli.main(["trace", "tbl-briefing-warnings", "--period", BRIEFING]) == 0
    out = capsys.readouterr().out
    assert "briefing.ipynb" in out and "rep.warning_table(" in out
    assert (built / "reports" / BRIEFING / "html" / "code" / "briefing.html").is_file()


def test_quarto_chapters_are_staged_with_caption_links(built):
    from planbook.audit.register import register
    from planbook.book.quarto import quarto_source, write_quarto_profile
    from planbook.book.spec import book_spec

    rp = resolve(ANNUAL, built)
    folder = write_quarto_profile(book_spec(rp), built, register(rp)).parent
    page = next(p for p in book_spec(rp).pages if p.key == "02_county")
    staged = nbformat.read(folder / quarto_source(page), as_version=4)
    cell = next(c for c in staged.cells if c.get("id") == "02-county-05")
    assert "〔fig-county-s1-trend〕" in cell.source
    from planbook.book.pages import cell_options

    caption = cell_options(cell.source)["fig-cap"]
    assert 'href="code/02_county.html#02-county-05"' in caption  # flat: html/02_county.html
    published = nbformat.read(built / page.source, as_version=4)
    assert "溯源" not in next(c for c in published.cells if c.get("id") == "02-county-05").source
    a2 = next(p for p in book_spec(rp).pages if p.key == "a2_sources")
    last = nbformat.read(folder / quarto_source(a2), as_version=4).cells[-1]
    # labels are escaped for Markdown like every cell (escape.md_cell)
    assert last.cell_type == "markdown" and "fig\\-county\\-s1\\-trend" in last.source
    shutil.rmtree(built / "build" / "quarto", ignore_errors=True)
