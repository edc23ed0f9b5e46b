"""One exception family. Each error carries where the fault is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None  # as the spreadsheet shows it: header = row 1
    column: str | None = None  # the header as written
    entry: str | None = None  # registry entry id or indicator id
    field: str | None = None
    value: object = None
    expected: str | None = None
    cell: str | None = None  # as Excel names it (G4); set for a workbook, None for a CSV

    def location(self) -> str:
        """Where, in the clerk's words: 文件 x.xlsx，工作表“数据”，单元格 G4（数值）; a CSV has
        no cell names, so its row as the file shows it: 文件 x.csv，第 4 行“数值”列."""
        parts = []
        if self.file:
            parts.append(f"文件 {self.file}")
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.cell:
            parts.append(f"单元格 {self.cell}" + (f"（{self.column}）" if self.column else ""))
        elif self.row is not None:
            parts.append(f"第 {self.row} 行" + (f"“{self.column}”列" if self.column else ""))
        elif self.column:
            parts.append(f"“{self.column}”列")
        if self.entry:
            parts.append(f"条目 {self.entry}")
        if self.field:
            parts.append(f"字段 {self.field}")
        return "，".join(parts)

    def __str__(self) -> str:
        text = self.message
        loc = self.location()
        if loc:
            text = f"{loc}：{text}"
        if self.value is not None:
            seen = f"“{self.value}”" if isinstance(self.value, str) else str(self.value)
            text += f"；所见：{seen}"
        if self.expected:
            text += f"；应为：{self.expected}"
        return text


class PlanbookError(Exception):
    """Base of every error planbook raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        lines = [self.message]
        lines += [f"  - {p}" for p in self.problems]
        if self.hint:
            lines.append(f"  改正方法：{self.hint}")
        return "\n".join(lines)


class RegistryError(PlanbookError):
    """The plan registry (data/plan/*.yaml) is malformed."""


class PeriodError(PlanbookError):
    """A reporting period is malformed or outside the plan."""


class IntakeError(PlanbookError):
    """A submitted department file was refused; problems lists every row at fault."""


class ParamsError(PlanbookError):
    """A params/<period>.yml file is missing a key or has an unknown one."""


class ExecutionError(PlanbookError):
    """A chapter notebook failed while papermill executed it."""


class RenderError(PlanbookError):
    """The book could not be rendered."""


class VerifyError(PlanbookError):
    """A published report does not match what its manifest records."""


class UsageError(PlanbookError):
    exit_code = 2


@dataclass
class ProblemList:
    """Collects problems so validation reports all of them at once."""

    items: list[Problem] = field(default_factory=list)

    def add(self, message: str, **where) -> None:
        self.items.append(Problem(message, **where))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


class TraceError(PlanbookError):
    """`planbook trace` was given a label the period's register does not hold."""
