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
    column: str | None = None
    entry: str | None = None  # registry entry id or indicator id
    field: str | None = None
    value: object = None
    expected: str | None = None

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        if self.entry:
            parts.append(f"entry {self.entry}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = self.message
        loc = self.location()
        if loc:
            text = f"{loc}: {text}"
        if self.value is not None:
            text += f" (seen: {self.value!r})"
        if self.expected:
            text += f"; expected: {self.expected}"
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
            lines.append(f"  fix: {self.hint}")
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
