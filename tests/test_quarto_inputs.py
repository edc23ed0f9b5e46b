"""What Quarto would read, checked without Quarto: the executed notebooks of the sample data
for an annual period and a briefing, as published and as staged by `planbook render --engine
quarto` (book profile, index.qmd, staged chapters; the briefing's document project).

The rules come from Quarto 1.10.18's own source (/work/quarto-findings.md §1): an output
whose types Quarto cannot show prints "Unable to display output" into the page, and a figure
cell with more than one display output becomes a multi-output figure whose caption goes to
the first one. So every figure cell holds exactly one output, of a type Quarto renders, and no
output anywhere has another type; the audit records live in metadata Quarto ignores.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import copy_project
from support import resolve

from planbook.audit.register import register
from planbook.book.assets import TYPST_FONTS
from planbook.book.pages import cell_options
from planbook.book.quarto import write_quarto_document, write_quarto_index, write_quarto_profile
from planbook.book.spec import book_spec
from planbook.chapters import provenance
from planbook.run import execute

ANNUAL, BRIEFING = "2025", "2026-10"
# The MIME types Quarto renders in both html and typst (display-data.ts priority list).
RENDERABLE = {"image/svg+xml", "image/png", "text/markdown", "text/html", "text/plain"}


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    """2025 and 2026-10 run on the sample data, and their Quarto inputs staged."""
    root = copy_project(tmp_path_factory.mktemp("quarto-inputs") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLANBOOK_ROOT", str(root))
    for period in (ANNUAL, BRIEFING):
        rp = resolve(period, root)
        execute.run(rp, progress=False)
        book = book_spec(rp)
        if period == BRIEFING:
            write_quarto_document(book, root, sample_notice=True)
        else:
            write_quarto_profile(book, root, register(rp), sample_notice=True)
            write_quarto_index(book, root)
    yield root
    mp.undo()


def _notebooks(root: Path, period: str) -> dict[str, list[Path]]:
    quarto = root / "build" / "quarto" / period
    return {"published": sorted((root / "reports" / period / "notebooks").glob("*.ipynb")),
            "staged": sorted(quarto.glob("book/*.ipynb"))
            + sorted(quarto.glob("document/*.ipynb"))}


@pytest.mark.parametrize("period", [ANNUAL, BRIEFING])
def test_every_output_is_of_a_type_quarto_renders(staged, period):
    found = _notebooks(staged, period)
    assert found["published"] and found["staged"]
    figures = 0
    for path in found["published"] + found["staged"]:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            where = f"{path.relative_to(staged)} cell {index}"
            # Cell metadata would become attributes of Quarto's cell div: planbook adds none.
            assert provenance.KEY not in cell.get("metadata", {}), where
            if cell.cell_type != "code":
                continue
            for output in cell.outputs:
                assert set(output.get("data", {})) <= RENDERABLE, where
            label = str(cell_options(cell.source).get("label") or "")
            if label.startswith("fig-"):
                figures += 1
                assert len(cell.outputs) == 1, where
                only = cell.outputs[0]
                assert only.output_type in ("display_data", "execute_result"), where
                assert only.data and set(only.data) <= RENDERABLE, where
                # The figure output carries its own audit record.
                assert provenance.cell_records(nb, index), where
    assert figures or period == BRIEFING


@pytest.mark.parametrize("period", [ANNUAL, BRIEFING])
def test_records_are_read_from_metadata(staged, period):
    """Numbers quoted in asis narrative cells are registered too, from the metadata of the
    cell's text/markdown output; figures and tables from their output's metadata."""
    entries = register(resolve(period, staged))
    numbers = [e for e in entries if e["kind"] == "number"]
    assert numbers and any(e["kind"] == "table" for e in entries)
    narrative = 0
    for path in _notebooks(staged, period)["published"]:
        nb = nbformat.read(path, as_version=4)
        assert not provenance.unstored(nb)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.outputs and all(
                    set(o.get("data", {})) == {"text/markdown"} for o in cell.outputs):
                records = provenance.cell_records(nb, index)
                narrative += bool(records)
                stored = cell.outputs[0].metadata.get("planbook", {}).get("provenance", [])
                assert len(stored) == len(records)
                for r in records:
                    assert any(e["label"] == r["id"] and e["cell_index"] == index
                               for e in numbers), r["id"]
    assert narrative


def _font_paths(root: Path, period: str) -> tuple[Path, list[str]]:
    """(project folder, every typst font-paths entry Quarto would use) for the period."""
    if period == BRIEFING:
        folder = root / "build" / "quarto" / period / "document"
        configs = [folder / "_quarto.yml"]
    else:  # the book's project: _quarto.yml merged with the profile (lists concatenate)
        folder = root / "build" / "quarto" / period / "book"
        configs = [folder / "_quarto.yml", folder / f"_quarto-{period}.yml"]
    found: list[str] = []
    for config in configs:
        cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
        found += cfg.get("format", {}).get("typst", {}).get("font-paths", [])
    return folder, found


@pytest.mark.parametrize("period", [ANNUAL, BRIEFING])
def test_font_paths_are_relative_and_hold_the_noto_fonts(staged, period, tmp_path):
    import typst
    from pypdf import PdfReader

    folder, font_paths = _font_paths(staged, period)
    assert font_paths
    for entry in font_paths:
        # Quarto joins a "/" path onto the project folder (quarto-cli #12695); a Python
        # version in the path would tie the render to one environment.
        assert not entry.startswith("/") and not re.search(r"python\d", entry), entry
        assert not re.match(r"^[A-Za-z]:[\\/]", entry), entry  # nor a Windows absolute path
        for name in TYPST_FONTS:
            assert (folder / entry / name).is_file(), f"{entry}/{name}"
    # typst finds the faces there, with no system font to fall back on.
    doc = tmp_path / "fonts.typ"
    doc.write_text('#set text(font: ("Noto Serif CJK SC",))\n'
                   '正文 #text(font: ("Noto Sans CJK SC",))[标题]\n', encoding="utf-8")
    pdf = tmp_path / "fonts.pdf"
    typst.compile(str(doc), output=str(pdf), ignore_system_fonts=True,
                  font_paths=[str(folder / p) for p in font_paths])
    used = {str(f.get_object()["/BaseFont"])
            for f in PdfReader(pdf).pages[0]["/Resources"]["/Font"].values()}
    assert any("NotoSerifCJKsc" in f for f in used) and any("NotoSansCJKsc" in f for f in used)


def _captions(root: Path, period: str) -> list[tuple[str, str]]:
    """(label, caption markdown) of every labelled figure and table Quarto would render."""
    out = []
    for path in _notebooks(root, period)["staged"]:
        for cell in nbformat.read(path, as_version=4).cells:
            opts = cell_options(cell.source) if cell.cell_type == "code" else {}
            label = str(opts.get("label") or "")
            if label.startswith(("fig-", "tbl-")):
                out.append((label, str(opts.get(label[:3] + "-cap"))))
    if period == ANNUAL:
        index = (root / "build" / "quarto" / period / "book" / "index.qmd").read_text(
            encoding="utf-8")
        out += [(m["label"], m["cap"]) for m in re.finditer(
            r"^!\[(?P<cap>.*)\]\([^)]*\)\{#(?P<label>fig-[\w-]+)", index, re.M)]
        out += [(m["label"], m["cap"]) for m in re.finditer(
            r"^: (?P<cap>.*) \{#(?P<label>tbl-[\w-]+)\}$", index, re.M)]
    return out


@pytest.mark.parametrize("period", [ANNUAL, BRIEFING])
def test_caption_links_render_once_in_each_format(staged, period):
    """Each caption's 溯源 link shows in HTML only and its label in typst only, written with
    pandoc (the writer Quarto runs) from the caption as Quarto parses it (markdown)."""
    import subprocess

    import pypandoc

    captions = _captions(staged, period)
    assert captions and all(label.startswith("tbl-") for label, _ in captions) == (
        period == BRIEFING)
    split = "\n\nPBSPLIT\n\n"
    doc = split.join(cap for _, cap in captions).encode("utf-8")
    for to in ("html5", "typst"):
        out = subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", to,
                              "--wrap=none"], input=doc, capture_output=True, check=True)
        parts = out.stdout.decode("utf-8").split("PBSPLIT")
        assert len(parts) == len(captions)
        for (label, cap), written in zip(captions, parts, strict=True):
            assert "content-visible" not in cap, label
            if to == "html5":
                assert written.count(">溯源</a>") == 1 and "〔" not in written, (label, written)
                # flat pages: the code page is one folder down from every page
                assert re.search(r'href="code/[\w-]+\.html#[\w-]+"', written), label
            else:
                assert written.count(f"〔{label}〕") == 1 and "溯源" not in written, (label, written)


def test_store_records_moves_them_out_of_the_outputs():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    def rec(kind, ident=None):
        return new_output("display_data", data={provenance.MIME: {"kind": kind, "id": ident,
                                                                  "text": "1", "inputs": []}})

    svg = new_output("display_data", data={"image/svg+xml": "<svg/>"})
    stdout = new_output("stream", name="stdout", text="正文\n")
    nb = new_notebook(cells=[
        new_code_cell("#| label: fig-x", outputs=[rec("figure"), svg]),
        new_code_cell("#| output: asis", outputs=[rec("number", "num-a"), stdout,
                                                  rec("number", "num-b")]),
    ])
    nb.cells[1]["id"] = "narrative"
    assert provenance.unstored(nb)
    assert provenance.store_records(nb) == 3 and not provenance.unstored(nb)
    assert provenance.store_records(nb) == 0  # already stored: unchanged
    assert nb.cells[0].outputs == [svg] and nb.cells[1].outputs == [stdout]
    assert [r["kind"] for r in provenance.cell_records(nb, 0)] == ["figure"]
    assert [r["id"] for r in provenance.cell_records(nb, 1)] == ["num-a", "num-b"]
    assert list(nb.metadata["planbook"]["provenance"]) == ["narrative"]
    nbformat.validate(nb)


def test_register_refuses_records_left_in_the_outputs(staged):
    """A notebook executed by an older planbook (records still outputs) is named, with the
    command that rewrites it, rather than read into a register missing its numbers."""
    from nbformat.v4 import new_output

    from planbook.errors import RenderError

    path = staged / "reports" / BRIEFING / "notebooks" / "briefing.ipynb"
    original = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.outputs)
    cell.outputs.append(new_output("display_data", data={provenance.MIME: {
        "kind": "number", "id": "num-old", "text": "1", "inputs": []}}))
    nbformat.write(nb, path)
    try:
        with pytest.raises(RenderError, match="来源记录仍是单元格输出") as err:
            register(resolve(BRIEFING, staged))
        assert "planbook run --period 2026-10 --force" in err.value.hint
    finally:
        path.write_bytes(original)


@pytest.mark.parametrize("period", [ANNUAL, BRIEFING])
def test_quarto_reads_text_as_written(staged, period):
    """Quarto's pandoc reads without `smart` and runs the exact-text filter, as the built-in
    engine does, so department quotes, -- and ... reach HTML and PDF as typed (issue 24)."""
    folder, _ = _font_paths(staged, period)
    config = folder / ("_quarto.yml" if period == BRIEFING else f"_quarto-{period}.yml")
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert cfg["from"] == "markdown-smart"
    filters = [f for f in cfg["filters"] if isinstance(f, str) and f.endswith("exact_text.lua")]
    assert filters and all((folder / f).is_file() for f in filters)


def test_quarto_pages_allow_only_their_own_inline_scripts(tmp_path):
    from planbook.book.quarto import inline_script_hashes, secure_page

    page = tmp_path / "index.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8">'
                    '<script>window.ok = 1;</script>'
                    '<script type="application/json">{"a": 1}</script>'
                    '<script src="site_libs/quarto.js"></script></head>'
                    '<body><p>x</p></body></html>', encoding="utf-8")
    hashes = inline_script_hashes(page.read_text(encoding="utf-8"))
    digest = base64.b64encode(hashlib.sha256(b"window.ok = 1;").digest()).decode()
    assert hashes == (f"sha256-{digest}",)
    secure_page(page)
    html = page.read_text(encoding="utf-8")
    # first in the head: a meta policy governs only what follows it
    assert html.index("Content-Security-Policy") < html.index("<script")
    policy = html.split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0]
    assert f"script-src 'self' '{hashes[0]}';" in policy and "unsafe-inline'; img" in policy
    assert "'unsafe-eval'" not in policy and "object-src 'none'" in policy
    secure_page(page)  # once only
    assert page.read_text(encoding="utf-8").count("Content-Security-Policy") == 1
    assert "unsafe-hashes" not in policy  # no inline event handler on this page


def test_quarto_pages_allow_quartos_own_event_handlers_and_no_other(tmp_path):
    from planbook.book.quarto import QUARTO_HANDLERS, handler_hashes, secure_page

    page = tmp_path / "index.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    f'<button onclick="{QUARTO_HANDLERS[0]}">目录</button>'
                    f"<a onclick='{QUARTO_HANDLERS[1]}'>搜索</a>"
                    '<img src="x.png" onerror="alert(1)" alt="x"></body></html>',
                    encoding="utf-8")
    digests = [base64.b64encode(hashlib.sha256(h.encode()).digest()).decode()
               for h in QUARTO_HANDLERS + ("alert(1)",)]
    assert handler_hashes(page.read_text(encoding="utf-8")) == tuple(
        f"sha256-{d}" for d in digests[:2])
    secure_page(page)
    policy = page.read_text(encoding="utf-8").split(
        'http-equiv="Content-Security-Policy" content="')[1].split('"')[0]
    assert f"'unsafe-hashes' 'sha256-{digests[0]}' 'sha256-{digests[1]}';" in policy
    assert digests[2] not in policy  # a handler Quarto did not write stays refused


def test_quarto_chapter_links_are_named_by_the_text_they_show(tmp_path):
    from planbook.book.quarto import secure_page

    page = tmp_path / "02_county.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    '<a href="./01_overall.html" class="pagination-link" aria-label="总体目标">'
                    '<span class="chapter-number">2</span>&nbsp; 总体目标</a>'
                    '<a href="x.csv" aria-label="下载表 2.1 的CSV文件">CSV</a></body></html>',
                    encoding="utf-8")
    secure_page(page)
    html = page.read_text(encoding="utf-8")
    assert '<a href="./01_overall.html" class="pagination-link">' in html
    assert 'aria-label="下载表 2.1 的CSV文件"' in html  # other names are left as written
