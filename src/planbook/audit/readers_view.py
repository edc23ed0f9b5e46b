"""What a reader sees, checked: the published pages' text against a re-render of the
re-execution, and the archived submissions against their names.

Hashes in the manifest only say the files are the ones the manifest lists; a page edited and
its hash updated in the manifest passes that check. So `verify` renders the re-executed
notebooks again (in its temporary project copy, with the published edition's number and
date) and compares, page by page, the text a reader reads: every HTML page's text and the
PDF's text (pdftotext). A page that differs is named with the registered labels whose
re-executed text it no longer shows, and the first line that differs.

An archived submission (data/submissions/<sha256>.<ext>) is named by the sha256 of its bytes
at intake; a file whose bytes no longer hash to its name was changed afterwards, and `trace`
must not cite it as the department's file.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from planbook import paths
from planbook.hashing import sha256_file

_SKIP = {"script", "style", "template"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self._skip += 1
        elif tag in {"p", "div", "tr", "li", "br", "h1", "h2", "h3", "h4", "table",
                     "section", "figcaption", "caption", "td", "th"}:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> list[str]:
    """The text lines of an HTML page as a reader sees them (markup, scripts, styles gone)."""
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    return [line for line in (" ".join(x.split()) for x in text.splitlines()) if line]


def pdf_text(pdf: Path) -> list[str] | None:
    """The PDF's text lines (pdftotext -layout off), None when pdftotext is not installed."""
    tool = shutil.which("pdftotext")
    if tool is None or not pdf.is_file():
        return None
    out = subprocess.run([tool, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         timeout=300, check=False)
    text = out.stdout.decode("utf-8", errors="replace")
    return [line for line in (" ".join(x.split()) for x in text.splitlines()) if line]


def docx_lines(docx: Path) -> list[str] | None:
    """The Word edition's text lines (book.docx.docx_text), None when it cannot be read."""
    import zipfile

    from planbook.book.docx import docx_text

    try:
        return [line for line in docx_text(docx).splitlines() if line]
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def _squash(lines: list[str]) -> str:
    # a number may wrap across lines on paper: compare without any white space
    return re.sub(r"\s+", "", "".join(lines))


def _first_difference(published: list[str], again: list[str]) -> str:
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, published, again,
                                                      autojunk=False).get_opcodes():
        if op != "equal":
            was = published[i1] if i1 < i2 else "（无）"
            now = again[j1] if j1 < j2 else "（无）"
            return f"已发布“{was[:80]}”，重新执行为“{now[:80]}”"
    return ""


def _labels_missing(published: list[str], again: list[str], entries: list[dict]) -> list[str]:
    """Registered numbers whose re-executed text the re-render shows and the page does not."""
    have, want = _squash(published), _squash(again)
    out = []
    for e in entries:
        text = re.sub(r"\s+", "", str(e.get("text") or ""))
        if e.get("kind") == "number" and text and text in want and text not in have:
            out.append(e["label"])
    return out


def _describe(name: str, published: list[str], again: list[str], entries: list[dict]) -> str:
    labels = _labels_missing(published, again, entries)
    named = f"（{'、'.join(labels[:8])}{' 等' if len(labels) > 8 else ''}）" if labels else ""
    return (f"{name}：读者看到的文字与重新执行的结果不同{named}；"
            f"{_first_difference(published, again)}")


def compare_pages(published: Path, again: Path, entries: list[dict], where: str) -> list[str]:
    """Every HTML page and the PDF of the edition at `published` against the re-render at
    `again`, by their text; one line per page that differs (`where`: the edition's path as
    messages print it, ending in /)."""
    problems = []
    pages = sorted({p.relative_to(again).as_posix() for p in (again / "html").rglob("*.html")}
                   | {p.relative_to(published).as_posix()
                      for p in (published / "html").rglob("*.html")})
    for rel in pages:
        mine, theirs = published / rel, again / rel
        if not theirs.is_file():
            problems.append(f"{where}{rel}：重新执行的结果没有这一页")
            continue
        if not mine.is_file():
            problems.append(f"{where}{rel}：已发布的报告缺少这一页")
            continue
        a = page_text(mine.read_text(encoding="utf-8", errors="replace"))
        b = page_text(theirs.read_text(encoding="utf-8", errors="replace"))
        if a != b:
            problems.append(_describe(f"{where}{rel}", a, b, entries))
    # the report, its Word edition and its 技术附件
    for name in ("report.pdf", "report.docx", "annex.pdf"):
        if not (published / name).is_file() and (
                not (again / name).is_file() or name.endswith(".docx")):
            # an edition published before the Word edition existed has none; a recorded one
            # that went missing is caught by its manifest hash
            continue
        if not (again / name).is_file():
            problems.append(f"{where}{name}：重新执行的结果没有这个文件")
            continue
        if not (published / name).is_file():
            problems.append(f"{where}{name}：已发布的报告缺少这个文件")
            continue
        read = docx_lines if name.endswith(".docx") else pdf_text
        a, b = read(published / name), read(again / name)
        if a is not None and b is not None and a != b:
            problems.append(_describe(f"{where}{name}", a, b, entries))
    return problems


def tampered_submissions(data: Path) -> list[Path]:
    """Archived submissions whose bytes no longer hash to the sha256 they are named by."""
    folder = paths.archive_dir(data)
    if not folder.is_dir():
        return []
    out = []
    for f in sorted(folder.iterdir()):
        name = f.name.split(".", 1)[0]
        if f.suffix == ".json" or not f.is_file() or not re.fullmatch(r"[0-9a-f]{64}", name):
            continue
        if sha256_file(f) != name:
            out.append(f)
    return out


def intact(archived: Path) -> bool:
    """Whether an archived submission still hashes to its name."""
    return sha256_file(archived) == archived.name.split(".", 1)[0]
