"""One exception family. Each error carries where the fault is and how to fix it."""

from __future__ import annotations

import os
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


class StoreDamaged(PlanbookError):
    """A file of the data package (observations, statements, project stages, village records,
    an evaluation, the plan registry) cannot be read as written: exit 2, in Chinese, naming
    file, row and column."""

    exit_code = 2

    @classmethod
    def not_utf8(cls, where: object, raw: bytes, exc: UnicodeDecodeError, *,
                 hint: str) -> StoreDamaged:
        line = raw.count(b"\n", 0, exc.start) + 1
        return cls(f"文件 {where} 已损坏：第 {line} 行不是 UTF-8 文本（可能被另存为 GBK）",
                   hint=hint)

    @classmethod
    def yaml(cls, where: object, exc: Exception, *, hint: str) -> StoreDamaged:
        """Invalid YAML, at the line and column the parser stopped (PyYAML's marks count
        from 0)."""
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        at = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return cls(f"文件 {where} 已损坏：{at}不是有效的 YAML（{what}）", hint=hint)


class EnvironmentFault(PlanbookError):
    """The machine, not the input: disk full, a read-only folder, no permission. Exit 2."""

    exit_code = 2

    # errno name -> (what happened, how to fix it)
    WORDS = {
        "ENOSPC": ("磁盘空间已满", "腾出磁盘空间后重新运行同一命令"),
        "EDQUOT": ("磁盘配额已用完", "清理文件或提高配额后重新运行同一命令"),
        "EROFS": ("文件夹为只读（只读挂载）", "将该文件夹重新挂载为可写后重新运行同一命令"),
        "EACCES": ("没有写入或读取权限", "用有权限的账户运行，或用 chmod/chown 授予权限后重新运行"),
        "EPERM": ("操作不被允许", "用有权限的账户运行，或用 chmod/chown 授予权限后重新运行"),
        "EIO": ("磁盘读写错误", "检查磁盘后重新运行同一命令"),
    }

    @classmethod
    def from_os(cls, exc: OSError, path: object = None, doing: str = "写入", *,
                unchanged: bool = True) -> EnvironmentFault:
        """The fault in Chinese, naming the file; `unchanged`: the caller left the store and
        the published reports as they were (its writes are staged and were discarded)."""
        import errno as _errno

        name = _errno.errorcode.get(exc.errno or 0, "")
        what, fix = cls.WORDS.get(name, (exc.strerror or str(exc), "排除上述系统错误后重新运行同一命令"))
        where = path if path is not None else exc.filename
        text = f"无法{doing} {where}：{what}" if where else f"无法{doing}：{what}"
        kept = "；数据和已发布的报告未改动" if unchanged else ""
        err = cls(f"{text}（{name or exc.errno}）{kept}", hint=fix)
        err.errno = exc.errno
        return err

    @classmethod
    def from_tool(cls, text: str, path: object, doing: str = "写入") -> EnvironmentFault | None:
        """The fault a child tool (typst, pandoc, a kernel) reported in its own words —
        "(os error 28)", "[Errno 30]" or the strerror text — or None when it names none."""
        import errno as _errno
        import re

        found = re.search(r"os error (\d+)|\[Errno (\d+)\]", text)
        number = int(found[1] or found[2]) if found else next(
            (n for n in (_errno.ENOSPC, _errno.EROFS, _errno.EACCES, _errno.EDQUOT)
             if os.strerror(n) in text), None)
        if number not in (_errno.ENOSPC, _errno.EROFS, _errno.EACCES, _errno.EDQUOT,
                          _errno.EPERM, _errno.EIO):
            return None
        return cls.from_os(OSError(number, os.strerror(number)), path, doing)
