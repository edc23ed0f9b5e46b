"""Text as text, never markup: one function per context a text lands in.

Every text a department or the evaluator writes (数据来源, 备注, statements, project reports,
evaluation words) — and any other text that is not the book's own markup — reaches a page
through one of these, so it shows character for character and runs nothing:

- `html_text`: HTML element content and attribute values (quotes escaped too).
- `md_text`: pandoc Markdown, the text of a paragraph: every ASCII punctuation character
  backslash-escaped (pandoc's all_symbols_escapable), so no link, image, autolink, raw
  HTML or raw block, attribute, div fence, math, footnote, heading, list, emphasis,
  citation or Quarto shortcode (`{{<`) forms, and no quote, `--` or `...` is made
  typographic (an escaped character is never smartened); a line break stays a hard break.
- `md_cell`: the same for a pipe-table cell, which is one line (breaks become spaces).
- `typst_text` / `typst_str`: typst markup and a typst string literal, for text written
  into typst directly (pandoc escapes the rest; assets/exact_text.lua keeps the `...` and
  `-?` its typst writer leaves to typst's shorthands).
- `csv_cell`: a spreadsheet cell that is never a formula (OWASP CSV injection).
"""

from __future__ import annotations

import html
import json
import re

# Every printable ASCII character that is not a letter, digit or space.
_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
# A cell that is a number a spreadsheet reads as that number (-12, -0.5, -1,234.5, -3.2%):
# its leading minus is a sign, not a formula, and stays (so numeric columns stay numbers).
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?%?")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def html_text(text: object) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape(str(text), quote=True)


def _md_line(line: str) -> str:
    return _PUNCT.sub(r"\\\1", line)


def md_text(text: object) -> str:
    """Text for pandoc Markdown inside a paragraph, shown exactly as written; line breaks are
    hard breaks (a blank line would end the paragraph and let the next line start a block)."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\\\n".join(_md_line(line) for line in lines)


def md_cell(text: object) -> str:
    """Text for one pandoc pipe-table cell: one line, every punctuation character (the cell
    separator | too) escaped."""
    return _md_line(" ".join(str(text).split()))


def typst_text(text: object) -> str:
    """Text for typst markup: every ASCII punctuation character escaped (#, $, [, ], *, _, `,
    <, @, =, -, +, /, ~, quotes, dots: code, math, labels, markup and shorthands)."""
    return _PUNCT.sub(r"\\\1", str(text))


def typst_str(text: object) -> str:
    """A typst string literal holding `text` (JSON's escapes are typst's)."""
    return json.dumps(str(text), ensure_ascii=False)


def formula_like(text: object) -> bool:
    """Text a spreadsheet would run as a formula: it starts with = + - @ tab or CR and is not
    a plain number (-3 is a number, -2+3 a formula)."""
    return (isinstance(text, str) and text.startswith(FORMULA_START)
            and not _NUMBER.fullmatch(text))


def csv_cell(value: object) -> str:
    """A CSV or workbook cell a spreadsheet shows as text: a formula-like one gets a leading
    apostrophe (OWASP), the same in every download, the data package and the templates."""
    text = "" if value is None else str(value)
    return "'" + text if formula_like(text) else text
